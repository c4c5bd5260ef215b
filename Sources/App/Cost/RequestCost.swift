import CostMeter
import Foundation
import Logging
import TelemetryBootstrap

/// One request's CPU and cost, for its access log line (and its server span).
struct RequestCost: Sendable, Equatable {
    var usage: Usage
    /// Micro-dollars at the current price; a request costs a small fraction of one.
    var costMicros: Double

    func addMetadata(to metadata: inout Logger.Metadata) {
        metadata["app_cpu_ns"] = .string(String(usage.appCPUNanoseconds))
        metadata["db_cpu_ns"] = .string(String(usage.databaseCPUNanoseconds))
        metadata["cost_microusd"] = .string(DecimalText.fixed(Int64((costMicros * 1e6).rounded()), decimals: 6))
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
