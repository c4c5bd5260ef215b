import CostMeter
import Foundation
import Logging
import TelemetryBootstrap

/// The cost meter `serve` runs with: this instance's name, type and prices from the configuration.
func makeCostMeter(configuration: RunwayConfiguration) throws -> CostMeter {
    CostMeter(configuration: try configuration.cost.meterConfiguration(instance: configuration.telemetry.instance))
}

/// The service that closes the meter's intervals and writes them to `cost_ledger`. Its
/// `pipeline.counters` (enqueued = sent + dropped + buffered) and `services.meter.snapshot` (cost
/// and CPU by kind) are what `/metrics` exports.
func makeCostLedgerService(services: RunwayServices, logger: Logger) -> CostLedgerService<ContinuousClock> {
    CostLedgerService(
        collector: LedgerCollector(meter: services.meter, sharesUnmeasuredCPU: true),
        store: PostgresLedgerStore(database: services.database, logger: logger),
        clock: ContinuousClock(),
        logger: logger
    )
}

/// What `GET /v1/usage` shows of the tenant's cost this month (written up to the last flush).
struct UsageCost: Encodable, Sendable {
    var requests: Int64
    var appCPUNanoseconds: Int64
    var databaseCPUNanoseconds: Int64
    var costMicros: Int64

    init(_ line: CostReport.Line) {
        requests = line.requests
        appCPUNanoseconds = line.appCPUNanoseconds
        databaseCPUNanoseconds = line.databaseCPUNanoseconds
        costMicros = line.costMicros
    }

    enum CodingKeys: String, CodingKey {
        case requests
        case appCPUNanoseconds = "app_cpu_ns"
        case databaseCPUNanoseconds = "db_cpu_ns"
        case costMicros = "cost_micros"
    }
}
