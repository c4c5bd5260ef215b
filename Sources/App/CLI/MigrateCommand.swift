import ArgumentParser

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (serve does this too)."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await runCommand {
            try await common.withDatabase(checkingServiceRole: false) { _, _ in }
            print("migrations applied; schema version \(Migration.all.last?.version ?? 0)")
        }
    }
}
