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
    /// With `DATABASE_URL`, migrations run as the owner that `RUNWAY_MIGRATION_DATABASE_URL` names;
    /// without it, `runway migrate` runs them as `DATABASE_URL`'s role, and every other command
    /// only checks that the schema is current (the serving role can apply nothing).
    /// - Parameter checkingServiceRole: refuse a `DATABASE_URL` role that bypasses row-level
    ///   security or owns any of the schema (off only for `runway migrate`, which may be given
    ///   the owner's URL).
    /// - Parameter schemaWait: how long a schema older than this binary is waited for (a
    ///   `runway migrate` beside the service, as in the pod) before it is refused.
    static func prepare(
        configuration: RunwayConfiguration,
        checkingServiceRole: Bool = true,
        schemaWait: Duration = .zero,
        logger: Logger
    ) async throws -> PreparedDatabase {
        if let url = configuration.databaseURL {
            let endpoint = try DatabaseEndpoint(url: url)
            try endpoint.checkLocality(allowRemote: configuration.allowRemoteDatabase)
            if let owner = try configuration.migrationDatabaseURL.map(DatabaseEndpoint.init(url:)) {
                try owner.checkLocality(allowRemote: configuration.allowRemoteDatabase)
                try await migrate(owner, logger: logger)
            } else if !checkingServiceRole {
                try await migrate(endpoint, logger: logger)
            } else {
                try await checkSchemaIsCurrent(endpoint, waiting: schemaWait, logger: logger)
            }
            if checkingServiceRole { try await checkServiceRole(endpoint, logger: logger) }
            return PreparedDatabase(endpoint: endpoint, embedded: nil)
        }
        let cluster = try await EmbeddedPostgres.start(
            dataDirectory: configuration.dataDirectory,
            binDirectory: configuration.postgresBinDirectory,
            searchPath: configuration.executableSearchPath,
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

    /// Refuses a service role that would bypass row-level security, or could turn it off: a
    /// superuser, a BYPASSRLS role, or the owner of any table, function or schema in the database.
    static func checkServiceRole(_ endpoint: DatabaseEndpoint, logger: Logger) async throws {
        try await withClient(endpoint, logger: logger) { client in
            let rows = try await client.query(
                """
                SELECT r.rolsuper, r.rolbypassrls,
                    (SELECT count(*) FROM pg_class WHERE relowner = r.oid) + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
                        + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
                FROM pg_roles r WHERE r.rolname = current_user
                """,
                logger: logger
            )
            for try await (isSuper, bypasses, owned) in rows.decode((Bool, Bool, Int64).self) {
                if isSuper || bypasses {
                    throw ConfigurationError(
                        description:
                            "DATABASE_URL connects as '\(endpoint.username)', which bypasses row-level security (SUPERUSER or BYPASSRLS). Connect as a plain role that is a member of runway_app, and give the owner's URL as RUNWAY_MIGRATION_DATABASE_URL."
                    )
                }
                if owned > 0 {
                    throw ConfigurationError(
                        description:
                            "DATABASE_URL connects as '\(endpoint.username)', which owns \(owned) of the database's objects (an owner can turn row-level security off). Serve as a role that owns nothing and is a member of runway_app; give the owner's URL only to `runway migrate`, as RUNWAY_MIGRATION_DATABASE_URL."
                    )
                }
            }
        }
    }

    /// Refuses a database whose schema is older than this binary's: the serving role cannot apply
    /// migrations, the owner can (`runway migrate`).
    static func checkSchemaIsCurrent(_ endpoint: DatabaseEndpoint, waiting: Duration = .zero, logger: Logger) async throws {
        let latest = Migration.all.last?.version ?? 0
        let deadline = ContinuousClock.now + waiting
        let current = try await withClient(endpoint, logger: logger) { client in
            var logged = false
            while true {
                let current: Int
                do {
                    let rows = try await client.query("SELECT coalesce(max(version), 0) FROM runway_schema_migrations", logger: logger)
                    current = try await rows.decode(Int.self).first { _ in true } ?? 0
                } catch  where error.sqlState == "42P01" {
                    current = 0
                }
                guard current < latest, ContinuousClock.now < deadline else { return current }
                if !logged {
                    logger.notice(
                        "waiting for the schema: run `runway migrate` as its owner",
                        metadata: ["current": "\(current)", "needed": "\(latest)", "within": "\(waiting)"]
                    )
                    logged = true
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        guard current >= latest else {
            throw ConfigurationError(
                description:
                    "the database's schema is at version \(current) and this Runway needs \(latest): run `runway migrate` with the schema owner's URL in RUNWAY_MIGRATION_DATABASE_URL (or in DATABASE_URL for that command alone), or set RUNWAY_MIGRATION_DATABASE_URL for this command too"
            )
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
