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
@_spi(Benchmarks) public struct TraceRequestEncoder: Sendable {
    let resource: ByteBuffer
    let scope: ByteBuffer

    @_spi(Benchmarks) public init(resource: TempoResource) {
        let attributes = resource.attributes
        var resourceBuffer = ByteBuffer()
        resourceBuffer.writeProtobuf(
            size: attributes.reduce(0) { $0 + Protobuf.fieldSize(payload: Self.keyValueSize($1.0, .string($1.1))) }
        ) { writer in
            for (key, value) in attributes {
                writer.writeLengthPrefix(1, Self.keyValueSize(key, .string(value)))
                Self.writeKeyValue(key, .string(value), into: &writer)
            }
        }
        self.resource = resourceBuffer
        var scopeBuffer = ByteBuffer()
        scopeBuffer.writeProtobuf(size: Self.stringFieldSize(resource.scopeName) + Self.stringFieldSize(resource.scopeVersion)) {
            $0.writeStringField(1, resource.scopeName)
            $0.writeStringField(2, resource.scopeVersion)
        }
        self.scope = scopeBuffer
    }

    /// The size of the whole request for `spans`, in bytes.
    @_spi(Benchmarks) public func encodedSize(_ spans: [FinishedSpan]) -> Int {
        Protobuf.fieldSize(payload: resourceSpansSize(spans.reduce(0) { $0 + Protobuf.fieldSize(payload: Self.spanSize($1)) }))
    }

    private func resourceSpansSize(_ spansBytes: Int) -> Int {
        Protobuf.fieldSize(payload: resource.readableBytes)
            + Protobuf.fieldSize(payload: Protobuf.fieldSize(payload: scope.readableBytes) + spansBytes)
    }

    /// Encodes the request for `spans`.
    @_spi(Benchmarks) public func encode(_ spans: [FinishedSpan]) -> ByteBuffer {
        // One pass over each span's attributes: their sizes are kept for the writing pass.
        var attributes: [PlannedAttribute] = []
        attributes.reserveCapacity(spans.count * 8)
        let spanSizes = spans.map { Self.spanSize($0, planning: &attributes) }
        let spansBytes = spanSizes.reduce(0) { $0 + Protobuf.fieldSize(payload: $1) }
        let resourceSpans = resourceSpansSize(spansBytes)
        var buffer = ByteBuffer()
        buffer.writeProtobuf(size: Protobuf.fieldSize(payload: resourceSpans)) { writer in
            writer.writeLengthPrefix(1, resourceSpans)  // ExportTraceServiceRequest.resource_spans
            writer.writeLengthPrefix(1, resource.readableBytes)  // ResourceSpans.resource
            writer.writeBytes(resource)
            writer.writeLengthPrefix(2, Protobuf.fieldSize(payload: scope.readableBytes) + spansBytes)  // ResourceSpans.scope_spans
            writer.writeLengthPrefix(1, scope.readableBytes)  // ScopeSpans.scope
            writer.writeBytes(scope)
            var next = 0
            for (span, size) in zip(spans, spanSizes) {
                writer.writeLengthPrefix(2, size)  // ScopeSpans.spans
                let end = next + span.attributes.count
                Self.writeSpan(span, attributes: attributes[next..<end], into: &writer)
                next = end
            }
        }
        return buffer
    }

    // MARK: Span

    /// A span attribute with its sizes, measured once.
    struct PlannedAttribute {
        var key: String
        var value: SpanAttribute
        var valueSize: Int
        var keyValueSize: Int
    }

    static func spanSize(_ span: FinishedSpan) -> Int {
        var ignored: [PlannedAttribute] = []
        return spanSize(span, planning: &ignored, keep: false)
    }

    /// The span's encoded size; its attributes and their sizes are appended to `attributes`.
    static func spanSize(_ span: FinishedSpan, planning attributes: inout [PlannedAttribute], keep: Bool = true) -> Int {
        var size = 18 + 10  // trace_id, span_id
        size += stringFieldSize(span.traceState)
        if span.parentSpanID != nil { size += 10 }
        size += stringFieldSize(span.name)
        size += 2  // kind
        size += fixed64FieldSize(span.startNanoseconds) + fixed64FieldSize(span.endNanoseconds)
        span.attributes.forEach { key, value in
            let valueSize = anyValueSize(value)
            let keyValueSize = stringFieldSize(key) + Protobuf.fieldSize(payload: valueSize)
            size += Protobuf.fieldSize(payload: keyValueSize)
            if keep {
                attributes.append(PlannedAttribute(key: key, value: value, valueSize: valueSize, keyValueSize: keyValueSize))
            }
        }
        size += varintFieldSize(span.droppedAttributeCount)
        for event in span.events { size += Protobuf.fieldSize(payload: eventSize(event)) }
        size += varintFieldSize(span.droppedEventCount)
        for link in span.links { size += Protobuf.fieldSize(payload: linkSize(link)) }
        size += varintFieldSize(span.droppedLinkCount)
        if let status = span.status { size += Protobuf.fieldSize(payload: statusSize(status)) }
        size += 6  // flags: two-byte tag, fixed32
        return size
    }

    static func writeSpan(_ span: FinishedSpan, attributes: ArraySlice<PlannedAttribute>, into buffer: inout ProtobufWriter) {
        writeTraceID(1, span.traceID, into: &buffer)
        writeSpanID(2, span.spanID, into: &buffer)
        buffer.writeStringField(3, span.traceState)
        if let parent = span.parentSpanID { writeSpanID(4, parent, into: &buffer) }
        buffer.writeStringField(5, span.name)
        buffer.writeVarintField(6, kindNumber(span.kind))
        buffer.writeFixed64Field(7, span.startNanoseconds)
        buffer.writeFixed64Field(8, span.endNanoseconds)
        for attribute in attributes {
            buffer.writeLengthPrefix(9, attribute.keyValueSize)
            buffer.writeStringField(1, attribute.key)
            buffer.writeLengthPrefix(2, attribute.valueSize)
            writeAnyValue(attribute.value, into: &buffer)
        }
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

    static func writeTraceID(_ field: UInt64, _ id: TraceID, into buffer: inout ProtobufWriter) {
        buffer.writeLengthPrefix(field, 16)
        buffer.writeUInt64(id.high, bigEndian: true)
        buffer.writeUInt64(id.low, bigEndian: true)
    }

    static func writeSpanID(_ field: UInt64, _ id: SpanID, into buffer: inout ProtobufWriter) {
        buffer.writeLengthPrefix(field, 8)
        buffer.writeUInt64(id.value, bigEndian: true)
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

    static func writeAttributes(_ field: UInt64, _ attributes: SpanAttributes, into buffer: inout ProtobufWriter) {
        attributes.forEach { key, value in
            buffer.writeLengthPrefix(field, keyValueSize(key, value))
            writeKeyValue(key, value, into: &buffer)
        }
    }

    static func keyValueSize(_ key: String, _ value: SpanAttribute) -> Int {
        stringFieldSize(key) + Protobuf.fieldSize(payload: anyValueSize(value))
    }

    static func writeKeyValue(_ key: String, _ value: SpanAttribute, into buffer: inout ProtobufWriter) {
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

    static func writeAnyValue(_ value: SpanAttribute, into buffer: inout ProtobufWriter) {
        switch value {
        case .string(let text):
            buffer.writeLengthPrefix(1, text.utf8.count)
            buffer.writeString(text)
        case .bool(let flag):
            buffer.writeTag(2, Protobuf.varint)
            buffer.writeByte(flag ? 1 : 0)
        case .int32(let number):
            buffer.writeTag(3, Protobuf.varint)
            buffer.writeVarint(UInt64(bitPattern: Int64(number)))
        case .int64(let number):
            buffer.writeTag(3, Protobuf.varint)
            buffer.writeVarint(UInt64(bitPattern: number))
        case .double(let number):
            buffer.writeTag(4, Protobuf.fixed64)
            buffer.writeUInt64(number.bitPattern, bigEndian: false)
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

    static func writeArray(_ values: [SpanAttribute], into buffer: inout ProtobufWriter) {
        buffer.writeLengthPrefix(5, arraySize(values))  // AnyValue.array_value
        for value in values {
            buffer.writeLengthPrefix(1, anyValueSize(value))  // ArrayValue.values
            writeAnyValue(value, into: &buffer)
        }
    }
}
