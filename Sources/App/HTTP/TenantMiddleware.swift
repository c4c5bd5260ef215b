import CostMeter
import Foundation
import Hummingbird
import Logging

/// Authenticates the tenant from `Authorization: Bearer rw_…`, bills the request to it (refused
/// or not), applies its plan's rate limit, and counts the request in its usage, whatever the
/// outcome.
struct TenantMiddleware<C: Clock>: RouterMiddleware where C.Duration == Duration {
    typealias Context = AppRequestContext

    let tenants: TenantStore
    let rateLimiter: RateLimiter<C>
    let usage: UsageRecorder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let tenant = try await authenticate(request, context: context)
        var context = context
        context.tenant = tenant
        let tenantID = tenant.id.uuidString
        context.facts.tenant = tenantID
        context.logger[metadataKey: "tenant"] = .string(tenantID)
        do {
            if let wait = rateLimiter.acquire(tenant: tenant.id, rate: tenant.requestsPerSecond, burst: tenant.burst) {
                let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) * 1e-18).rounded(.up)))
                throw Problem.rateLimited(retryAfterSeconds: seconds)
            }
            let response = try await next(request, context)
            usage.record(tenant: tenant.id, status: response.status)
            return response
        } catch {
            // Rotated or revoked since this instance cached it: look it up afresh next time.
            if error is TenantKeyNoLongerValid, let keyID = tenant.scope.keyID { tenants.keys.evict(keyID: keyID) }
            let problem = Problem.from(error, logger: context.logger)
            usage.record(tenant: tenant.id, status: problem.status)
            throw problem
        }
    }

    /// The request's tenant, billed from here on; a refusal (401) is billed to the tenant its key
    /// id names, when it names one.
    private func authenticate(_ request: Request, context: Context) async throws -> AuthenticatedTenant {
        guard let header = request.headers[.authorization] else {
            throw Problem.unauthorized("send Authorization: Bearer <api key>")
        }
        guard let token = bearerToken(header), let key = APIKey(parsing: token) else {
            throw Problem.unauthorized("the Authorization header is not a Runway API key (Bearer rw_…)")
        }
        switch try await tenants.check(key, logger: context.logger) {
        case .valid(let tenant):
            context.facts.bill(.tenant(tenant.id))
            return tenant
        case .wrongSecret(let tenant):
            context.facts.bill(.tenant(tenant))
            throw Problem.unknownKey
        case .unknown:
            throw Problem.unknownKey
        }
    }
}
