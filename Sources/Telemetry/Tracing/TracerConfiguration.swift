/// Limits on what one span may carry (OpenTelemetry SDK "Span Limits"); what does not fit is
/// dropped and counted in the span's `dropped_*` fields.
public struct SpanLimits: Sendable, Equatable {
    /// Attributes per span (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`). Default 128.
    public var attributeCount = 128
    /// Longest string attribute value in UTF-8 bytes, cut on a scalar boundary; array elements
    /// each (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`). Default 2048, Tempo's own
    /// `max_attribute_bytes` (it would truncate there anyway). nil: unlimited.
    public var attributeValueLength: Int? = 2048
    /// Events per span (`OTEL_SPAN_EVENT_COUNT_LIMIT`). Default 128.
    public var eventCount = 128
    /// Links per span (`OTEL_SPAN_LINK_COUNT_LIMIT`). Default 128.
    public var linkCount = 128
    /// Attributes per event (`OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`). Default 128.
    public var attributesPerEvent = 128
    /// Attributes per link (`OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`). Default 128.
    public var attributesPerLink = 128

    public init() {}
}

/// How the ``RunwayTracer`` samples and bounds spans.
///
/// ```swift
/// var configuration = TracerConfiguration()
/// configuration.slowThreshold = .milliseconds(250)
/// ```
public struct TracerConfiguration: Sendable, Equatable {
    /// Share of new root traces kept by the head sampler, 0...1 (`OTEL_TRACES_SAMPLER_ARG`).
    /// Default 1 (every trace). Spans with a parent follow the parent's sampled flag.
    public var sampleRatio = 1.0
    /// A local trace the head sampler dropped is kept anyway when its local root lasts at least
    /// this long (`RUNWAY_TRACE_SLOW_THRESHOLD_MS`). Default 500 ms; nil turns the rule off.
    public var slowThreshold: Duration? = .milliseconds(500)
    /// A local trace the head sampler dropped is kept anyway when one of its spans ended with
    /// status error (`RUNWAY_TRACE_KEEP_ERRORS`). Default true.
    public var keepErrors = true
    /// Most ended spans of undecided traces held in memory, all traces together, while they wait
    /// for their local root to end (`RUNWAY_TRACE_MAX_HELD_SPANS`); more are dropped and counted.
    /// Default 8192.
    public var maximumHeldSpans = 8192
    /// Instrumentation scope name written with the spans. Default "runway".
    public var scopeName = "runway"
    public var limits = SpanLimits()

    public init() {}
}
