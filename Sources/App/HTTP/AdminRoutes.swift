import Foundation
import Hummingbird
import NIOCore

/// The operators' API on its own listener (loopback by default), behind the admin token.
struct AdminRoutes: Sendable {
    let tenants: TenantStore

    struct CreatedTenant: ResponseEncodable {
        var tenant: Tenant
        /// Shown once: only its hash is stored.
        var apiKey: String
        enum CodingKeys: String, CodingKey {
            case tenant
            case apiKey = "api_key"
        }
    }

    struct RotatedKey: ResponseEncodable {
        var tenantID: UUID
        var apiKey: String
        enum CodingKeys: String, CodingKey {
            case tenantID = "tenant_id"
            case apiKey = "api_key"
        }
    }

    struct TenantList: ResponseEncodable { var tenants: [Tenant] }
    struct PlanList: ResponseEncodable { var plans: [Plan] }

    func add(to group: RouterGroup<AppRequestContext>) {
        group.get("plans", use: listPlans)
        group.put("plans/{name}", use: putPlan)
        group.get("tenants", use: listTenants)
        group.post("tenants", use: createTenant)
        group.get("tenants/{id}", use: getTenant)
        group.patch("tenants/{id}", use: patchTenant)
        group.post("tenants/{id}/rotate-key", use: rotateKey)
    }

    @Sendable func listPlans(_ request: Request, context: AppRequestContext) async throws -> PlanList {
        PlanList(plans: try await tenants.listPlans(logger: context.logger))
    }

    @Sendable func putPlan(_ request: Request, context: AppRequestContext) async throws -> Plan {
        struct Input: Decodable {
            var monthlyPriceMicros: Int64
            var requestsPerSecond: Int
            var burst: Int
            enum CodingKeys: String, CodingKey {
                case monthlyPriceMicros = "monthly_price_micros"
                case requestsPerSecond = "requests_per_second"
                case burst
            }
        }
        let name = try Name.plan(try context.pathParameter("name"))
        var request = request
        let input = try decodeFields(Input.self, from: try await request.jsonObjectBody(limit: 64 << 10))
        guard input.monthlyPriceMicros >= 0, input.requestsPerSecond > 0, input.burst > 0 else {
            throw Problem.unprocessable("invalid-field", "prices are not negative; requests_per_second and burst are positive")
        }
        let plan = Plan(
            name: name,
            monthlyPriceMicros: input.monthlyPriceMicros,
            requestsPerSecond: input.requestsPerSecond,
            burst: input.burst
        )
        try await tenants.upsertPlan(plan, logger: context.logger)
        return plan
    }

    @Sendable func listTenants(_ request: Request, context: AppRequestContext) async throws -> TenantList {
        TenantList(tenants: try await tenants.listTenants(logger: context.logger))
    }

    @Sendable func createTenant(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<CreatedTenant> {
        struct Input: Decodable {
            var name: String
            var plan: String?
        }
        var request = request
        let input = try decodeFields(Input.self, from: try await request.jsonObjectBody(limit: 64 << 10))
        let name = try TenantName.validate(input.name)
        let (tenant, key) = try await tenants.createTenant(name: name, plan: input.plan ?? "free", logger: context.logger)
        return EditedResponse(
            status: .created,
            headers: [.location: "/admin/v1/tenants/\(tenant.id)"],
            response: CreatedTenant(tenant: tenant, apiKey: key.value)
        )
    }

    @Sendable func getTenant(_ request: Request, context: AppRequestContext) async throws -> Tenant {
        guard let tenant = try await tenants.tenant(try tenantID(context), logger: context.logger) else {
            throw TenantStore.Failure.unknownTenant
        }
        return tenant
    }

    @Sendable func patchTenant(_ request: Request, context: AppRequestContext) async throws -> Tenant {
        struct Input: Decodable { var plan: String }
        let id = try tenantID(context)
        var request = request
        let input = try decodeFields(Input.self, from: try await request.jsonObjectBody(limit: 64 << 10))
        return try await tenants.changePlan(tenant: id, plan: input.plan, logger: context.logger)
    }

    @Sendable func rotateKey(_ request: Request, context: AppRequestContext) async throws -> RotatedKey {
        let id = try tenantID(context)
        let key = try await tenants.rotateKey(tenant: id, logger: context.logger)
        return RotatedKey(tenantID: id, apiKey: key.value)
    }

    private func tenantID(_ context: AppRequestContext) throws -> UUID {
        guard let id = UUID(uuidString: try context.pathParameter("id")) else {
            throw Problem.notFound("tenant-not-found", "no such tenant")
        }
        return id
    }
}

extension Plan: ResponseEncodable {}
extension Tenant: ResponseEncodable {}

/// Tenant names: 1–100 characters, printable, no leading or trailing space.
enum TenantName {
    static func validate(_ name: String) throws -> String {
        guard (1...100).contains(name.unicodeScalars.count), name.trimmingCharacters(in: .whitespacesAndNewlines) == name,
            !name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else {
            throw Problem.unprocessable("invalid-name", "tenant names are 1 to 100 printable characters without surrounding spaces")
        }
        return name
    }
}
