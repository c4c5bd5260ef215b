import CostMeter
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TelemetryBootstrap

/// Runs the whole request on a metered executor of its own, so all of its CPU is measured —
/// authentication, rate limiting, refusals and the access line included — and bills it to
/// whoever ``RequestFacts/bill(_:)`` names, else to `defaultPayer` (`unauthenticated` on the
/// public listener, `admin` on the admin one). Outermost. Under `serve` the server has already put
/// the request on its executor (``HTTPServerBuilder/metered(by:defaultPayer:)``, which
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

/// One request's CPU and cost, for its access log line (and its server span).
struct RequestCost: Sendable, Equatable {
    var usage: Usage
    /// Micro-dollars at the current price; a request costs a small fraction of one.
    var costMicros: Double

    func addMetadata(to metadata: inout Logger.Metadata) {
        metadata["app_cpu_ns"] = "\(usage.appCPUNanoseconds)"
        metadata["db_cpu_ns"] = "\(usage.databaseCPUNanoseconds)"
        metadata["cost_microusd"] = "\(DecimalText.fixed(Int64((costMicros * 1e6).rounded()), decimals: 6))"
    }
}

extension CostTotals {
    /// Cost and CPU by kind (never one series per tenant: per-tenant cost lives in the ledger).
    func writeMetrics(into text: inout MetricsText) {
        text.family(
            "runway_cost_microdollars_total",
            type: "counter",
            help: "Cost priced into the ledger, in micro-dollars, by kind (tenant, overhead, idle).",
            samples: costMicrosByKind.sorted { $0.key < $1.key }.map { (#"{kind="\#($0.key)"}"#, Double($0.value)) }
        )
        text.family(
            "runway_cpu_seconds_total",
            type: "counter",
            help: "CPU seconds by kind (tenant_app, tenant_db, overhead, idle).",
            samples: cpuSecondsByKind.sorted { $0.key < $1.key }.map { (#"{kind="\#($0.key)"}"#, $0.value) }
        )
        text.family(
            "runway_cost_database_metered",
            type: "gauge",
            help: "1 when the co-located database's backend CPU is metered, else 0.",
            samples: [("", databaseMetered ? 1 : 0)]
        )
    }
}
