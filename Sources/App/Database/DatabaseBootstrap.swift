import Foundation
import Logging
import PostgresNIO

/// Gets a database ready for the service: starts the embedded cluster when no `DATABASE_URL` is
/// set, applies migrations as the schema owner, and checks that the service's own role is
/// subject to row-level security.
struct PreparedDatabase: Sendable {
    /// How the service connects: a role without SUPERUSER or BYPASSRLS.
    var endpoint: DatabaseEndpoint
    /// The embedded cluster, when that is what is used; release it when done.
    var embedded: EmbeddedPostgres?
}

enum DatabaseBootstrap {
    /// - Parameter checkingServiceRole: refuse a `DATABASE_URL` role that bypasses row-level
    ///   security (off only for `runway migrate`, which may be given the owner's URL).
    static func prepare(
        configuration: RunwayConfiguration,
        checkingServiceRole: Bool = true,
        logger: Logger
    ) async throws -> PreparedDatabase {
        if let url = configuration.databaseURL {
            let endpoint = try DatabaseEndpoint(url: url)
            try endpoint.checkLocality(allowRemote: configuration.allowRemoteDatabase)
            let owner = try configuration.migrationDatabaseURL.map(DatabaseEndpoint.init(url:)) ?? endpoint
            try owner.checkLocality(allowRemote: configuration.allowRemoteDatabase)
            try await migrate(owner, logger: logger)
            if checkingServiceRole { try await checkServiceRole(endpoint, logger: logger) }
            return PreparedDatabase(endpoint: endpoint, embedded: nil)
        }
        let cluster = try await EmbeddedPostgres.start(
            dataDirectory: configuration.dataDirectory,
            binDirectory: configuration.postgresBinDirectory,
            logger: logger
        )
        do {
            try await ensureDatabase(cluster.endpoint(role: EmbeddedPostgres.superuser), logger: logger)
            let owner = cluster.endpoint(role: EmbeddedPostgres.superuser)
            try await migrate(owner, logger: logger)
            try await withClient(owner, logger: logger) { client in
                try await createServiceRole(EmbeddedPostgres.appRole, client: client, logger: logger)
            }
            return PreparedDatabase(endpoint: cluster.endpoint(role: EmbeddedPostgres.appRole), embedded: cluster)
        } catch {
            await cluster.release()
            throw error
        }
    }

    /// Applies pending migrations as `owner`.
    static func migrate(_ owner: DatabaseEndpoint, logger: Logger) async throws {
        try await withClient(owner, logger: logger) { client in
            try await Migrator.migrate(client: client, logger: logger)
        }
    }

    /// Creates the login role the service connects as, a member of `runway_app` (idempotent).
    /// `role` is a constant of ours: role names cannot be bound parameters.
    static func createServiceRole(_ role: String, client: PostgresClient, logger: Logger) async throws {
        precondition(role.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }, "role names are our own constants")
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    DO $$ BEGIN
                        CREATE ROLE \(role) LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE runway_app;
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                    END $$
                    """
            ),
            logger: logger
        )
    }

    /// Refuses a service role that would bypass row-level security.
    static func checkServiceRole(_ endpoint: DatabaseEndpoint, logger: Logger) async throws {
        try await withClient(endpoint, logger: logger) { client in
            let rows = try await client.query(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
                logger: logger
            )
            for try await (isSuper, bypasses) in rows.decode((Bool, Bool).self) where isSuper || bypasses {
                throw ConfigurationError(
                    description:
                        "DATABASE_URL connects as '\(endpoint.username)', which bypasses row-level security (SUPERUSER or BYPASSRLS). Connect as a plain role that is a member of runway_app, and give the owner's URL as RUNWAY_MIGRATION_DATABASE_URL."
                )
            }
        }
    }

    /// Creates the embedded cluster's `runway` database on first use.
    private static func ensureDatabase(_ superuser: DatabaseEndpoint, logger: Logger) async throws {
        var maintenance = superuser
        maintenance.database = "postgres"
        try await withClient(maintenance, logger: logger) { client in
            let rows = try await client.query("SELECT 1 FROM pg_database WHERE datname = \(superuser.database)", logger: logger)
            for try await _ in rows { return }
            do {
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(EmbeddedPostgres.databaseName)"), logger: logger)
            } catch  where error.sqlState == "42P04" {
                // Created by a process that got here first.
            }
        }
    }

    /// Runs `body` with a client that is running, and shuts it down afterwards.
    @discardableResult
    static func withClient<Result: Sendable>(
        _ endpoint: DatabaseEndpoint,
        maxConnections: Int = 2,
        logger: Logger,
        _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        // A short-lived client leases before its run() has started; PostgresNIO warns about that
        // race, which is harmless here. Real failures still surface as errors from the queries.
        var backgroundLogger = logger
        backgroundLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(
            configuration: endpoint.clientConfiguration(maxConnections: maxConnections),
            backgroundLogger: backgroundLogger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
