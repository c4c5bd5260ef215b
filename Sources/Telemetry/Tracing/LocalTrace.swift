import Synchronization
import Tracing

/// The spans of one local trace (a local root and its in-process descendants) that the head
/// sampler did not keep: held until the local root ends, then kept or discarded as a whole by
/// the ``TailSampler``. Spans that end after the decision follow it at once.
final class LocalTrace: Sendable {
    private enum Decision {
        case pending
        case kept
        case discarded
    }

    private struct State {
        var decision = Decision.pending
        var held: [FinishedSpan] = []
        var hasError = false
    }

    private let state = Mutex(State())

    /// A descendant ended.
    func ended(_ span: FinishedSpan, tracer: RunwayTracer) {
        let isError = span.status?.code == .error
        enum Outcome {
            case keep
            case discard
            case held
            case full
        }
        let outcome = state.withLock { state -> Outcome in
            switch state.decision {
            case .kept: return .keep
            case .discarded: return .discard
            case .pending:
                if isError { state.hasError = true }
                guard tracer.counters.reserveHeld(maximum: tracer.configuration.maximumHeldSpans) else { return .full }
                state.held.append(span)
                return .held
            }
        }
        switch outcome {
        case .keep: tracer.handToSink(span, keptByTail: true)
        case .discard: tracer.counters.discardedByTail.add(1, ordering: .relaxed)
        case .held: break
        case .full: tracer.counters.droppedHeldFull.add(1, ordering: .relaxed)
        }
    }

    /// The local root ended: decides, then hands over or discards everything held.
    func rootEnded(_ root: FinishedSpan, tracer: RunwayTracer) {
        let rootDuration = root.endNanoseconds &- root.startNanoseconds
        let (reason, held) = state.withLock { state -> (TailSampler.Reason?, [FinishedSpan]) in
            let reason = tracer.tailSampler.keep(
                rootDurationNanoseconds: root.endNanoseconds >= root.startNanoseconds ? rootDuration : 0,
                hasError: state.hasError || root.status?.code == .error
            )
            state.decision = reason == nil ? .discarded : .kept
            defer { state.held = [] }
            return (reason, state.held)
        }
        tracer.counters.held.subtract(held.count, ordering: .relaxed)
        guard let reason else {
            tracer.counters.discardedByTail.add(held.count + 1, ordering: .relaxed)
            return
        }
        switch reason {
        case .slow: tracer.counters.tracesKeptSlow.add(1, ordering: .relaxed)
        case .error: tracer.counters.tracesKeptError.add(1, ordering: .relaxed)
        }
        for span in held { tracer.handToSink(span, keptByTail: true) }
        var root = root
        if root.attributes.count < tracer.configuration.limits.attributeCount {
            root.attributes.set("sampling.kept_by", value: .string(reason.rawValue))
        }
        tracer.handToSink(root, keptByTail: true)
    }
}
