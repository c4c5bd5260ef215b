import ArgumentParser

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (serve does this too)."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await runCommand {
            let configuration = try common.configuration()
            let logger = bootstrapLogging(level: configuration.logLevel, toStandardError: true)
            let prepared = try await DatabaseBootstrap.prepare(configuration: configuration, checkingServiceRole: false, logger: logger)
            await prepared.embedded?.release()
            print("migrations applied; schema version \(Migration.all.last?.version ?? 0)")
        }
    }
}
