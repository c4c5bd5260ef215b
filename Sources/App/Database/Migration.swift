import Logging
import PostgresNIO

/// One versioned step of the schema, compiled into the binary.
struct Migration: Sendable {
    let version: Int
    let name: String
    /// Statements run in order, in one transaction (PostgreSQL's extended protocol takes one at a time).
    let statements: [String]

    /// Every migration, oldest first. Append; never edit one that has shipped.
    static let all: [Migration] = [
        .initialSchema, .costLedger, .costByInstance, .oneRoundTrip, .costAttribution, .documentSizes, .leastPrivilege, .usageFlushIDs,
        .opaqueVersions, .commitDeadline, .overheadByItem,
    ]
}

/// Applies pending migrations. Safe to run from several instances at once: the whole run holds a
/// transaction-scoped advisory lock, so one applies and the others then find nothing to do.
enum Migrator {
    /// `hashtext('runway.migrations')` would do too; a fixed key keeps it readable in pg_locks.
    static let advisoryLockKey: Int64 = 0x72_75_6e_77_61_79  // "runway"

    /// Applies what is missing and returns the versions it applied.
    @discardableResult
    static func migrate(
        client: PostgresClient,
        migrations: [Migration] = Migration.all,
        logger: Logger
    ) async throws -> [Int] {
        try await client.withConnection { connection in
            try await Database.transaction(on: connection, logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(advisoryLockKey))", logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS runway_schema_migrations (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    logger: logger
                )
                var applied = Set<Int>()
                for try await version in try await connection.query(
                    "SELECT version FROM runway_schema_migrations",
                    logger: logger
                ).decode(Int.self) {
                    applied.insert(version)
                }
                var done: [Int] = []
                for migration in migrations where !applied.contains(migration.version) {
                    logger.info("applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                    for statement in migration.statements {
                        // Migration text is ours, compiled in: the one place SQL is not a bound query.
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO runway_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                        logger: logger
                    )
                    done.append(migration.version)
                }
                return done
            }
        }
    }
}
