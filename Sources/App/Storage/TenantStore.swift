import Foundation
import Logging
import PostgresNIO

/// A plan: what a tenant pays per month and how fast it may call the API.
struct Plan: Codable, Sendable, Equatable {
    var name: String
    var monthlyPriceMicros: Int64
    var requestsPerSecond: Int
    var burst: Int

    enum CodingKeys: String, CodingKey {
        case name
        case monthlyPriceMicros = "monthly_price_micros"
        case requestsPerSecond = "requests_per_second"
        case burst
    }
}

/// A tenant as operators see it.
struct Tenant: Codable, Sendable, Equatable {
    var id: UUID
    var name: String
    var plan: String
    var createdAt: Date
    /// The public ids of the tenant's live keys (never the keys).
    var keyIDs: [String]

    enum CodingKeys: String, CodingKey {
        case id, name, plan
        case createdAt = "created_at"
        case keyIDs = "key_ids"
    }
}

/// Who is calling: the tenant an API key belongs to, with its plan's limits, and the scope its
/// database work runs in (the tenant and the key, which PostgreSQL checks again).
struct AuthenticatedTenant: Sendable, Equatable {
    var scope: TenantScope
    var plan: String
    var requestsPerSecond: Int
    var burst: Int

    var id: UUID { scope.tenant }
}

/// What an API key turned out to be.
enum KeyCheck: Sendable, Equatable {
    case valid(AuthenticatedTenant)
    /// A live key id of `tenant` with the wrong secret: refused, and on that tenant's bill.
    case wrongSecret(tenant: UUID)
    /// No live key has this id.
    case unknown
}

/// Platform data: plans, tenants and their keys. Used by the admin API, the CLI and auth.
struct TenantStore: Sendable {
    let database: Database
    /// Keys looked up before; see ``KeyCache`` for why that is safe.
    let keys = KeyCache()

    enum Failure: Error, Equatable {
        case duplicateName
        case unknownPlan
        case unknownTenant
    }

    /// The tenant holding `key`, or nil for an unknown, revoked or wrong key.
    func authenticate(_ key: APIKey, logger: Logger) async throws -> AuthenticatedTenant? {
        if case .valid(let tenant) = try await check(key, logger: logger) { return tenant }
        return nil
    }

    /// What `key` is: from the cache when this instance looked its id up lately, else from the
    /// database.
    func check(_ key: APIKey, logger: Logger) async throws -> KeyCheck {
        let hash = key.hash
        if let known = keys.check(keyID: key.id, hash: hash) { return known }
        let check = try await database.traced(.select("api_keys")) {
            try await lookUp(key, hash: hash, logger: logger)
        }
        if case .valid(let tenant) = check { keys.store(tenant, keyID: key.id, hash: hash) }
        return check
    }

    private func lookUp(_ key: APIKey, hash keyHash: [UInt8], logger: Logger) async throws -> KeyCheck {
        let rows = try await database.query(
            """
            SELECT k.secret_hash, t.id, p.name, p.requests_per_second, p.burst
            FROM api_keys k JOIN tenants t ON t.id = k.tenant_id JOIN plans p ON p.name = t.plan
            WHERE k.key_id = \(key.id) AND k.revoked_at IS NULL
            """,
            logger: logger
        )
        for (hash, id, plan, rate, burst) in try rows.map({ try $0.decode((ByteBuffer, UUID, String, Int, Int).self) }) {
            guard constantTimeEquals(hash.readableBytesView, keyHash) else { return .wrongSecret(tenant: id) }
            return .valid(
                AuthenticatedTenant(
                    scope: TenantScope(tenant: id, keyID: key.id, secretHash: keyHash),
                    plan: plan,
                    requestsPerSecond: rate,
                    burst: burst
                )
            )
        }
        return .unknown
    }

    /// Creates a tenant on `plan` and its first key, which is returned once and never stored.
    func createTenant(name: String, plan: String, logger: Logger) async throws -> (Tenant, APIKey) {
        let id = UUID()
        let key = APIKey.generate()
        do {
            let createdAt = try await database.withTransaction(.insert("tenants"), logger: logger) { connection in
                let rows = try await connection.query(
                    "INSERT INTO tenants (id, name, plan) VALUES (\(id), \(name), \(plan)) RETURNING created_at",
                    logger: logger
                )
                var createdAt = Date()
                for try await date in rows.decode(Date.self) { createdAt = date }
                try await insertKey(key, tenant: id, on: connection, logger: logger)
                return createdAt
            }
            return (Tenant(id: id, name: name, plan: plan, createdAt: createdAt, keyIDs: [key.id]), key)
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw Failure.duplicateName
        } catch  where error.sqlState == SQLState.foreignKeyViolation {
            throw Failure.unknownPlan
        }
    }

    /// Revokes every key of the tenant and returns a new one; the old keys stop working at once.
    func rotateKey(tenant: UUID, logger: Logger) async throws -> APIKey {
        let key = APIKey.generate()
        try await database.withTransaction(.update("api_keys"), logger: logger) { connection in
            let rows = try await connection.query("SELECT id FROM tenants WHERE id = \(tenant) FOR UPDATE", logger: logger)
            var found = false
            for try await _ in rows.decode(UUID.self) { found = true }
            guard found else { throw Failure.unknownTenant }
            try await connection.query(
                "UPDATE api_keys SET revoked_at = now() WHERE tenant_id = \(tenant) AND revoked_at IS NULL",
                logger: logger
            )
            try await insertKey(key, tenant: tenant, on: connection, logger: logger)
        }
        keys.evict(tenant: tenant)
        return key
    }

    /// Moves a tenant to another plan. Its new rate limit applies from its next request on this
    /// instance, and within ``KeyCache/lifetime`` on others.
    func changePlan(tenant: UUID, plan: String, logger: Logger) async throws -> Tenant {
        do {
            try await database.traced(.update("tenants")) {
                let rows = try await database.query(
                    "UPDATE tenants SET plan = \(plan) WHERE id = \(tenant) RETURNING id",
                    logger: logger
                )
                guard !rows.isEmpty else { throw Failure.unknownTenant }
            }
        } catch  where error.sqlState == SQLState.foreignKeyViolation {
            throw Failure.unknownPlan
        }
        keys.evict(tenant: tenant)
        guard let updated = try await self.tenant(tenant, logger: logger) else { throw Failure.unknownTenant }
        return updated
    }

    func tenant(_ id: UUID, logger: Logger) async throws -> Tenant? {
        try await listTenants(only: id, logger: logger).first
    }

    /// The tenant whose id or name is `reference` (CLI convenience).
    func tenant(reference: String, logger: Logger) async throws -> Tenant? {
        if let id = UUID(uuidString: reference) { return try await tenant(id, logger: logger) }
        return try await listTenants(logger: logger).first { $0.name == reference }
    }

    func listTenants(only: UUID? = nil, logger: Logger) async throws -> [Tenant] {
        try await database.traced(.select("tenants")) { try await queryTenants(only: only, logger: logger) }
    }

    private func queryTenants(only: UUID?, logger: Logger) async throws -> [Tenant] {
        let rows = try await database.query(
            """
            SELECT t.id, t.name, t.plan, t.created_at,
                   coalesce(array_agg(k.key_id ORDER BY k.created_at) FILTER (WHERE k.key_id IS NOT NULL), '{}')
            FROM tenants t LEFT JOIN api_keys k ON k.tenant_id = t.id AND k.revoked_at IS NULL
            WHERE \(only)::uuid IS NULL OR t.id = \(only)::uuid
            GROUP BY t.id ORDER BY t.created_at, t.name
            """,
            logger: logger
        )
        var tenants: [Tenant] = []
        for (id, name, plan, createdAt, keys) in try rows.map({ try $0.decode((UUID, String, String, Date, [String]).self) }) {
            tenants.append(Tenant(id: id, name: name, plan: plan, createdAt: createdAt, keyIDs: keys))
        }
        return tenants
    }

    func listPlans(logger: Logger) async throws -> [Plan] {
        try await database.traced(.select("plans")) { try await queryPlans(logger: logger) }
    }

    private func queryPlans(logger: Logger) async throws -> [Plan] {
        let rows = try await database.query(
            "SELECT name, monthly_price_micros, requests_per_second, burst FROM plans ORDER BY monthly_price_micros, name",
            logger: logger
        )
        var plans: [Plan] = []
        for (name, price, rate, burst) in try rows.map({ try $0.decode((String, Int64, Int, Int).self) }) {
            plans.append(Plan(name: name, monthlyPriceMicros: price, requestsPerSecond: rate, burst: burst))
        }
        return plans
    }

    /// Creates or updates a plan (its limits apply as ``changePlan(tenant:plan:logger:)`` says).
    func upsertPlan(_ plan: Plan, logger: Logger) async throws {
        try await database.traced(.upsert("plans")) { try await storePlan(plan, logger: logger) }
        keys.evictAll()
    }

    private func storePlan(_ plan: Plan, logger: Logger) async throws {
        try await database.query(
            """
            INSERT INTO plans (name, monthly_price_micros, requests_per_second, burst)
            VALUES (\(plan.name), \(plan.monthlyPriceMicros), \(plan.requestsPerSecond), \(plan.burst))
            ON CONFLICT (name) DO UPDATE SET monthly_price_micros = EXCLUDED.monthly_price_micros,
                requests_per_second = EXCLUDED.requests_per_second, burst = EXCLUDED.burst
            """,
            logger: logger
        )
    }

    private func insertKey(_ key: APIKey, tenant: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "INSERT INTO api_keys (key_id, tenant_id, secret_hash) VALUES (\(key.id), \(tenant), \(ByteBuffer(bytes: key.hash)))",
            logger: logger
        )
    }
}
