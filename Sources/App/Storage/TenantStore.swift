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

/// A budget for look-ups of keys that are not in the ``KeyCache`` (the service's: a token bucket
/// of `RUNWAY_KEY_LOOKUPS_PER_SECOND`): requests with made-up keys reach the database no faster
/// than it allows, whatever their number; past it ``KeyLookupsExhausted`` (a 503) at once,
/// without a look-up.
struct KeyLookupLimit: Sendable {
    /// Takes a look-up from the budget; false when there is none left now.
    let admit: @Sendable () -> Bool
}

/// A key not in the cache could not be looked up now (``KeyLookupLimit``).
struct KeyLookupsExhausted: Error, Equatable {}

/// Platform data: plans, tenants and their keys. Used by the admin API, the CLI and auth.
struct TenantStore: Sendable {
    let database: Database
    /// Keys looked up before; see ``KeyCache`` for why that is safe.
    let keys = KeyCache()
    /// Whether a key not in the cache may be looked up now: a bound on the database work that
    /// requests naming no known key can cause (``KeyLookupLimit``); nil: no bound (CLI).
    let lookups: KeyLookupLimit?

    init(database: Database, lookups: KeyLookupLimit? = nil) {
        self.database = database
        self.lookups = lookups
    }

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
        if let lookups, !lookups.admit() { throw KeyLookupsExhausted() }
        let check = try await database.traced(.select("api_keys")) {
            try await lookUp(key, hash: hash, logger: logger)
        }
        switch check {
        case .valid(let tenant): keys.store(tenant, keyID: key.id, hash: hash)
        case .unknown: keys.storeUnknown(keyID: key.id)
        case .wrongSecret: break
        }
        return check
    }

    private func lookUp(_ key: APIKey, hash keyHash: [UInt8], logger: Logger) async throws -> KeyCheck {
        let rows = try await database.query(
            """
            SELECT secret_hash, tenant_id, plan, requests_per_second, burst FROM runway_key_lookup(\(key.id))
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
            let createdAt = try await database.traced(.insert("tenants")) {
                let rows = try await database.query(
                    """
                    SELECT runway_create_tenant(\(id), \(name), \(plan), \(key.id), \(ByteBuffer(bytes: key.hash)))
                    """,
                    logger: logger
                )
                return try rows.first?.decode(Date.self) ?? Date()
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
        try await database.traced(.update("api_keys")) {
            let rows = try await database.query(
                "SELECT runway_rotate_key(\(tenant), \(key.id), \(ByteBuffer(bytes: key.hash)))",
                logger: logger
            )
            guard try rows.first?.decode(Bool.self) == true else { throw Failure.unknownTenant }
        }
        keys.evict(tenant: tenant)
        return key
    }

    /// Moves a tenant to another plan. Its new rate limit applies from its next request on this
    /// instance, and within ``KeyCache/lifetime`` on others.
    func changePlan(tenant: UUID, plan: String, logger: Logger) async throws -> Tenant {
        do {
            try await database.traced(.update("tenants")) {
                let rows = try await database.query("SELECT runway_set_tenant_plan(\(tenant), \(plan))", logger: logger)
                guard try rows.first?.decode(Bool.self) == true else { throw Failure.unknownTenant }
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
            SELECT t.id, t.name, t.plan, t.created_at, runway_live_key_ids(t.id) FROM tenants t
            WHERE \(only)::uuid IS NULL OR t.id = \(only)::uuid
            ORDER BY t.created_at, t.name
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
            "SELECT runway_put_plan(\(plan.name), \(plan.monthlyPriceMicros), \(plan.requestsPerSecond)::integer, \(plan.burst)::integer)",
            logger: logger
        )
    }
}
