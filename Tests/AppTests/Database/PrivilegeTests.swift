import Foundation
import PostgresNIO
import Testing

@testable import App

/// The serving role owns nothing and changes platform tables only through the narrow functions:
/// a statement of its own that writes plans, tenants or keys, reads the key hashes, or turns
/// row-level security off is refused by PostgreSQL.
@Suite struct PrivilegeTests {
    @Test(arguments: [
        "INSERT INTO plans (name, monthly_price_micros, requests_per_second, burst) VALUES ('sneaky', 0, 1000, 1000)",
        "UPDATE tenants SET plan = 'enterprise'",
        "DELETE FROM api_keys",
        "SELECT secret_hash FROM api_keys",
        "INSERT INTO api_keys (key_id, tenant_id, secret_hash) VALUES ('k', gen_random_uuid(), '\\x00')",
        "ALTER TABLE documents DISABLE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON documents",
    ])
    func theServiceRoleIsRefused(_ statement: String) async throws {
        let shared = try await TestDatabase.get()
        await #expect {
            try await shared.client.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger)
        } throws: { error in
            // 42501 insufficient_privilege; 42501 too for "must be owner of table".
            error.sqlState == "42501"
        }
    }

    @Test func theServiceRoleOwnsNothing() async throws {
        let shared = try await TestDatabase.get()
        let rows = try await shared.client.query(
            """
            SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
                + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
            FROM pg_roles r WHERE r.rolname = current_user
            """,
            logger: TestDatabase.logger
        ).collect()
        #expect(try rows.first?.decode(Int64.self) == 0)
    }

    @Test func theNarrowFunctionsDoWhatTheAdminAPINeeds() async throws {
        let app = try await TestApp()
        let tenants = app.services.tenants
        let logger = TestDatabase.logger
        let (tenant, key) = try await app.makeTenant(plan: "free")
        #expect(try await tenants.authenticate(try #require(APIKey(parsing: Substring(key))), logger: logger)?.plan == "free")
        let moved = try await tenants.changePlan(tenant: tenant.id, plan: "pro", logger: logger)
        #expect(moved.plan == "pro")
        let rotated = try await tenants.rotateKey(tenant: tenant.id, logger: logger)
        #expect(try await tenants.tenant(tenant.id, logger: logger)?.keyIDs == [rotated.id])
        await #expect(throws: TenantStore.Failure.unknownTenant) {
            try await tenants.rotateKey(tenant: UUID(), logger: logger)
        }
        await #expect(throws: TenantStore.Failure.unknownPlan) {
            try await tenants.changePlan(tenant: tenant.id, plan: "no-such-plan", logger: logger)
        }
        await #expect(throws: TenantStore.Failure.duplicateName) {
            try await tenants.createTenant(name: tenant.name, plan: "free", logger: logger)
        }
        try await tenants.upsertPlan(Plan(name: "privileged", monthlyPriceMicros: 1, requestsPerSecond: 2, burst: 3), logger: logger)
        #expect(try await tenants.listPlans(logger: logger).contains { $0.name == "privileged" && $0.burst == 3 })
    }

    @Test func servingAsARoleThatOwnsAnythingIsRefused() async throws {
        let name = try await TestDatabase.createDatabase(prefix: "owner")
        let role = "owner_" + name.suffix(8)
        var endpoint = try TestDatabase.superuserEndpoint(database: name)
        try await DatabaseBootstrap.withClient(endpoint, logger: TestDatabase.logger) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(role) LOGIN"), logger: TestDatabase.logger)
            try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE owned (x int)"), logger: TestDatabase.logger)
            try await client.query(PostgresQuery(unsafeSQL: "ALTER TABLE owned OWNER TO \(role)"), logger: TestDatabase.logger)
        }
        endpoint.username = role
        await #expect {
            try await DatabaseBootstrap.checkServiceRole(endpoint, logger: TestDatabase.logger)
        } throws: { error in
            "\(error)".contains("owns 1 of the database's objects")
        }
    }

    @Test func aSchemaOlderThanTheBinaryIsRefusedWithWhatToRun() async throws {
        let empty = try TestDatabase.superuserEndpoint(database: try await TestDatabase.createDatabase(prefix: "behind"))
        await #expect {
            try await DatabaseBootstrap.checkSchemaIsCurrent(empty, logger: TestDatabase.logger)
        } throws: { error in
            "\(error)".contains("schema is at version 0") && "\(error)".contains("runway migrate")
        }
        let shared = try await TestDatabase.get()
        try await DatabaseBootstrap.checkSchemaIsCurrent(
            try TestDatabase.superuserEndpoint(database: shared.databaseName),
            logger: TestDatabase.logger
        )
    }
}
