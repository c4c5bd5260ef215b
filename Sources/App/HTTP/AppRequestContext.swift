import Hummingbird

/// The per-request context: Hummingbird's core storage plus the tenant that
/// ``TenantMiddleware`` authenticated.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by ``TenantMiddleware`` for every route under `/v1`.
    var tenant: AuthenticatedTenant?
    /// Shared with the outer middleware (request telemetry: span, access line, metrics), which sees no later copy of the context.
    let facts = RequestFacts()

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// The authenticated tenant; only routes behind ``TenantMiddleware`` may ask.
    var requireTenant: AuthenticatedTenant {
        get throws {
            guard let tenant else { throw Problem.unauthorized("missing credentials") }
            return tenant
        }
    }
}
