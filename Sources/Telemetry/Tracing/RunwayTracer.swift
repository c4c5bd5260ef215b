import Instrumentation
import Synchronization
import Tracing

/// The tracer for swift-distributed-tracing: parent-based ratio head sampling, an in-process
/// tail decision per local root, W3C Trace Context propagation, span limits, and a sink for the
/// spans it keeps.
///
/// ```swift
/// let pipeline = BatchingPipeline(exporter: tempoExporter, configuration: tempoBatching)
/// let tracer = RunwayTracer(configuration: TracerConfiguration()) { span in
///     pipeline.enqueue(span)  // TempoExport's enqueue, at the span's encoded size
/// }
/// InstrumentationSystem.bootstrap(tracer)
/// ```
///
/// Spans the head sampler keeps go to the sink as soon as they end. Spans it does not keep are
/// still recorded (when the tail rules are on) and held, within
/// ``TracerConfiguration/maximumHeldSpans``, until their local root ends: a slow root or an
/// error anywhere in the local trace keeps them all, else they are discarded. ``counters``
/// account for every span.
public final class RunwayTracer: Tracer, Sendable {
    public typealias Span = RunwaySpan

    public let configuration: TracerConfiguration
    package let counters = TracerCounters()
    let headSampler: HeadSampler
    let tailSampler: TailSampler
    private let ids = IDGenerator()
    private let sink: @Sendable (FinishedSpan) -> Void

    /// - Parameters:
    ///   - sink: takes each kept span and returns at once (a ``BatchingPipeline``'s enqueue).
    public init(configuration: TracerConfiguration = .init(), sink: @escaping @Sendable (FinishedSpan) -> Void) {
        self.configuration = configuration
        self.headSampler = HeadSampler(ratio: configuration.sampleRatio)
        self.tailSampler = TailSampler(slowThreshold: configuration.slowThreshold, keepErrors: configuration.keepErrors)
        self.sink = sink
    }

    /// Runs `operation` with tracing off for the current task and its children: spans started
    /// inside are not recorded (telemetry's own exports must not be traced).
    package static func withTracingSuppressed<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ operation: () async throws -> T
    ) async rethrows -> T {
        try await $isSuppressed.withValue(true, operation: operation, isolation: isolation)
    }

    @TaskLocal static var isSuppressed = false

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> RunwaySpan {
        counters.started.add(1, ordering: .relaxed)
        let context = context()
        let parent = context.spanContext
        let ids = ids.next(newTrace: parent == nil)
        let traceID = parent?.traceID ?? ids.traceID!
        let sampled = headSampler.shouldSample(traceID: traceID, parent: parent)
        var flags = parent?.flags ?? .random
        if sampled { flags.insert(.sampled) } else { flags.remove(.sampled) }
        let spanContext = SpanContext(
            traceID: traceID,
            spanID: ids.spanID,
            flags: flags,
            traceState: parent?.traceState ?? ""
        )
        // A local parent passes on its held trace; a new local root opens one when unsampled.
        let inheritedTrace = context[LocalTraceKey.self]
        let parentTrace = parent?.isRemote == false ? inheritedTrace : nil
        var localTrace: LocalTrace? = nil
        var isLocalRoot = false
        let recording: Bool
        if Self.isSuppressed {
            recording = false
        } else if sampled {
            recording = true
        } else if let parentTrace {
            localTrace = parentTrace
            recording = true
        } else if tailSampler.isEnabled && (parent == nil || parent?.isRemote == true) {
            localTrace = LocalTrace()
            isLocalRoot = true
            recording = true
        } else {
            recording = false
        }
        return RunwaySpan(
            name: operationName,
            parentContext: context,
            spanContext: spanContext,
            parentSpanID: parent?.spanID,
            hasRemoteParent: parent?.isRemote ?? false,
            kind: kind,
            startNanoseconds: instant().nanosecondsSinceEpoch,
            localTrace: localTrace,
            parentLocalTrace: inheritedTrace,
            isLocalRoot: isLocalRoot,
            tracer: recording ? self : nil
        )
    }

    public func forceFlush() {}

    /// A recording span ended.
    func ended(_ span: FinishedSpan, of recorder: RunwaySpan) {
        counters.ended.add(1, ordering: .relaxed)
        guard let localTrace = recorder.localTrace else {
            handToSink(span, keptByTail: false)
            return
        }
        if recorder.isLocalRoot {
            localTrace.rootEnded(span, tracer: self)
        } else {
            localTrace.ended(span, tracer: self)
        }
    }

    func handToSink(_ span: FinishedSpan, keptByTail: Bool) {
        var span = span
        if keptByTail { span.flags.insert(.sampled) }
        counters.handedToSink.add(1, ordering: .relaxed)
        sink(span)
    }
}

enum LocalTraceKey: ServiceContextKey {
    typealias Value = LocalTrace
}

// MARK: - W3C Trace Context propagation

extension RunwayTracer {
    /// Reads `traceparent` (and `tracestate` when it is valid) into the context as a remote
    /// parent; an invalid `traceparent` leaves the context alone, so the request starts a root.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout ServiceContext,
        using extractor: Extract
    ) where Extract.Carrier == Carrier {
        W3CTraceContext.extract(carrier, into: &context, using: extractor)
    }

    /// Writes `traceparent` (and `tracestate` when there is one) for the context's span.
    public func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let spanContext = context.spanContext else { return }
        injector.inject(
            W3CTraceContext.formatTraceparent(
                traceID: spanContext.traceID,
                spanID: spanContext.spanID,
                flags: spanContext.flags
            ),
            forKey: W3CTraceContext.traceparentHeader,
            into: &carrier
        )
        if !spanContext.traceState.isEmpty {
            injector.inject(spanContext.traceState, forKey: W3CTraceContext.tracestateHeader, into: &carrier)
        }
    }
}
