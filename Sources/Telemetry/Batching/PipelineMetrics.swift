import CoreMetrics
import Synchronization

/// A pipeline's counters as swift-metrics series, labelled by pipeline (never by tenant):
///
/// - `runway_telemetry_enqueued_total`, `runway_telemetry_sent_total`,
///   `runway_telemetry_dropped_total{reason, class}` (counters) and `runway_telemetry_buffered`
///   (a gauge), which balance as the ``PipelineCounters`` do;
/// - `runway_telemetry_export_requests_total{outcome}` (`delivered`, `partially_delivered`,
///   `rejected`, `retryable`, `too_large`) and `runway_telemetry_export_duration_seconds` (a histogram).
///
/// Several pipelines may share a name (one per Loki tenant, say): the series are increments, so
/// they add up.
final class PipelineMetrics: Sendable {
    private let pipeline: String
    private let factory: any MetricsFactory
    private let enqueuedCounter: Counter
    private let sentCounter: Counter
    private let bufferedGauge: Meter
    private let exportDuration: Timer
    private let droppedCounters = Mutex<[DropReason: Counter]>([:])
    private let exportCounters = Mutex<[String: Counter]>([:])

    init(pipeline: String, factory: any MetricsFactory) {
        self.pipeline = pipeline
        self.factory = factory
        let dimensions = [("pipeline", pipeline)]
        enqueuedCounter = Counter(label: "runway_telemetry_enqueued_total", dimensions: dimensions, factory: factory)
        sentCounter = Counter(label: "runway_telemetry_sent_total", dimensions: dimensions, factory: factory)
        bufferedGauge = Meter(label: "runway_telemetry_buffered", dimensions: dimensions, factory: factory)
        exportDuration = Timer(
            label: "runway_telemetry_export_duration_seconds",
            dimensions: dimensions,
            preferredDisplayUnit: .seconds,
            factory: factory
        )
    }

    func enqueued(_ count: Int, buffered: Bool = true) {
        enqueuedCounter.increment(by: count)
        if buffered { bufferedGauge.increment(by: Double(count)) }
    }

    func sent(_ count: Int) {
        sentCounter.increment(by: count)
        bufferedGauge.decrement(by: Double(count))
    }

    func dropped(_ count: Int, reason: DropReason, wasBuffered: Bool) {
        let counter = droppedCounters.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(
                label: "runway_telemetry_dropped_total",
                dimensions: [("pipeline", pipeline), ("reason", reason.name), ("class", reason.detail ?? "")],
                factory: factory
            )
            counters[reason] = counter
            return counter
        }
        counter.increment(by: count)
        if wasBuffered { bufferedGauge.decrement(by: Double(count)) }
    }

    func exported(_ result: ExportResult, duration: Duration) {
        let outcome: String
        switch result {
        case .delivered: outcome = "delivered"
        case .partiallyDelivered: outcome = "partially_delivered"
        case .rejected: outcome = "rejected"
        case .retryable: outcome = "retryable"
        case .tooLarge: outcome = "too_large"
        }
        let counter = exportCounters.withLock { counters in
            if let counter = counters[outcome] { return counter }
            let counter = Counter(
                label: "runway_telemetry_export_requests_total",
                dimensions: [("pipeline", pipeline), ("outcome", outcome)],
                factory: factory
            )
            counters[outcome] = counter
            return counter
        }
        counter.increment()
        exportDuration.recordNanoseconds(duration.nanoseconds)
    }
}
