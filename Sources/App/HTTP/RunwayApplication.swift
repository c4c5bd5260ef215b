import CostMeter
import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO

/// The parts every route shares, built once per process (or per test).
struct RunwayServices: Sendable {
    let database: Database
    let tenants: TenantStore
    let documents: DocumentStore
    let usage: UsageRecorder
    let maxDocumentBytes: Int
    /// Per-tenant CPU and cost (issue 5).
    let meter: CostMeter

    init(
        client: PostgresClient,
        maxDocumentBytes: Int,
        usageFlushInterval: Duration,
        logger: Logger,
        meter: CostMeter = CostMeter(configuration: .init(instance: "local"))
    ) {
        let database = Database(client: client, backendCPU: DatabaseCPUMeter(meter: meter))
        self.meter = meter
        self.database = database
        self.tenants = TenantStore(database: database)
        self.documents = DocumentStore(database: database)
        self.usage = UsageRecorder(database: database, flushInterval: usageFlushInterval, logger: logger)
        self.maxDocumentBytes = maxDocumentBytes
    }
}

/// The public listener's router: health, readiness, and the tenant API under `/v1`.
/// Both `serve` and the tests build it here, so tests run the real middleware stack.
func buildPublicRouter<C: Clock>(services: RunwayServices, rateLimiter: RateLimiter<C>) -> Router<AppRequestContext>
where C.Duration == Duration {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.get("healthz") { _, _ in Response.json(ByteBuffer(string: #"{"status":"ok"}"#)) }
    router.get("readyz") { _, context in
        guard await services.database.isReachable(logger: context.logger) else { throw Problem.unavailable }
        return Response.json(ByteBuffer(string: #"{"status":"ready"}"#))
    }
    let v1 = router.group("v1").add(
        middleware: TenantMiddleware(tenants: services.tenants, rateLimiter: rateLimiter, usage: services.usage, meter: services.meter)
    )
    PublicRoutes(documents: services.documents, usage: services.usage, maxDocumentBytes: services.maxDocumentBytes).add(to: v1)
    return router
}

/// The admin listener's router: `/admin/v1`, behind the admin token.
func buildAdminRouter(services: RunwayServices, adminToken: String) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: ProblemMiddleware())
    let admin = router.group("admin/v1").add(middleware: AdminTokenMiddleware(token: adminToken))
    AdminRoutes(tenants: services.tenants).add(to: admin)
    AdminCostRoutes(database: services.database).add(to: admin)
    return router
}
