import Instrumentation
import Tracing

/// A W3C trace id: 16 bytes, held as two big-endian halves (`high` is bytes 0-7).
public struct TraceID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A random, valid (not all-zero) id.
    package static func random(using generator: inout some RandomNumberGenerator) -> TraceID {
        while true {
            let id = TraceID(high: generator.next(), low: generator.next())
            if id.isValid { return id }
        }
    }

    /// All-zero ids are invalid (W3C Trace Context, OTLP).
    public var isValid: Bool { high != 0 || low != 0 }

    /// Parses 32 lowercase hex digits; nil for anything else (uppercase included).
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32, let high = HexCoding.parse(utf8[0..<16]), let low = HexCoding.parse(utf8[16..<32]) else {
            return nil
        }
        self.init(high: high, low: low)
    }

    /// 32 lowercase hex digits.
    public var description: String { HexCoding.format(high, low) }

    /// The 16 bytes, in wire order.
    package var bytes: [UInt8] { HexCoding.bytes(high) + HexCoding.bytes(low) }
}

/// A W3C span (parent) id: 8 bytes, held big-endian.
public struct SpanID: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// A random, valid (not zero) id.
    package static func random(using generator: inout some RandomNumberGenerator) -> SpanID {
        while true {
            let value: UInt64 = generator.next()
            if value != 0 { return SpanID(value) }
        }
    }

    public var isValid: Bool { value != 0 }

    /// Parses 16 lowercase hex digits; nil for anything else.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 16, let value = HexCoding.parse(utf8[...]) else { return nil }
        self.init(value)
    }

    /// 16 lowercase hex digits.
    public var description: String { HexCoding.format(value) }

    /// The 8 bytes, in wire order.
    package var bytes: [UInt8] { HexCoding.bytes(value) }
}

/// W3C trace flags. Only the bits this version of the spec defines are kept.
public struct TraceFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The caller may have recorded (and exported) this trace.
    public static let sampled = TraceFlags(rawValue: 0x01)
    /// The right-most 7 bytes of the trace id are random (Trace Context Level 2).
    public static let random = TraceFlags(rawValue: 0x02)
    /// Every bit defined today.
    public static let known: TraceFlags = [.sampled, .random]
}

/// What identifies a span across processes: ids, flags, `tracestate`, and whether it came from
/// another process.
package struct SpanContext: Hashable, Sendable {
    package var traceID: TraceID
    package var spanID: SpanID
    package var flags: TraceFlags
    /// The `tracestate` list, normalised; empty when there is none.
    package var traceState: String
    /// True when it was extracted from an incoming request (the span lives in another process).
    package var isRemote: Bool

    package init(traceID: TraceID, spanID: SpanID, flags: TraceFlags, traceState: String = "", isRemote: Bool = false) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.traceState = traceState
        self.isRemote = isRemote
    }

    package var isSampled: Bool { flags.contains(.sampled) }
}

/// What a `ServiceContext` holds for its span: the ``RunwaySpan`` itself, or a box around an
/// extracted remote parent's context. A class reference fits in the context's value storage,
/// where a ``SpanContext`` (over 24 bytes) would cost a boxed copy for every span.
protocol SpanContextCarrier: AnyObject, Sendable {
    var spanContext: SpanContext { get }
}

final class SpanContextBox: SpanContextCarrier {
    let spanContext: SpanContext
    init(_ spanContext: SpanContext) { self.spanContext = spanContext }
}

enum SpanContextKey: ServiceContextKey {
    typealias Value = any SpanContextCarrier
    static var nameOverride: String? { "span-context" }
}

extension ServiceContext {
    /// The current span's context (or an extracted remote parent's), if any.
    package var spanContext: SpanContext? {
        get { self[SpanContextKey.self]?.spanContext }
        set { self[SpanContextKey.self] = newValue.map(SpanContextBox.init) }
    }
}
