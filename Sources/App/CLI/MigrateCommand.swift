import ArgumentParser
import UnixSignals

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract:
            "Apply pending database migrations as the schema owner (serve does this only on its embedded database, or when given RUNWAY_MIGRATION_DATABASE_URL)."
    )

    @OptionGroup var common: CommonOptions
    @Flag(
        help:
            "Then keep running until SIGTERM or SIGINT: a migration container beside the service in a pod, whose containers are restarted when they exit."
    )
    var hold = false

    func run() async throws {
        try await runCommand {
            try await common.withDatabase(checkingServiceRole: false) { _, _ in }
            print("migrations applied; schema version \(Migration.all.last?.version ?? 0)")
        }
        guard hold else { return }
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { return }
    }
}
