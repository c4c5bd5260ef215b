import Tracing

/// An ended span, ready for export: ids, times, and everything recorded, already within the
/// ``SpanLimits`` (string values cut, counts of what was dropped).
public struct FinishedSpan: Sendable {
    public var traceID: TraceID
    public var spanID: SpanID
    /// nil for a root span.
    public var parentSpanID: SpanID?
    /// The `tracestate` the span carried; empty when none.
    public var traceState: String
    public var name: String
    public var kind: SpanKind
    /// Wall-clock nanoseconds since the Unix epoch.
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64
    public var attributes: SpanAttributes
    public var droppedAttributeCount: Int
    public var events: [Event]
    public var droppedEventCount: Int
    public var links: [Link]
    public var droppedLinkCount: Int
    /// nil when never set (OTLP `STATUS_CODE_UNSET`).
    public var status: SpanStatus?
    /// W3C flags as exported (sampled is set on every exported span).
    public var flags: TraceFlags
    /// Whether the parent lives in another process (OTLP flags bit 9).
    public var hasRemoteParent: Bool

    public init(
        traceID: TraceID,
        spanID: SpanID,
        parentSpanID: SpanID?,
        traceState: String = "",
        name: String,
        kind: SpanKind = .internal,
        startNanoseconds: UInt64,
        endNanoseconds: UInt64,
        attributes: SpanAttributes = [:],
        droppedAttributeCount: Int = 0,
        events: [Event] = [],
        droppedEventCount: Int = 0,
        links: [Link] = [],
        droppedLinkCount: Int = 0,
        status: SpanStatus? = nil,
        flags: TraceFlags = .sampled,
        hasRemoteParent: Bool = false
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.name = name
        self.kind = kind
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.attributes = attributes
        self.droppedAttributeCount = droppedAttributeCount
        self.events = events
        self.droppedEventCount = droppedEventCount
        self.links = links
        self.droppedLinkCount = droppedLinkCount
        self.status = status
        self.flags = flags
        self.hasRemoteParent = hasRemoteParent
    }

    /// OTLP `Span.flags`: the W3C flags in bits 0-7, bit 8 (the is-remote bit is known) always
    /// set, bit 9 when the parent is remote.
    package var otlpFlags: UInt32 {
        UInt32(flags.rawValue) | 0x100 | (hasRemoteParent ? 0x200 : 0)
    }

    public struct Event: Sendable {
        public var name: String
        public var timeNanoseconds: UInt64
        public var attributes: SpanAttributes
        public var droppedAttributeCount: Int

        public init(name: String, timeNanoseconds: UInt64, attributes: SpanAttributes = [:], droppedAttributeCount: Int = 0) {
            self.name = name
            self.timeNanoseconds = timeNanoseconds
            self.attributes = attributes
            self.droppedAttributeCount = droppedAttributeCount
        }
    }

    public struct Link: Sendable {
        public var traceID: TraceID
        public var spanID: SpanID
        public var traceState: String
        public var flags: TraceFlags
        public var isRemote: Bool
        public var attributes: SpanAttributes
        public var droppedAttributeCount: Int

        public init(
            traceID: TraceID,
            spanID: SpanID,
            traceState: String = "",
            flags: TraceFlags = [],
            isRemote: Bool = false,
            attributes: SpanAttributes = [:],
            droppedAttributeCount: Int = 0
        ) {
            self.traceID = traceID
            self.spanID = spanID
            self.traceState = traceState
            self.flags = flags
            self.isRemote = isRemote
            self.attributes = attributes
            self.droppedAttributeCount = droppedAttributeCount
        }

        /// OTLP `Span.Link.flags`, like ``FinishedSpan/otlpFlags``.
        package var otlpFlags: UInt32 { UInt32(flags.rawValue) | 0x100 | (isRemote ? 0x200 : 0) }
    }
}

extension SpanLimits {
    /// Caps `attributes` at `count` entries, newly added ones dropped first: returns how many
    /// were dropped. `previous` are the ones already accepted (they stay).
    static func admit(_ attributes: inout SpanAttributes, previous: SpanAttributes, count limit: Int) -> Int {
        guard attributes.count > limit else { return 0 }
        var added: [String] = []
        attributes.forEach { key, _ in if previous.get(key) == nil { added.append(key) } }
        var excess = attributes.count - limit
        var dropped = 0
        for key in added.sorted(by: >) where excess > 0 {
            attributes.set(key, value: nil)
            excess -= 1
            dropped += 1
        }
        return dropped
    }

    /// Cuts string values (and string-array elements) to ``attributeValueLength`` bytes on a
    /// UTF-8 boundary; renders string-convertible values as strings.
    func bounded(_ attributes: SpanAttributes) -> SpanAttributes {
        var needsWork = false
        attributes.forEach { _, value in
            switch value {
            case .string(let text): if let limit = attributeValueLength, text.utf8.count > limit { needsWork = true }
            case .stringArray, .stringConvertible, .stringConvertibleArray: needsWork = true
            default: break
            }
        }
        guard needsWork else { return attributes }
        var result = attributes
        attributes.forEach { key, value in
            switch value {
            case .string(let text):
                result.set(key, value: .string(cut(text)))
            case .stringArray(let texts):
                result.set(key, value: .stringArray(texts.map(cut)))
            case .stringConvertible(let convertible):
                result.set(key, value: .string(cut(convertible.description)))
            case .stringConvertibleArray(let convertibles):
                result.set(key, value: .stringArray(convertibles.map { cut($0.description) }))
            default:
                break
            }
        }
        return result
    }

    func cut(_ text: String) -> String {
        guard let limit = attributeValueLength else { return text }
        return Self.prefix(of: text, bytes: limit)
    }

    /// The longest prefix of `text` within `bytes` UTF-8 bytes that ends on a scalar boundary.
    static func prefix(of text: String, bytes: Int) -> String {
        let utf8 = text.utf8
        guard utf8.count > bytes else { return text }
        var end = utf8.index(utf8.startIndex, offsetBy: bytes)
        while end > utf8.startIndex && utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return String(decoding: utf8[..<end], as: UTF8.self)
    }
}
