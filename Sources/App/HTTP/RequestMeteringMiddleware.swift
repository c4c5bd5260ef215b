import CostMeter
import Hummingbird

/// Runs the whole request on a metered executor of its own, so all of its CPU is measured —
/// authentication, rate limiting, refusals and the access line included — and bills it to
/// whoever ``RequestFacts/bill(_:)`` names, else to `defaultPayer` (`unauthenticated` on the
/// public listener, `admin` on the admin one). Outermost. Under `serve` the server has already put
/// the request on its executor (``RequestChannel``, which
/// meters writing the response too): this middleware then only records it.
struct RequestMeteringMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let meter: CostMeter
    let defaultPayer: Payer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let executor = MeteredExecutor.current {
            context.facts.metering = (meter, executor)
            return try await next(request, context)
        }
        let executor = meter.requestExecutor()
        context.facts.metering = (meter, executor)
        return try await meter.run(on: executor, defaultPayer: defaultPayer) { try await next(request, context) }
    }
}
