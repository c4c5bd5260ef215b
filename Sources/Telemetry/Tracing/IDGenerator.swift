import Synchronization

/// Trace and span ids from xoshiro256** (Blackman and Vigna), seeded from the system's secure
/// generator: ids need to be random and unique, not secret, and a system call per id would cost
/// more than the rest of a span. One lock, taken once per span.
final class IDGenerator: Sendable {
    private struct Xoshiro256StarStar: RandomNumberGenerator {
        var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

        init() {
            var system = SystemRandomNumberGenerator()
            repeat {
                (s0, s1, s2, s3) = (system.next(), system.next(), system.next(), system.next())
            } while s0 | s1 | s2 | s3 == 0
        }

        mutating func next() -> UInt64 {
            let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
            let t = s1 << 17
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = s3 << 45 | s3 >> 19
            return result
        }
    }

    private let state = Mutex(Xoshiro256StarStar())

    init() {}

    /// A new span id, and a new trace id when `newTrace` (both valid: never zero).
    func next(newTrace: Bool) -> (traceID: TraceID?, spanID: SpanID) {
        state.withLock { generator in
            let traceID = newTrace ? TraceID.random(using: &generator) : nil
            return (traceID, SpanID.random(using: &generator))
        }
    }
}

extension IDGenerator {
    /// The ids of span contexts made without a tracer (``SpanContext/unrecorded(childOf:)``).
    static let shared = IDGenerator()
}

extension SpanContext {
    /// A context for work that no tracer records (tracing off, or a tracer that makes no ids): a
    /// new span id in `parent`'s trace (its state kept, never marked sampled), or in a new trace.
    /// Log lines and responses can then name the trace and span all the same.
    package static func unrecorded(childOf parent: SpanContext?) -> SpanContext {
        let ids = IDGenerator.shared.next(newTrace: parent == nil)
        var flags = parent?.flags ?? .random
        flags.remove(.sampled)
        return SpanContext(
            traceID: parent?.traceID ?? ids.traceID!,
            spanID: ids.spanID,
            flags: flags,
            traceState: parent?.traceState ?? ""
        )
    }
}
