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
