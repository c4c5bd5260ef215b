import Logging
import ServiceLifecycle
import Telemetry

/// Where ledger rows are stored. Writing must be idempotent: a row whose key exists is ignored
/// (`ON CONFLICT DO NOTHING`), so a retried batch is stored once.
package protocol LedgerStore: Sendable {
    func write(_ rows: [LedgerRow]) async throws
}

/// Sends ledger rows to a ``LedgerStore`` for the ``BatchingPipeline``: any failure is retryable
/// (the store is idempotent, so a batch that was stored before the failure is not counted twice).
package struct LedgerExporter: BatchExporter {
    let store: any LedgerStore
    let logger: Logger

    package init(store: any LedgerStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    package func export(_ batch: [LedgerRow]) async -> ExportResult {
        do {
            try await store.write(batch)
            return .delivered
        } catch {
            logger.warning("cost ledger write failed; the rows wait and are retried", metadata: ["error": "\(String(reflecting: error))"])
            return .retryable(retryAfter: nil)
        }
    }
}

/// Runs the cost ledger: closes an interval every flush interval (and at every minute and price
/// change) and sends its rows through the telemetry ``BatchingPipeline``, which never blocks a
/// request, holds rows in its bounded buffer while the database is down, and retries.
///
/// At graceful shutdown it closes the last partial interval first, then lets the pipeline flush.
package struct CostLedgerService<C: Clock>: Service where C.Duration == Duration {
    package let collector: LedgerCollector
    package let pipeline: BatchingPipeline<LedgerExporter, C>
    let clock: C
    let logger: Logger

    package init(collector: LedgerCollector, store: any LedgerStore, clock: C, logger: Logger, buffer: BatchingConfiguration? = nil) {
        self.collector = collector
        self.clock = clock
        self.logger = logger
        self.pipeline = BatchingPipeline(
            exporter: LedgerExporter(store: store, logger: logger),
            configuration: buffer ?? Self.defaultBatching,
            clock: clock
        )
    }

    /// 4 MiB of rows (about 15 000: hours of a busy instance), sent within a second of being
    /// closed, retried without limit while the database is down (backoff up to 30 s).
    package static var defaultBatching: BatchingConfiguration {
        var configuration = BatchingConfiguration()
        configuration.name = "ledger"
        configuration.maximumBufferBytes = 4 << 20
        configuration.maximumBatchBytes = 256 << 10
        configuration.flushInterval = .seconds(1)
        configuration.shutdownDeadline = .seconds(5)
        configuration.retry.maximumRetries = .max
        configuration.retry.maximumBackoff = .seconds(30)
        return configuration
    }

    /// Closes the current interval now and queues its rows. Never blocks.
    package func closeInterval() {
        for row in collector.collect() { pipeline.enqueue(row, size: row.estimatedSize) }
    }

    package func run() async throws {
        // The pipeline and the interval closer in a group of their own: it shuts the closer down
        // first (the last interval is queued), then the pipeline (which flushes it).
        let group = ServiceGroup(
            configuration: .init(services: [pipeline, IntervalCloser(ledger: self)] + attributionTicker, logger: logger)
        )
        try await group.run()
    }

    /// Shares unmeasured CPU every second, when the collector has a ``CostAttribution``.
    private var attributionTicker: [any Service] {
        collector.attribution.map { [AttributionTicker(attribution: $0, clock: clock)] } ?? []
    }

    struct AttributionTicker: Service {
        let attribution: CostAttribution
        let clock: C

        func run() async throws {
            try? await cancelWhenGracefulShutdown {
                while true {
                    try await clock.sleep(for: .seconds(1))
                    attribution.tick()
                }
            }
        }
    }

    struct IntervalCloser: Service {
        let ledger: CostLedgerService

        func run() async throws {
            let meter = ledger.collector.meter
            ledger.logger.info(
                "cost meter running",
                metadata: [
                    "instance": "\(meter.configuration.instance)", "boot": "\(meter.configuration.boot)",
                    "instance_type": "\(meter.configuration.instanceType)", "mode": "\(meter.pool.mode)",
                    "database_metered": "\(meter.databaseMetering.enabled)", "database_metering": "\(meter.databaseMetering.reason)",
                ]
            )
            try? await cancelWhenGracefulShutdown {
                while true {
                    let now = ledger.collector.clocks.wallNanoseconds()
                    let wait = ledger.collector.nextBoundary(after: now) - now
                    try await ledger.clock.sleep(for: .nanoseconds(wait))
                    ledger.closeInterval()
                }
            }
            ledger.closeInterval()
        }
    }
}
