import ArgumentParser
import Foundation
import Logging
import TelemetryBootstrap

/// Options every command takes: where the database is. Flags override the environment.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Folder of the embedded database and admin token (RUNWAY_DATA_DIR).")
    var dataDirectory: String?

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL of the service's role (DATABASE_URL); unset: embedded.")
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (RUNWAY_LOG_LEVEL).")
    var logLevel: String?

    /// These flags over `configuration`.
    func resolve(into configuration: inout RunwayConfiguration) throws {
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        if let databaseURL { configuration.databaseURL = databaseURL }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
                throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = level
        }
    }

    /// Defaults, then the environment, then these flags.
    func configuration() throws -> RunwayConfiguration {
        var configuration = try RunwayConfiguration.read()
        try resolve(into: &configuration)
        return configuration
    }

    /// For commands other than `serve`: logs to stderr, prepares the database (starting the
    /// embedded one if needed) and runs `body` against it.
    /// - Parameter checkingServiceRole: off only for `migrate`, which may be given the owner's URL.
    func withDatabase<Value: Sendable>(
        checkingServiceRole: Bool = true,
        _ body: @Sendable (Database, Logger) async throws -> Value
    ) async throws -> Value {
        let configuration = try configuration()
        let logger = bootstrapCommandLogging(level: configuration.logLevel)
        return try await withPreparedDatabase(configuration, checkingServiceRole: checkingServiceRole, logger: logger) { database in
            try await body(database, logger)
        }
    }
}

/// Sets up swift-log once for a command other than `serve` (which uses ``LogBootstrap``): logs go
/// to stderr, so the command's stdout stays machine-readable.
func bootstrapCommandLogging(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "runway")
}

/// Runs a command's body against the prepared database (embedded or not), then lets go of it.
func withPreparedDatabase<Value: Sendable>(
    _ configuration: RunwayConfiguration,
    checkingServiceRole: Bool = true,
    logger: Logger,
    _ body: @Sendable (Database) async throws -> Value
) async throws -> Value {
    let prepared = try await DatabaseBootstrap.prepare(
        configuration: configuration,
        checkingServiceRole: checkingServiceRole,
        logger: logger
    )
    let result: Result<Value, any Error>
    do {
        result = .success(
            try await DatabaseBootstrap.withClient(prepared.endpoint, logger: logger) { client in
                // A command may read a long stretch of the ledger (`cost report`): no request is
                // waiting on it, so it waits for the database far longer than `serve` does.
                try await body(Database(client: client, timeout: .seconds(600)))
            }
        )
    } catch {
        result = .failure(error)
    }
    await prepared.embedded?.release()
    return try result.get()
}

/// Runs a command; a failure becomes one `error: …` line on stderr and exit status 1.
func runCommand(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ConfigurationError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode.failure
    } catch let error as CommandFailure {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode.failure
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(String(reflecting: error))\n".utf8))
        throw ExitCode.failure
    }
}

/// A command that could not do what was asked, with a message for the operator.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}
