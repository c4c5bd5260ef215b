import Foundation
import Logging
import PostgresNIO
import Testing

@testable import App

/// The throwaway PostgreSQL cluster that `scripts/test` starts: a Unix socket folder and a
/// superuser, from `RUNWAY_TEST_PG_SOCKET_DIR` and `RUNWAY_TEST_PG_SUPERUSER`.
///
/// One migrated database per test process; tenants keep tests apart, as they keep customers apart.
enum TestDatabase {
    struct Shared: Sendable {
        /// The service's client, connected as the `runway` role (subject to row-level security).
        let client: PostgresClient
        /// A superuser client on the same database, for assertions the service cannot make.
        let superuser: PostgresClient
        let databaseName: String
    }

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        return logger
    }()

    static func superuserEndpoint(database: String) throws -> DatabaseEndpoint {
        let environment = ProcessInfo.processInfo.environment
        guard let folder = environment["RUNWAY_TEST_PG_SOCKET_DIR"], let user = environment["RUNWAY_TEST_PG_SUPERUSER"] else {
            throw TestSetupError(
                description: "RUNWAY_TEST_PG_SOCKET_DIR is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL"
            )
        }
        let port = environment["RUNWAY_TEST_PG_PORT"] ?? "5432"
        return DatabaseEndpoint(socketPath: "\(folder)/.s.PGSQL.\(port)", username: user, database: database)
    }

    /// A new empty database, unique to the caller.
    static func createDatabase(prefix: String = "t") async throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await DatabaseBootstrap.withClient(try superuserEndpoint(database: "postgres"), logger: logger) { client in
            // The name is ours (hex), not input: identifiers cannot be bound.
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        return name
    }

    static let shared = Task<Shared, any Error> {
        let name = try await createDatabase(prefix: "runway_test")
        let owner = try superuserEndpoint(database: name)
        try await DatabaseBootstrap.migrate(owner, logger: logger)
        let superuser = PostgresClient(configuration: owner.clientConfiguration(maxConnections: 4), backgroundLogger: logger)
        Task { await superuser.run() }
        try await DatabaseBootstrap.createServiceRole(EmbeddedPostgres.appRole, client: superuser, logger: logger)
        var service = owner
        service.username = EmbeddedPostgres.appRole
        let client = PostgresClient(configuration: service.clientConfiguration(maxConnections: 8), backgroundLogger: logger)
        Task { await client.run() }
        return Shared(client: client, superuser: superuser, databaseName: name)
    }

    static func get() async throws -> Shared {
        try await shared.value
    }

    /// A configuration whose data directory is in a new temporary folder, removed after `body`:
    /// for tests of the embedded cluster. The folder is traversable by others, since the cluster
    /// runs as the `postgres` user when the tests run as root.
    static func withTemporaryDataDirectory<Result>(_ body: (RunwayConfiguration) async throws -> Result) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("runway-embedded-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o755)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = RunwayConfiguration(environment: [:])
        configuration.dataDirectory = folder + "/data"
        return try await body(configuration)
    }

    /// Runs `body` with a pool of its own on the shared database, as the service's role, set up
    /// as `serve` sets up its pool for a database timeout of `databaseTimeout`.
    static func withServiceClient<Result: Sendable>(
        maxConnections: Int,
        databaseTimeout: Duration,
        _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        var service = try superuserEndpoint(database: try await get().databaseName)
        service.username = EmbeddedPostgres.appRole
        let client = PostgresClient(
            configuration: service.clientConfiguration(
                maxConnections: maxConnections,
                statementTimeout: Database.statementTimeout(for: databaseTimeout)
            ),
            backgroundLogger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
}
