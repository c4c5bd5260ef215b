import NIOCore
import Telemetry

/// The part of OTLP's `ExportTraceServiceResponse` an exporter acts on:
/// `partial_success { int64 rejected_spans = 1; string error_message = 2; }` (field 1).
struct ExportTraceServiceResponse: Equatable {
    var rejectedSpans: Int64 = 0
    var errorMessage = ""

    /// Reads the response protobuf; unknown fields are skipped. nil when it is malformed.
    init?(decoding buffer: ByteBuffer) {
        var reader = ProtobufReader(buffer)
        while !reader.isAtEnd {
            guard let (field, wireType) = reader.readTag() else { return nil }
            if field == 1 && wireType == Protobuf.lengthDelimited {
                guard var partial = reader.readLengthDelimited().map(ProtobufReader.init) else { return nil }
                while !partial.isAtEnd {
                    guard let (inner, innerType) = partial.readTag() else { return nil }
                    switch (inner, innerType) {
                    case (1, Protobuf.varint):
                        guard let value = partial.readVarint() else { return nil }
                        rejectedSpans = Int64(bitPattern: value)
                    case (2, Protobuf.lengthDelimited):
                        guard let text = partial.readLengthDelimited() else { return nil }
                        errorMessage = String(buffer: text)
                    default:
                        guard partial.skip(wireType: innerType) else { return nil }
                    }
                }
            } else {
                guard reader.skip(wireType: wireType) else { return nil }
            }
        }
    }

    init(rejectedSpans: Int64, errorMessage: String) {
        self.rejectedSpans = rejectedSpans
        self.errorMessage = errorMessage
    }
}

/// Just enough protobuf reading for OTLP responses.
struct ProtobufReader {
    private var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    var isAtEnd: Bool { buffer.readableBytes == 0 }

    mutating func readVarint() -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard let byte = buffer.readInteger(as: UInt8.self) else { return nil }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }

    mutating func readTag() -> (field: UInt64, wireType: UInt64)? {
        guard let tag = readVarint() else { return nil }
        return (tag >> 3, tag & 7)
    }

    mutating func readLengthDelimited() -> ByteBuffer? {
        guard let length = readVarint(), length <= UInt64(buffer.readableBytes) else { return nil }
        return buffer.readSlice(length: Int(length))
    }

    mutating func skip(wireType: UInt64) -> Bool {
        switch wireType {
        case Protobuf.varint: return readVarint() != nil
        case Protobuf.fixed64: return buffer.readSlice(length: 8) != nil
        case Protobuf.lengthDelimited: return readLengthDelimited() != nil
        case Protobuf.fixed32: return buffer.readSlice(length: 4) != nil
        default: return false
        }
    }
}
