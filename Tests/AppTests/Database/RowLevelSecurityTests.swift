import Foundation
import NIOCore
import PostgresNIO
import Testing

@testable import App

/// Row-level security holds even for SQL with no tenant filter at all.
@Suite struct RowLevelSecurityTests {
    @Test func unfilteredQueriesSeeOnlyTheCurrentTenantsRows() async throws {
        let app = try await TestApp()
        let shared = try await TestDatabase.get()
        let (a, _) = try await app.makeTenant()
        let (b, _) = try await app.makeTenant()
        let logger = TestDatabase.logger
        for (tenant, docs) in [(a, ["a1", "a2"]), (b, ["b1"])] {
            _ = try await app.services.documents.createCollection("rls", tenant: .trusted(tenant.id), logger: logger)
            for id in docs {
                _ = try await app.services.documents.put(
                    id,
                    in: "rls",
                    body: ByteBuffer(string: #"{"x":1}"#),
                    precondition: .none,
                    tenant: .trusted(tenant.id),
                    logger: logger
                )
            }
        }
        let database = app.services.database
        let seenByA = try await database.withTenant(.trusted(a.id), .select("documents"), logger: logger) { connection in
            var ids: [String] = []
            for try await id in try await connection.query("SELECT id FROM documents", logger: logger).decode(String.self) {
                ids.append(id)
            }
            return ids.sorted()
        }
        #expect(seenByA == ["a1", "a2"])
        let collectionsSeenByB = try await database.withTenant(.trusted(b.id), .select("documents"), logger: logger) { connection in
            try await connection.query("SELECT tenant_id FROM collections", logger: logger).collect().count
        }
        #expect(collectionsSeenByB == 1)

        // No tenant set: nothing at all.
        let unscoped = try await database.clients.current.client.query("SELECT count(*) FROM documents", logger: logger).collect()
        #expect(try unscoped.first?.decode(Int64.self) == 0)

        // Writing a row for another tenant is refused by the policy's WITH CHECK.
        await #expect(throws: (any Error).self) {
            try await database.withTenant(.trusted(a.id), .select("documents"), logger: logger) { connection in
                try await connection.query(
                    "INSERT INTO documents (tenant_id, collection, id, body) VALUES (\(b.id), 'rls', 'forged', '{}'::jsonb)",
                    logger: logger
                )
            }
        }
        do {
            _ = try await database.withTenant(.trusted(a.id), .select("documents"), logger: logger) { connection in
                try await connection.query("UPDATE documents SET tenant_id = \(b.id)", logger: logger)
            }
            Issue.record("moved rows to another tenant")
        } catch {
            #expect(error.sqlState == "42501", "\(String(reflecting: error))")
        }

        // The superuser sees all three, so the rows are really there.
        let all = try await shared.superuser.query(
            "SELECT count(*) FROM documents WHERE tenant_id IN (\(a.id), \(b.id))",
            logger: logger
        ).collect()
        #expect(try all.first?.decode(Int64.self) == 3)
    }

    @Test func theServiceRoleOwnsNoTableAndCannotBypassRowLevelSecurity() async throws {
        let shared = try await TestDatabase.get()
        let logger = TestDatabase.logger
        let role = try await shared.client.query(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            logger: logger
        ).collect()
        let (name, isSuper, bypasses) = try #require(role.first).decode((String, Bool, Bool).self)
        #expect(name == "runway")
        #expect(!isSuper && !bypasses)
        let owned = try await shared.client.query(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user",
            logger: logger
        ).collect()
        #expect(try owned.first?.decode(Int64.self) == 0)
        let unprotected = try await shared.client.query(
            """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relname IN ('collections', 'documents', 'usage_daily')
              AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
            """,
            logger: logger
        ).collect()
        #expect(try unprotected.first?.decode(Int64.self) == 0)
    }
}
