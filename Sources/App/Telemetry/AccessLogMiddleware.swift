import CoreMetrics
import Foundation
import Hummingbird
import Logging
import Synchronization
import Telemetry

/// What inner middleware learns about a request that the access log line reports.
final class RequestFacts: @unchecked Sendable {
    // Only the request's own task touches it, one middleware after another.
    var tenant: UUID?
}

/// Observes every request once, from the outside: one access line (method, route template —
/// never the raw path —, status, duration, tenant, request id) and the RED metrics. Outermost, so
/// it sees the final status of every request.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: RequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.record(method: request.method.rawValue, route: route, status: response.status.code, duration: elapsed)
        var metadata: Logger.Metadata = [
            "method": "\(request.method)",
            "route": "\(route)",
            "status": "\(response.status.code)",
            "duration_ms": "\(String(format: "%.3f", Double(elapsed.nanoseconds) / 1_000_000))",
            "request_id": "\(context.id)",
        ]
        if let tenant = context.facts.tenant { metadata["tenant"] = "\(tenant)" }
        context.logger.info("request", metadata: metadata)
        return response
    }
}

/// Rate, errors and duration of requests by method, route template and status, through
/// swift-metrics:
///
/// - `runway_http_requests_total{method, route, status}`
/// - `runway_http_request_errors_total{method, route, status}` (5xx answers)
/// - `runway_http_request_duration_seconds{method, route, status}` (a histogram, 1 ms – 10 s)
///
/// Routes are templates (`/v1/collections/{collection}`), so the series stay few whatever the
/// traffic. Handles are made once per series and cached.
final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        var method: String
        var route: String
        var status: Int
    }
    private struct Series: Sendable {
        let requests: Counter
        let errors: Counter?
        let duration: CoreMetrics.Timer
    }

    private let factory: any MetricsFactory
    private let series = Mutex<[Key: Series]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = Key(method: method, route: route, status: status)
        let handles = series.withLock { series in
            if let existing = series[key] { return existing }
            let dimensions = [("method", method), ("route", route), ("status", String(status))]
            let made = Series(
                requests: Counter(label: "runway_http_requests_total", dimensions: dimensions, factory: factory),
                errors: status >= 500
                    ? Counter(label: "runway_http_request_errors_total", dimensions: dimensions, factory: factory) : nil,
                duration: CoreMetrics.Timer(
                    label: "runway_http_request_duration_seconds",
                    dimensions: dimensions,
                    preferredDisplayUnit: .seconds,
                    factory: factory
                )
            )
            series[key] = made
            return made
        }
        handles.requests.increment()
        handles.errors?.increment()
        handles.duration.recordNanoseconds(duration.nanoseconds)
    }
}
