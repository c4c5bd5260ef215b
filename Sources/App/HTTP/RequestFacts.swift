import CostMeter
import Foundation

/// What inner middleware learns about a request that the access log line reports.
final class RequestFacts: @unchecked Sendable {
    // Only the request's own task touches it, one middleware after another.
    /// The authenticated tenant's id as its log lines show it, rendered once.
    var tenant: String?
    /// The request's metered executor, set by ``RequestMeteringMiddleware``.
    var metering: (meter: CostMeter, executor: MeteredExecutor)?
}

extension RequestFacts {
    /// Bills the request to `payer` (the first call wins).
    func bill(_ payer: Payer) {
        guard let (meter, executor) = metering else { return }
        executor.bill(meter.account(for: payer))
    }

    /// The request's CPU so far and its cost (what the calling thread used so far included).
    var cost: RequestCost? {
        guard let (meter, executor) = metering else { return nil }
        MeteringPool.settleCurrentThread()
        let usage = executor.usage
        return RequestCost(usage: usage, costMicros: meter.estimatedCostMicros(usage))
    }
}
