import CoreMetrics
import Synchronization

/// Exact accounting for one telemetry pipeline: at every moment
/// `enqueued == sent + dropped (all reasons) + buffered`.
///
/// Every change that moves entries between states happens under one lock, so a snapshot is
/// always consistent. With a pipeline name, every change is also exported through swift-metrics
/// (``PipelineMetrics``), so `/metrics` shows the same numbers.
public final class PipelineCounters: Sendable {
    /// A consistent view of the counters.
    public struct Snapshot: Sendable, Equatable {
        public var enqueued: Int = 0
        public var sent: Int = 0
        /// Entries held in the buffer or in a request not yet answered.
        public var buffered: Int = 0
        public var dropped: [DropReason: Int] = [:]

        public init(enqueued: Int = 0, sent: Int = 0, buffered: Int = 0, dropped: [DropReason: Int] = [:]) {
            self.enqueued = enqueued
            self.sent = sent
            self.buffered = buffered
            self.dropped = dropped
        }

        public var droppedTotal: Int { dropped.values.reduce(0, +) }

        /// The invariant the pipeline guarantees.
        public var isBalanced: Bool { enqueued == sent + droppedTotal + buffered }
    }

    private let state = Mutex(Snapshot())
    private let metrics: PipelineMetrics?

    /// - Parameters:
    ///   - pipeline: the `pipeline` label of the exported metrics (`logs`, `spans`, `ledger`);
    ///     nil exports nothing.
    ///   - factory: the swift-metrics backend; by default the one bootstrapped in `main`.
    package init(pipeline: String? = nil, factory: (any MetricsFactory)? = nil) {
        self.metrics = pipeline.map { PipelineMetrics(pipeline: $0, factory: factory ?? MetricsSystem.factory) }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// `count` entries entered the pipeline and are now buffered.
    @usableFromInline
    package func enqueued(_ count: Int = 1) {
        state.withLock {
            $0.enqueued += count
            $0.buffered += count
            metrics?.enqueued(count)
        }
    }

    /// `count` buffered entries were delivered.
    package func sent(_ count: Int) {
        state.withLock {
            $0.sent += count
            $0.buffered -= count
            metrics?.sent(count)
        }
    }

    /// Of `count` buffered entries, the backend took all but `rejected`, which it refused for
    /// `reason` (one consistent step).
    package func partiallySent(_ count: Int, rejected: Int, reason: DropReason) {
        let rejected = min(max(rejected, 0), count)
        state.withLock {
            $0.sent += count - rejected
            if rejected > 0 { $0.dropped[reason, default: 0] += rejected }
            $0.buffered -= count
            metrics?.sent(count - rejected)
            if rejected > 0 { metrics?.dropped(rejected, reason: reason, wasBuffered: true) }
        }
    }

    /// `count` buffered entries were dropped for `reason`.
    @usableFromInline
    package func dropped(_ count: Int, reason: DropReason) {
        guard count > 0 else { return }
        state.withLock {
            $0.dropped[reason, default: 0] += count
            $0.buffered -= count
            metrics?.dropped(count, reason: reason, wasBuffered: true)
        }
    }

    /// `count` entries were refused before entering the buffer (for example an entry larger than
    /// the whole buffer): counted as enqueued and dropped at once.
    @usableFromInline
    package func refused(_ count: Int, reason: DropReason) {
        state.withLock {
            $0.enqueued += count
            $0.dropped[reason, default: 0] += count
            metrics?.enqueued(count, buffered: false)
            metrics?.dropped(count, reason: reason, wasBuffered: false)
        }
    }

    /// One export request ended with `result` after `duration` (metrics only).
    package func exported(_ result: ExportResult, duration: Duration) {
        metrics?.exported(result, duration: duration)
    }
}
