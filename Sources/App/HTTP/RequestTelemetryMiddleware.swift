import CostMeter
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Telemetry
import Tracing

/// Observes every request once, from the outside: the server span (continuing a W3C
/// `traceparent` when one came in, named by method and route template), one access line (method,
/// route template — never the raw path —, status, duration, tenant; the request id from the
/// request's logger and the trace and span ids from the logging metadata provider, as on every line
/// of the request) and the RED metrics. Outermost, so it sees the final status of every request.
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
        let tenant = context.facts.tenant
        // Reading the request's CPU settles the thread's clock (a system call): only for a span
        // that records it or an access line that will be written.
        let cost = span.isRecording || context.logger.logLevel <= .info ? context.facts.cost : nil
        if span.isRecording {
            span.operationName = "\(method) \(route)"
            span.updateAttributes { attributes in
                attributes["http.request.method"] = method
                attributes["http.route"] = route
                attributes["http.response.status_code"] = status
                attributes["http.request.body.size"] = request.headers[.contentLength].flatMap { Int($0) }
                attributes["http.response.body.size"] = response.body.contentLength
                attributes["runway.request.id"] = context.id
                attributes["runway.tenant.id"] = tenant
                if let cost {
                    attributes["runway.cpu.app_ns"] = Int(clamping: cost.usage.appCPUNanoseconds)
                    attributes["runway.cpu.db_ns"] = Int(clamping: cost.usage.databaseCPUNanoseconds)
                    attributes["runway.cost.microusd"] = cost.costMicros
                }
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
