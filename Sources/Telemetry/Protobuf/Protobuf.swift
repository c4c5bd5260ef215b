import NIOCore

/// Protobuf wire primitives shared by the hand-written encoders (Loki's push request, OTLP).
@usableFromInline
package enum Protobuf {
    @usableFromInline package static let varint: UInt64 = 0
    @usableFromInline package static let fixed64: UInt64 = 1
    @usableFromInline package static let lengthDelimited: UInt64 = 2
    @usableFromInline package static let fixed32: UInt64 = 5

    @inlinable @inline(__always)
    package static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// Bytes of a length-delimited field with a one-byte tag (fields 1-15) and `count` bytes of payload.
    @inlinable @inline(__always)
    package static func fieldSize(payload count: Int) -> Int {
        1 + varintSize(UInt64(count)) + count
    }

    /// Bytes of a string field with a one-byte tag; proto3 leaves out an empty one.
    @inlinable @inline(__always)
    package static func stringFieldSize(_ count: Int) -> Int {
        count == 0 ? 0 : fieldSize(payload: count)
    }
}

/// Writes protobuf through a raw pointer into memory whose size was computed beforehand (see
/// `ByteBuffer.writeProtobuf(size:_:)`): no capacity checks or reference counting per byte.
@usableFromInline
package struct ProtobufWriter {
    @usableFromInline var cursor: UnsafeMutableRawPointer

    @inlinable init(cursor: UnsafeMutableRawPointer) {
        self.cursor = cursor
    }

    @inlinable @inline(__always)
    package mutating func writeByte(_ byte: UInt8) {
        cursor.storeBytes(of: byte, as: UInt8.self)
        cursor += 1
    }

    @inlinable @inline(__always)
    package mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            writeByte(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        writeByte(UInt8(value))
    }

    @inlinable @inline(__always)
    package mutating func writeTag(_ field: UInt64, _ wireType: UInt64) {
        writeVarint(field << 3 | wireType)
    }

    /// A length-delimited field's tag and length; the payload follows.
    @inlinable @inline(__always)
    package mutating func writeLengthPrefix(_ field: UInt64, _ length: Int) {
        writeTag(field, Protobuf.lengthDelimited)
        writeVarint(UInt64(length))
    }

    /// The UTF-8 bytes of a string, without tag or length.
    @inlinable
    package mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, utf8.count > 0 else { return }
            cursor.copyMemory(from: base, byteCount: utf8.count)
            cursor += utf8.count
        }
    }

    /// A string field, left out when empty (proto3 default).
    @inlinable
    package mutating func writeStringField(_ field: UInt64, _ value: String) {
        let count = value.utf8.count
        guard count > 0 else { return }
        writeLengthPrefix(field, count)
        writeString(value)
    }

    @inlinable @inline(__always)
    package mutating func writeUInt64(_ value: UInt64, bigEndian: Bool) {
        cursor.storeBytes(of: bigEndian ? value.bigEndian : value.littleEndian, as: UInt64.self)
        cursor += 8
    }

    /// A fixed64 field, left out when zero (proto3 default).
    @inlinable
    package mutating func writeFixed64Field(_ field: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, Protobuf.fixed64)
        writeUInt64(value, bigEndian: false)
    }

    @inlinable
    package mutating func writeFixed32Field(_ field: UInt64, _ value: UInt32) {
        writeTag(field, Protobuf.fixed32)
        cursor.storeBytes(of: value.littleEndian, as: UInt32.self)
        cursor += 4
    }

    /// A varint field, left out when zero (proto3 default).
    @inlinable
    package mutating func writeVarintField(_ field: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, Protobuf.varint)
        writeVarint(value)
    }

    /// Bytes already encoded.
    @inlinable
    package mutating func writeBytes(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            cursor.copyMemory(from: base, byteCount: bytes.count)
            cursor += bytes.count
        }
    }
}

extension ByteBuffer {
    /// Appends exactly `size` bytes written by `body`; traps if `body` writes another amount
    /// (a size computation that disagrees with the writer is a bug, never data to send).
    @inlinable
    package mutating func writeProtobuf(size: Int, _ body: (inout ProtobufWriter) -> Void) {
        guard size > 0 else { return }
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            let start = raw.baseAddress!
            var writer = ProtobufWriter(cursor: start)
            body(&writer)
            precondition(writer.cursor == start + size, "protobuf size computed and written differ")
            return size
        }
    }
}
