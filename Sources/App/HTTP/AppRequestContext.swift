import Hummingbird
import Logging
import Synchronization
import Telemetry

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
        // Hummingbird names the request by a value rendered again on every read (`id`, each log
        // line): name it by a plain string instead, rendered once. Every line the request logs
        // carries it as `request_id` too, the name its problem body and the access line give it,
        // so an SRE finds a failed request's error line by the id its tenant quotes.
        let id = Logger.MetadataValue.string(Self.nextRequestID())
        logger[metadataKey: Self.requestIDKey] = id
        logger[metadataKey: "request_id"] = id
    }

    /// Where Hummingbird keeps the request id (`RequestContext.id` reads it from there).
    static let requestIDKey = "hb.request.id"

    /// Hummingbird's scheme, as 32 hex digits: a random half for the process, and a counter
    /// that starts at a random value.
    static func nextRequestID() -> String {
        HexCoding.format(requestIDPrefix, requestIDCounter.add(1, ordering: .relaxed).oldValue)
    }
    private static let requestIDPrefix = UInt64.random(in: .min ... .max)
    private static let requestIDCounter = Atomic<UInt64>(.random(in: .min ... .max))

    /// The authenticated tenant; only routes behind ``TenantMiddleware`` may ask.
    var requireTenant: AuthenticatedTenant {
        get throws {
            guard let tenant else { throw Problem.unauthorized("missing credentials") }
            return tenant
        }
    }
}
