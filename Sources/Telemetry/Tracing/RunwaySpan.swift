import Instrumentation
import Synchronization
import Tracing

/// A span of the ``RunwayTracer``. Its mutable state sits behind one lock; ending it hands the
/// finished span to the tracer (once: later calls are ignored).
public final class RunwaySpan: Tracing.Span, SpanContextCarrier, Sendable {
    /// The context the span was started in (its parent's).
    private let parentContext: ServiceContext
    /// This span's ids and flags (the flags as decided at start).
    package let spanContext: SpanContext
    let parentSpanID: SpanID?
    let hasRemoteParent: Bool
    let kind: SpanKind
    let startNanoseconds: UInt64
    let isSampled: Bool
    /// The held local trace this span belongs to (unsampled but recorded for the tail decision).
    let localTrace: LocalTrace?
    /// Whether ``context`` must write ``localTrace`` (the parent's context holds another one).
    private let setsLocalTrace: Bool
    let isLocalRoot: Bool
    public let isRecording: Bool
    private let tracer: RunwayTracer?
    private let state: Mutex<State>

    struct State {
        var name: String
        var attributes: SpanAttributes = [:]
        /// A full span's attributes while they are out for a change in place.
        var attributesBeforeChange: SpanAttributes? = nil
        var droppedAttributes = 0
        var events: [FinishedSpan.Event] = []
        var droppedEvents = 0
        var links: [FinishedSpan.Link] = []
        var droppedLinks = 0
        var status: SpanStatus? = nil
        var ended = false

        /// Appends to a bounded list of a span still open; past `limit`, counts it as dropped.
        mutating func append<Item>(
            _ item: Item,
            to list: WritableKeyPath<State, [Item]>,
            limit: Int,
            droppedCount: WritableKeyPath<State, Int>
        ) {
            guard !ended else { return }
            if self[keyPath: list].count < limit {
                self[keyPath: list].append(item)
            } else {
                self[keyPath: droppedCount] += 1
            }
        }
    }

    init(
        name: String,
        parentContext: ServiceContext,
        spanContext: SpanContext,
        parentSpanID: SpanID?,
        hasRemoteParent: Bool,
        kind: SpanKind,
        startNanoseconds: UInt64,
        localTrace: LocalTrace?,
        parentLocalTrace: LocalTrace?,
        isLocalRoot: Bool,
        tracer: RunwayTracer?
    ) {
        self.parentContext = parentContext
        self.spanContext = spanContext
        self.parentSpanID = parentSpanID
        self.hasRemoteParent = hasRemoteParent
        self.kind = kind
        self.startNanoseconds = startNanoseconds
        self.isSampled = spanContext.isSampled
        self.localTrace = localTrace
        self.setsLocalTrace = localTrace !== parentLocalTrace
        self.isLocalRoot = isLocalRoot
        self.tracer = tracer
        self.isRecording = tracer != nil
        var state = State(name: name)
        // Room for a typical span's attributes up front: one allocation instead of one per growth,
        // made here, where the dictionary's code is specialised (`SpanAttributes.reserveCapacity`
        // is not). A server span carries HTTP's ten or so (16 buckets, about 1.1 KB); any other a
        // few (8 buckets for 6, about 600 bytes: under the 1 KB from which glibc's malloc takes
        // its slower path for large blocks).
        if tracer != nil {
            state.attributes = SpanAttributes([String: SpanAttribute](minimumCapacity: kind == .server ? 12 : 6))
        }
        self.state = Mutex(state)
    }

    /// The parent's context with this span in it (and the held local trace, if any). Built on
    /// each read: storing it would make the span and its context hold each other.
    public var context: ServiceContext {
        var context = parentContext
        context[SpanContextKey.self] = self
        if setsLocalTrace { context[LocalTraceKey.self] = localTrace }
        return context
    }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set {
            guard isRecording else { return }
            state.withLock { if !$0.ended { $0.name = newValue } }
        }
    }

    /// Setting keeps at most ``SpanLimits/attributeCount`` attributes: keys added past it are
    /// dropped and counted. A change in place (`span.attributes["k"] = v`) takes the attributes
    /// out of the span while it runs, so the dictionary is not copied; a concurrent change to the
    /// same span is merged into it afterwards.
    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set {
            guard let tracer else { return }
            let limit = tracer.configuration.limits.attributeCount
            state.withLock { state in
                guard !state.ended else { return }
                var attributes = newValue
                state.droppedAttributes += SpanLimits.admit(&attributes, previous: state.attributes, count: limit)
                state.attributes = attributes
            }
        }
        _modify {
            // The coroutine's frame stays within the caller's fixed buffer (no heap frame per
            // access): only the attributes live across the yield, the rest is in the state.
            var attributes = takeAttributesForChange()
            defer { returnAttributes(attributes) }
            yield &attributes
        }
    }

    /// Takes the attributes out of the span for a change in place, so the dictionary is not
    /// copied. A full span also keeps the keys it had, to tell new ones apart afterwards.
    private func takeAttributesForChange() -> SpanAttributes {
        guard let tracer else { return [:] }
        let limit = tracer.configuration.limits.attributeCount
        return state.withLock { state in
            let taken = state.attributes
            state.attributes = [:]
            if taken.count >= limit { state.attributesBeforeChange = taken }
            return taken
        }
    }

    /// Puts changed attributes back within the limit; a concurrent change to the same span is
    /// merged into them.
    private func returnAttributes(_ changed: SpanAttributes) {
        guard let tracer else { return }
        let limit = tracer.configuration.limits.attributeCount
        state.withLock { state in
            let previous = state.attributesBeforeChange ?? [:]
            state.attributesBeforeChange = nil
            guard !state.ended else { return }
            var attributes = changed
            state.droppedAttributes += SpanLimits.admit(&attributes, previous: previous, count: limit)
            if !state.attributes.isEmpty { attributes.merge(state.attributes) }
            state.attributes = attributes
        }
    }

    /// OpenTelemetry's rule: an `ok` status is final; an error's message is kept.
    public func setStatus(_ status: SpanStatus) {
        guard isRecording else { return }
        state.withLock { state in
            guard !state.ended, state.status?.code != .ok else { return }
            state.status = status.code == .ok ? SpanStatus(code: .ok) : status
        }
    }

    public func addEvent(_ event: SpanEvent) {
        guard let tracer else { return }
        let limits = tracer.configuration.limits
        var attributes = event.attributes
        let dropped = SpanLimits.admit(&attributes, previous: [:], count: limits.attributesPerEvent)
        let recorded = FinishedSpan.Event(
            name: event.name,
            timeNanoseconds: event.nanosecondsSinceEpoch,
            attributes: attributes,
            droppedAttributeCount: dropped
        )
        state.withLock { $0.append(recorded, to: \.events, limit: limits.eventCount, droppedCount: \.droppedEvents) }
    }

    /// Records an `exception` event (OpenTelemetry semantic conventions); the status is left to
    /// the caller (`withSpan` sets error when the operation throws).
    public func recordError<Instant: TracerInstant>(
        _ error: any Error,
        attributes: SpanAttributes,
        at instant: @autoclosure () -> Instant
    ) {
        guard isRecording else { return }
        var eventAttributes: SpanAttributes = [
            "exception.type": .string(String(describing: type(of: error))),
            "exception.message": .string(String(describing: error)),
        ]
        eventAttributes.merge(attributes)
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: eventAttributes))
    }

    public func addLink(_ link: SpanLink) {
        guard let tracer, let linked = link.context.spanContext else { return }
        let limits = tracer.configuration.limits
        var attributes = link.attributes
        let dropped = SpanLimits.admit(&attributes, previous: [:], count: limits.attributesPerLink)
        let recorded = FinishedSpan.Link(
            traceID: linked.traceID,
            spanID: linked.spanID,
            traceState: linked.traceState,
            flags: linked.flags,
            isRemote: linked.isRemote,
            attributes: attributes,
            droppedAttributeCount: dropped
        )
        state.withLock { $0.append(recorded, to: \.links, limit: limits.linkCount, droppedCount: \.droppedLinks) }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard let tracer else { return }
        let taken = state.withLock { state -> State? in
            guard !state.ended else { return nil }
            state.ended = true
            defer {
                state.attributes = [:]
                state.events = []
                state.links = []
            }
            return state
        }
        guard let taken else { return }
        let limits = tracer.configuration.limits
        let finished = FinishedSpan(
            traceID: spanContext.traceID,
            spanID: spanContext.spanID,
            parentSpanID: parentSpanID,
            traceState: spanContext.traceState,
            name: taken.name,
            kind: kind,
            startNanoseconds: startNanoseconds,
            endNanoseconds: instant().nanosecondsSinceEpoch,
            attributes: limits.bounded(taken.attributes),
            droppedAttributeCount: taken.droppedAttributes,
            events: taken.events.map { event in
                var event = event
                event.attributes = limits.bounded(event.attributes)
                return event
            },
            droppedEventCount: taken.droppedEvents,
            links: taken.links.map { link in
                var link = link
                link.attributes = limits.bounded(link.attributes)
                return link
            },
            droppedLinkCount: taken.droppedLinks,
            status: taken.status,
            flags: spanContext.flags,
            hasRemoteParent: hasRemoteParent
        )
        tracer.ended(finished, of: self)
    }
}
