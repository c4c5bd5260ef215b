import CostMeter
import Foundation
import Logging
import ServiceLifecycle
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

/// Runs `base` on `meter`'s standing executor for `payer` (when the meter meters at all), so what
/// its tasks use, and its statements' backend CPU, is that overhead item's on the ledger rather
/// than shared among the requests being served: the telemetry exporters, the flushes.
struct MeteredService: Service {
    let base: any Service
    let executor: MeteredExecutor?

    init(_ base: any Service, as payer: Payer, meter: CostMeter) {
        self.base = base
        executor = meter.configuration.metersRequests ? meter.standingExecutor(for: payer) : nil
    }

    func run() async throws {
        guard let executor else { return try await base.run() }
        try await MeteredExecutor.$current.withValue(executor) {
            try await withTaskExecutorPreference(executor) { try await base.run() }
        }
    }
}
