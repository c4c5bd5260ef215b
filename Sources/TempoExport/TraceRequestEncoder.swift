import NIOCore
import Telemetry
import Tracing

/// Writes OTLP's `ExportTraceServiceRequest` protobuf straight into a buffer, without building
/// message objects: one `ResourceSpans` with the resource, one `ScopeSpans` with the scope, and
/// the spans. Field numbers follow opentelemetry-proto v1.10.0 (`trace/v1/trace.proto`,
/// `common/v1/common.proto`, `resource/v1/resource.proto`, `collector/trace/v1/trace_service.proto`);
/// `Span.flags` (16) and `Link.flags` (6) carry the W3C flags and the is-remote bits.
///
/// Sizes are computed first so every length prefix is written once, with no copying. The
/// resource and scope are encoded once, at init.
public struct TraceRequestEncoder: Sendable {
    let resource: ByteBuffer
    let scope: ByteBuffer

    public init(resource: TempoResource) {
        var resourceBuffer = ByteBuffer()
        for (key, value) in resource.attributes {
            resourceBuffer.writeLengthPrefix(1, Self.keyValueSize(key, .string(value)))
            Self.writeKeyValue(key, .string(value), into: &resourceBuffer)
        }
        self.resource = resourceBuffer
        var scopeBuffer = ByteBuffer()
        scopeBuffer.writeStringField(1, resource.scopeName)
        scopeBuffer.writeStringField(2, resource.scopeVersion)
        self.scope = scopeBuffer
    }

    /// The size of the whole request for `spans`, in bytes.
    public func encodedSize(_ spans: [FinishedSpan]) -> Int {
        Protobuf.fieldSize(payload: resourceSpansSize(spans.reduce(0) { $0 + Protobuf.fieldSize(payload: Self.spanSize($1)) }))
    }

    private func resourceSpansSize(_ spansBytes: Int) -> Int {
        Protobuf.fieldSize(payload: resource.readableBytes)
            + Protobuf.fieldSize(payload: Protobuf.fieldSize(payload: scope.readableBytes) + spansBytes)
    }

    /// Encodes the request for `spans`.
    public func encode(_ spans: [FinishedSpan]) -> ByteBuffer {
        let spanSizes = spans.map(Self.spanSize)
        let spansBytes = spanSizes.reduce(0) { $0 + Protobuf.fieldSize(payload: $1) }
        let resourceSpans = resourceSpansSize(spansBytes)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Protobuf.fieldSize(payload: resourceSpans))
        buffer.writeLengthPrefix(1, resourceSpans)  // ExportTraceServiceRequest.resource_spans
        buffer.writeLengthPrefix(1, resource.readableBytes)  // ResourceSpans.resource
        buffer.writeImmutableBuffer(resource)
        buffer.writeLengthPrefix(2, Protobuf.fieldSize(payload: scope.readableBytes) + spansBytes)  // ResourceSpans.scope_spans
        buffer.writeLengthPrefix(1, scope.readableBytes)  // ScopeSpans.scope
        buffer.writeImmutableBuffer(scope)
        for (span, size) in zip(spans, spanSizes) {
            buffer.writeLengthPrefix(2, size)  // ScopeSpans.spans
            Self.writeSpan(span, into: &buffer)
        }
        return buffer
    }

    // MARK: Span

    static func spanSize(_ span: FinishedSpan) -> Int {
        var size = 18 + 10  // trace_id, span_id
        size += stringFieldSize(span.traceState)
        if span.parentSpanID != nil { size += 10 }
        size += stringFieldSize(span.name)
        size += 2  // kind
        size += fixed64FieldSize(span.startNanoseconds) + fixed64FieldSize(span.endNanoseconds)
        size += attributesSize(span.attributes)
        size += varintFieldSize(span.droppedAttributeCount)
        for event in span.events { size += Protobuf.fieldSize(payload: eventSize(event)) }
        size += varintFieldSize(span.droppedEventCount)
        for link in span.links { size += Protobuf.fieldSize(payload: linkSize(link)) }
        size += varintFieldSize(span.droppedLinkCount)
        if let status = span.status { size += Protobuf.fieldSize(payload: statusSize(status)) }
        size += 6  // flags: two-byte tag, fixed32
        return size
    }

    static func writeSpan(_ span: FinishedSpan, into buffer: inout ByteBuffer) {
        writeTraceID(1, span.traceID, into: &buffer)
        writeSpanID(2, span.spanID, into: &buffer)
        buffer.writeStringField(3, span.traceState)
        if let parent = span.parentSpanID { writeSpanID(4, parent, into: &buffer) }
        buffer.writeStringField(5, span.name)
        buffer.writeVarintField(6, kindNumber(span.kind))
        buffer.writeFixed64Field(7, span.startNanoseconds)
        buffer.writeFixed64Field(8, span.endNanoseconds)
        writeAttributes(9, span.attributes, into: &buffer)
        buffer.writeVarintField(10, UInt64(span.droppedAttributeCount))
        for event in span.events {
            buffer.writeLengthPrefix(11, eventSize(event))
            buffer.writeFixed64Field(1, event.timeNanoseconds)
            buffer.writeStringField(2, event.name)
            writeAttributes(3, event.attributes, into: &buffer)
            buffer.writeVarintField(4, UInt64(event.droppedAttributeCount))
        }
        buffer.writeVarintField(12, UInt64(span.droppedEventCount))
        for link in span.links {
            buffer.writeLengthPrefix(13, linkSize(link))
            writeTraceID(1, link.traceID, into: &buffer)
            writeSpanID(2, link.spanID, into: &buffer)
            buffer.writeStringField(3, link.traceState)
            writeAttributes(4, link.attributes, into: &buffer)
            buffer.writeVarintField(5, UInt64(link.droppedAttributeCount))
            buffer.writeFixed32Field(6, link.otlpFlags)
        }
        buffer.writeVarintField(14, UInt64(span.droppedLinkCount))
        if let status = span.status {
            buffer.writeLengthPrefix(15, statusSize(status))
            if status.code == .error, let message = status.message { buffer.writeStringField(2, message) }
            buffer.writeVarintField(3, statusCode(status))
        }
        buffer.writeFixed32Field(16, span.otlpFlags)
    }

    static func kindNumber(_ kind: SpanKind) -> UInt64 {
        switch kind {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }

    static func statusCode(_ status: SpanStatus) -> UInt64 {
        switch status.code {
        case .ok: 1
        case .error: 2
        }
    }

    static func statusSize(_ status: SpanStatus) -> Int {
        var size = 2  // code, never 0 here
        if status.code == .error, let message = status.message { size += stringFieldSize(message) }
        return size
    }

    static func eventSize(_ event: FinishedSpan.Event) -> Int {
        fixed64FieldSize(event.timeNanoseconds) + stringFieldSize(event.name) + attributesSize(event.attributes)
            + varintFieldSize(event.droppedAttributeCount)
    }

    static func linkSize(_ link: FinishedSpan.Link) -> Int {
        18 + 10 + stringFieldSize(link.traceState) + attributesSize(link.attributes)
            + varintFieldSize(link.droppedAttributeCount) + 5
    }

    static func writeTraceID(_ field: UInt64, _ id: TraceID, into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefix(field, 16)
        buffer.writeInteger(id.high, endianness: .big)
        buffer.writeInteger(id.low, endianness: .big)
    }

    static func writeSpanID(_ field: UInt64, _ id: SpanID, into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefix(field, 8)
        buffer.writeInteger(id.value, endianness: .big)
    }

    static func stringFieldSize(_ value: String) -> Int {
        let count = value.utf8.count
        return count == 0 ? 0 : Protobuf.fieldSize(payload: count)
    }

    /// proto3 leaves out a zero fixed64 (a time of 0, in practice never).
    static func fixed64FieldSize(_ value: UInt64) -> Int {
        value == 0 ? 0 : 9
    }

    static func varintFieldSize(_ value: Int) -> Int {
        value == 0 ? 0 : 1 + Protobuf.varintSize(UInt64(value))
    }

    // MARK: Attributes (KeyValue, AnyValue, ArrayValue)

    static func attributesSize(_ attributes: SpanAttributes) -> Int {
        var size = 0
        attributes.forEach { key, value in size += Protobuf.fieldSize(payload: keyValueSize(key, value)) }
        return size
    }

    static func writeAttributes(_ field: UInt64, _ attributes: SpanAttributes, into buffer: inout ByteBuffer) {
        attributes.forEach { key, value in
            buffer.writeLengthPrefix(field, keyValueSize(key, value))
            writeKeyValue(key, value, into: &buffer)
        }
    }

    static func keyValueSize(_ key: String, _ value: SpanAttribute) -> Int {
        stringFieldSize(key) + Protobuf.fieldSize(payload: anyValueSize(value))
    }

    static func writeKeyValue(_ key: String, _ value: SpanAttribute, into buffer: inout ByteBuffer) {
        buffer.writeStringField(1, key)
        buffer.writeLengthPrefix(2, anyValueSize(value))
        writeAnyValue(value, into: &buffer)
    }

    /// The size of an `AnyValue`; oneof members are written even when they hold the default.
    static func anyValueSize(_ value: SpanAttribute) -> Int {
        switch value {
        case .string(let text): return Protobuf.fieldSize(payload: text.utf8.count)
        case .bool: return 2
        case .int32(let number): return 1 + Protobuf.varintSize(UInt64(bitPattern: Int64(number)))
        case .int64(let number): return 1 + Protobuf.varintSize(UInt64(bitPattern: number))
        case .double: return 9
        case .stringArray(let texts): return Protobuf.fieldSize(payload: arraySize(texts.map { .string($0) }))
        case .boolArray(let flags): return Protobuf.fieldSize(payload: flags.count * 4)
        case .int32Array(let numbers): return Protobuf.fieldSize(payload: arraySize(numbers.map { .int32($0) }))
        case .int64Array(let numbers): return Protobuf.fieldSize(payload: arraySize(numbers.map { .int64($0) }))
        case .doubleArray(let numbers): return Protobuf.fieldSize(payload: numbers.count * 11)
        case .stringConvertible(let convertible): return Protobuf.fieldSize(payload: convertible.description.utf8.count)
        case .stringConvertibleArray(let convertibles):
            return Protobuf.fieldSize(payload: arraySize(convertibles.map { .string($0.description) }))
        default: return Protobuf.fieldSize(payload: 0)
        }
    }

    static func arraySize(_ values: [SpanAttribute]) -> Int {
        values.reduce(0) { $0 + Protobuf.fieldSize(payload: anyValueSize($1)) }
    }

    static func writeAnyValue(_ value: SpanAttribute, into buffer: inout ByteBuffer) {
        switch value {
        case .string(let text):
            buffer.writeLengthPrefix(1, text.utf8.count)
            buffer.writeString(text)
        case .bool(let flag):
            buffer.writeTag(2, Protobuf.varint)
            buffer.writeInteger(UInt8(flag ? 1 : 0))
        case .int32(let number):
            buffer.writeTag(3, Protobuf.varint)
            buffer.writeVarint(UInt64(bitPattern: Int64(number)))
        case .int64(let number):
            buffer.writeTag(3, Protobuf.varint)
            buffer.writeVarint(UInt64(bitPattern: number))
        case .double(let number):
            buffer.writeTag(4, Protobuf.fixed64)
            buffer.writeInteger(number.bitPattern, endianness: .little)
        case .stringArray(let texts): writeArray(texts.map { .string($0) }, into: &buffer)
        case .boolArray(let flags): writeArray(flags.map { .bool($0) }, into: &buffer)
        case .int32Array(let numbers): writeArray(numbers.map { .int32($0) }, into: &buffer)
        case .int64Array(let numbers): writeArray(numbers.map { .int64($0) }, into: &buffer)
        case .doubleArray(let numbers): writeArray(numbers.map { .double($0) }, into: &buffer)
        case .stringConvertible(let convertible): writeAnyValue(.string(convertible.description), into: &buffer)
        case .stringConvertibleArray(let convertibles): writeArray(convertibles.map { .string($0.description) }, into: &buffer)
        default:
            buffer.writeLengthPrefix(1, 0)
        }
    }

    static func writeArray(_ values: [SpanAttribute], into buffer: inout ByteBuffer) {
        buffer.writeLengthPrefix(5, arraySize(values))  // AnyValue.array_value
        for value in values {
            buffer.writeLengthPrefix(1, anyValueSize(value))  // ArrayValue.values
            writeAnyValue(value, into: &buffer)
        }
    }
}
