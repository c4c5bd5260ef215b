import CostMeter
import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import TelemetryBootstrap
import Tracing

/// The parts every route shares, built once per process (or per test).
struct RunwayServices: Sendable {
    let database: Database
    let tenants: TenantStore
    let documents: DocumentStore
    let usage: UsageRecorder
    let maxDocumentBytes: Int
    let maxPageBytes: Int
    /// What `/metrics` serves, and the RED metrics every request records into it.
    let metrics: MetricsExposition
    let requestMetrics: RequestMetrics
    /// Per-tenant CPU and cost.
    let meter: CostMeter
    /// `/readyz`'s answer, asked of the database at most once a second.
    let readiness: Readiness<ContinuousClock>

    init(
        clients: DatabaseClients,
        maxDocumentBytes: Int,
        maxPageBytes: Int = 4 << 20,
        usageFlushInterval: Duration,
        metrics: MetricsExposition = MetricsExposition(),
        tracer: any Tracer = InstrumentationSystem.tracer,
        logger: Logger,
        meter: CostMeter = CostMeter(configuration: .init(instance: "local")),
        databaseTimeout: Duration = .seconds(5),
        keyLookupsPerSecond: Int = 200,
        metricsExemplars: Bool = true
    ) {
        let database = Database(clients: clients, tracer: tracer, observer: DatabaseCPUMeter(meter: meter), timeout: databaseTimeout)
        self.meter = meter
        self.database = database
        self.tenants = TenantStore(database: database, lookups: KeyLookupLimit(perSecond: keyLookupsPerSecond, clock: ContinuousClock()))
        self.readiness = Readiness(clock: ContinuousClock()) { await database.isReachable(logger: logger) }
        self.documents = DocumentStore(database: database)
        self.usage = UsageRecorder(database: database, flushInterval: usageFlushInterval, logger: logger)
        self.maxDocumentBytes = maxDocumentBytes
        self.maxPageBytes = maxPageBytes
        self.metrics = metrics
        self.requestMetrics = RequestMetrics(metrics: metrics, exemplars: metricsExemplars)
        metrics.addCollector { [meter] text in meter.snapshot.writeMetrics(into: &text) }
    }
}

/// The public listener's router: health, readiness, and the tenant API under `/v1`.
/// Both `serve` and the tests build it here, so tests run the real middleware stack.
func buildPublicRouter<C: Clock>(services: RunwayServices, rateLimiter: RateLimiter<C>) -> Router<AppRequestContext>
where C.Duration == Duration {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestMeteringMiddleware(meter: services.meter, defaultPayer: .unauthenticated))
    router.add(middleware: RequestTelemetryMiddleware(metrics: services.requestMetrics, tracer: services.database.tracer))
    router.add(middleware: ProblemMiddleware())
    // Probes are the platform's own requests: on the admin overhead item, not the unauthenticated row.
    router.get("healthz") { _, context in
        context.facts.bill(.admin)
        return Response.json(ByteBuffer(string: #"{"status":"ok"}"#))
    }
    router.get("readyz") { _, context in
        context.facts.bill(.admin)
        guard await services.readiness.isReady() else { throw Problem.unavailable }
        return Response.json(ByteBuffer(string: #"{"status":"ready"}"#))
    }
    let v1 = router.group("v1").add(
        middleware: TenantMiddleware(tenants: services.tenants, rateLimiter: rateLimiter, usage: services.usage)
    )
    PublicRoutes(
        documents: services.documents,
        usage: services.usage,
        maxDocumentBytes: services.maxDocumentBytes,
        maxPageBytes: services.maxPageBytes
    )
    .add(to: v1)
    return router
}

/// The admin listener's router: `/metrics` for Prometheus, and `/admin/v1` behind the admin token.
func buildAdminRouter(services: RunwayServices, adminToken: String) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestMeteringMiddleware(meter: services.meter, defaultPayer: .admin))
    router.add(middleware: RequestTelemetryMiddleware(metrics: services.requestMetrics, tracer: services.database.tracer))
    router.add(middleware: ProblemMiddleware())
    // OpenMetrics (with the latency histogram's exemplars) for a scraper that asks for it.
    router.get("metrics") { request, _ in
        let openMetrics = MetricsExposition.prefersOpenMetrics(accept: request.headers[.accept])
        return Response(
            status: .ok,
            headers: [.contentType: openMetrics ? MetricsExposition.openMetricsContentType : MetricsExposition.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: services.metrics.render(openMetrics: openMetrics)))
        )
    }
    let admin = router.group("admin/v1").add(middleware: AdminTokenMiddleware(token: adminToken))
    AdminRoutes(tenants: services.tenants).add(to: admin)
    AdminCostRoutes(database: services.database).add(to: admin)
    return router
}
