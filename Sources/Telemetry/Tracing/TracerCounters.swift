import Synchronization

/// What became of every span the tracer ended: at every moment
/// `ended == handedToSink + discardedByTail + droppedHeldFull + held`.
///
/// `handedToSink` is what the sink's pipeline counts as enqueued; from there its own
/// ``PipelineCounters`` account for it (sent, dropped by reason, buffered).
package final class TracerCounters: Sendable {
    package struct Snapshot: Sendable, Equatable {
        /// Spans started (recording or not).
        package var started = 0
        /// Recording spans ended.
        package var ended = 0
        /// Given to the sink: kept by the head sampler or by the tail decision.
        package var handedToSink = 0
        /// Local traces the tail decision kept because the root was slow, and because of an error.
        package var tracesKeptSlow = 0
        package var tracesKeptError = 0
        /// Spans of unsampled traces discarded when their local root ended fast and without error.
        package var discardedByTail = 0
        /// Spans of undecided traces dropped because ``TracerConfiguration/maximumHeldSpans`` were held.
        package var droppedHeldFull = 0
        /// Spans ended and held now, waiting for their local root.
        package var held = 0

        package init() {}

        package var isBalanced: Bool { ended == handedToSink + discardedByTail + droppedHeldFull + held }
    }

    let started = Atomic<Int>(0)
    let ended = Atomic<Int>(0)
    let handedToSink = Atomic<Int>(0)
    let tracesKeptSlow = Atomic<Int>(0)
    let tracesKeptError = Atomic<Int>(0)
    let discardedByTail = Atomic<Int>(0)
    let droppedHeldFull = Atomic<Int>(0)
    let held = Atomic<Int>(0)

    init() {}

    /// The counters, each read atomically (a snapshot taken while spans end may be off by the
    /// spans in motion; it balances once they settle).
    package var snapshot: Snapshot {
        var snapshot = Snapshot()
        snapshot.started = started.load(ordering: .relaxed)
        snapshot.ended = ended.load(ordering: .relaxed)
        snapshot.handedToSink = handedToSink.load(ordering: .relaxed)
        snapshot.tracesKeptSlow = tracesKeptSlow.load(ordering: .relaxed)
        snapshot.tracesKeptError = tracesKeptError.load(ordering: .relaxed)
        snapshot.discardedByTail = discardedByTail.load(ordering: .relaxed)
        snapshot.droppedHeldFull = droppedHeldFull.load(ordering: .relaxed)
        snapshot.held = held.load(ordering: .relaxed)
        return snapshot
    }

    /// Takes room for one held span; false when ``TracerConfiguration/maximumHeldSpans`` are held.
    func reserveHeld(maximum: Int) -> Bool {
        var current = held.load(ordering: .relaxed)
        while current < maximum {
            let (exchanged, original) = held.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .relaxed
            )
            if exchanged { return true }
            current = original
        }
        return false
    }
}
