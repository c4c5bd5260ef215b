import CoreMetrics
import CostMeter
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import Telemetry
import TelemetryBootstrap
import Tracing

/// What inner middleware learns about a request that the access log line reports.
final class RequestFacts: @unchecked Sendable {
    // Only the request's own task touches it, one middleware after another.
    var tenant: UUID?
    /// The request's metered executor, set by ``RequestMeteringMiddleware``.
    var metering: (meter: CostMeter, executor: MeteredExecutor)?
}

/// Observes every request once, from the outside: the server span (continuing a W3C
/// `traceparent` when one came in, named by method and route template), one access line (method,
/// route template — never the raw path —, status, duration, tenant, request id, and the trace and
/// span ids through the logging metadata provider) and the RED metrics. Outermost, so it sees the
/// final status of every request.
struct RequestTelemetryMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: RequestMetrics
    let tracer: any Tracer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var parent = ServiceContext.current ?? .topLevel
        tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let method = request.method.rawValue
        let span = tracer.startSpan(method, context: parent, ofKind: .server)
        defer { span.end() }
        var spanContext = span.context
        // Every request has a trace and span id, traced or not: its log lines, its problem body
        // and its `traceresponse` header name them, so a support ticket leads to the trace (when
        // one was kept) and always to the request's lines.
        if spanContext.spanContext == nil {
            if parent.spanContext == nil { W3CTraceContext.extract(request.headers, into: &parent, using: HTTPFieldsExtractor()) }
            spanContext.spanContext = .unrecorded(childOf: parent.spanContext)
        }
        var response: Response
        do {
            response = try await ServiceContext.$current.withValue(spanContext) { try await next(request, context) }
        } catch {
            // The problem middleware answers every error; this is only for what escapes it.
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        let status = response.status.code
        // Each read of `context.id` renders it from the logger's metadata: read it once.
        let requestID = context.id
        let tenant = context.facts.tenant?.uuidString
        // Reading the request's CPU settles the thread's clock (a system call): only for a span
        // that records it or an access line that will be written.
        let cost = span.isRecording || context.logger.logLevel <= .info ? context.facts.cost : nil
        span.operationName = "\(method) \(route)"
        span.updateAttributes { attributes in
            attributes["http.request.method"] = method
            attributes["http.route"] = route
            attributes["http.response.status_code"] = status
            attributes["http.request.body.size"] = request.headers[.contentLength].flatMap { Int($0) }
            attributes["http.response.body.size"] = response.body.contentLength
            attributes["runway.request.id"] = requestID
            attributes["runway.tenant.id"] = tenant
            if let cost {
                attributes["runway.cpu.app_ns"] = Int(clamping: cost.usage.appCPUNanoseconds)
                attributes["runway.cpu.db_ns"] = Int(clamping: cost.usage.databaseCPUNanoseconds)
                attributes["runway.cost.microusd"] = cost.costMicros
            }
        }
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
        if let ids = spanContext.spanContext {
            response.headers[Self.traceresponse] = W3CTraceContext.formatTraceparent(
                traceID: ids.traceID,
                spanID: ids.spanID,
                flags: ids.flags
            )
        }
        // An exemplar only for a trace the tracer keeps: sampled, or an error (kept by the tail).
        let kept = span.isRecording && (spanContext.spanContext?.isSampled == true || status >= 500)
        metrics.record(
            method: method,
            route: route,
            status: status,
            duration: elapsed,
            exemplar: kept ? spanContext.spanContext?.traceID : nil
        )
        // The access line's metadata is built only when the line will be written.
        guard context.logger.logLevel <= .info else { return response }
        var metadata: Logger.Metadata = [
            "method": .string(method),
            "route": .string(route),
            "status": .string(String(status)),
            "duration_ms": .string(Self.milliseconds(elapsed)),
            "request_id": .string(requestID),
        ]
        if let tenant { metadata["tenant"] = .string(tenant) }
        cost?.addMetadata(to: &metadata)
        ServiceContext.$current.withValue(spanContext) { context.logger.info("request", metadata: metadata) }
        return response
    }

    /// W3C Trace Context Level 2: the trace and the server span that answered.
    static let traceresponse = HTTPField.Name("traceresponse")!

    /// `duration` in milliseconds with three decimals, rounded (`"12.345"`).
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let microseconds = seconds * 1_000_000 + (attoseconds + 500_000_000_000) / 1_000_000_000_000
        return DecimalText.fixed(microseconds, decimals: 3)
    }
}

/// Reads W3C trace context (and any other propagated fields) from request headers.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from headers: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { headers[$0] }
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
        let duration: ExemplarHistogram.Series
    }

    private let factory: any MetricsFactory
    private let series = Mutex<[Key: Series]>([:])
    /// `runway_http_request_duration_seconds`, with the trace of a kept request per bucket.
    let duration = ExemplarHistogram(
        name: "runway_http_request_duration_seconds",
        help: "Request duration in seconds, by method, route template and status.",
        buckets: MetricsExposition.latencyBuckets
    )

    /// False records no exemplars (`RUNWAY_METRICS_EXEMPLARS=0`).
    let exemplars: Bool

    init(metrics: MetricsExposition, exemplars: Bool = true) {
        self.factory = metrics.factory
        self.exemplars = exemplars
        metrics.addCollector { [duration] text in duration.write(into: &text) }
    }

    /// Counts one request; `exemplar` is its trace id when its trace is kept (sampled, or an
    /// error the tracer keeps), so the latency panel can link to it.
    func record(method: String, route: String, status: Int, duration: Duration, exemplar: TraceID? = nil) {
        let key = Key(method: method, route: route, status: status)
        let handles = series.withLock { series in
            if let existing = series[key] { return existing }
            let dimensions = [("method", method), ("route", route), ("status", String(status))]
            let made = Series(
                requests: Counter(label: "runway_http_requests_total", dimensions: dimensions, factory: factory),
                errors: status >= 500
                    ? Counter(label: "runway_http_request_errors_total", dimensions: dimensions, factory: factory) : nil,
                duration: self.duration.series(labels: dimensions.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ","))
            )
            series[key] = made
            return made
        }
        handles.requests.increment()
        handles.errors?.increment()
        self.duration.observe(duration, in: handles.duration, exemplar: exemplars ? exemplar : nil)
    }

    /// A label value as the text format writes it: backslash, quote and newline escaped.
    static func escaped(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
