import Foundation
import Hummingbird
import Logging
import Telemetry

/// What inner middleware learns about a request that the access log line reports.
final class RequestFacts: @unchecked Sendable {
    // Only the request's own task touches it, one middleware after another.
    var tenant: UUID?
    /// The request's CPU (app, database) and its cost, from the cost meter.
    var cost: RequestCost?
}

/// Writes one access line per request: method, route template (never the raw path), status,
/// duration, tenant and request id. Outermost, so it sees the final status of every request.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        var metadata: Logger.Metadata = [
            "method": "\(request.method)",
            "route": "\(context.endpointPath ?? "unmatched")",
            "status": "\(response.status.code)",
            "duration_ms": "\(String(format: "%.3f", Double(elapsed.nanoseconds) / 1_000_000))",
            "request_id": "\(context.id)",
        ]
        if let tenant = context.facts.tenant { metadata["tenant"] = "\(tenant)" }
        context.facts.cost?.addMetadata(to: &metadata)
        context.logger.info("request", metadata: metadata)
        return response
    }
}
