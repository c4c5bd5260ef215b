/// Head sampling by trace id: a trace is kept when the top 63 bits of its low half (bytes 8-15,
/// big-endian, shifted right by one) fall below `ratio × 2^63`, as opentelemetry-go computes it.
/// Deterministic per trace id, and a higher ratio keeps a superset.
package struct TraceIDRatioSampler: Sendable, Equatable {
    package let ratio: Double
    let threshold: UInt64

    /// `ratio` is clamped to 0...1 (NaN means 0).
    package init(ratio: Double) {
        let clamped = ratio.isNaN ? 0 : min(max(ratio, 0), 1)
        self.ratio = clamped
        self.threshold = clamped >= 1 ? 1 << 63 : UInt64(clamped * 9_223_372_036_854_775_808.0)
    }

    package func shouldSample(_ traceID: TraceID) -> Bool {
        traceID.low >> 1 < threshold
    }
}

/// The head decision, parent-based: a span follows its parent's sampled flag (local or remote);
/// a root is decided by the ratio sampler.
package struct HeadSampler: Sendable, Equatable {
    package let root: TraceIDRatioSampler

    package init(ratio: Double) { self.root = TraceIDRatioSampler(ratio: ratio) }

    package func shouldSample(traceID: TraceID, parent: SpanContext?) -> Bool {
        if let parent { return parent.isSampled }
        return root.shouldSample(traceID)
    }
}

/// The in-process tail decision for a local trace the head sampler did not keep: taken when its
/// local root ends, from the root's duration and whether any of its spans ended in error.
package struct TailSampler: Sendable, Equatable {
    /// Why a trace was kept after all.
    package enum Reason: String, Sendable {
        case slow
        case error
    }

    /// A local root at least this long is kept; nil keeps none for being slow.
    package var slowThreshold: Duration?
    /// Keep traces in which a span ended with status error.
    package var keepErrors: Bool

    package init(slowThreshold: Duration?, keepErrors: Bool) {
        self.slowThreshold = slowThreshold
        self.keepErrors = keepErrors
    }

    /// Whether the tail decision can keep anything (else unsampled spans need not be recorded).
    package var isEnabled: Bool { slowThreshold != nil || keepErrors }

    /// Why to keep a local trace whose root lasted `rootDurationNanoseconds`; nil to discard it.
    package func keep(rootDurationNanoseconds: UInt64, hasError: Bool) -> Reason? {
        if keepErrors && hasError { return .error }
        if let slowThreshold, rootDurationNanoseconds >= UInt64(clamping: slowThreshold.nanoseconds) { return .slow }
        return nil
    }
}
