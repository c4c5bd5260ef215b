import CostMeter
import Foundation

/// What inner middleware learns about a request that the access log line reports.
final class RequestFacts: @unchecked Sendable {
    // Only the request's own task touches it, one middleware after another.
    var tenant: UUID?
    /// The request's metered executor, set by ``RequestMeteringMiddleware``.
    var metering: (meter: CostMeter, executor: MeteredExecutor)?
}
