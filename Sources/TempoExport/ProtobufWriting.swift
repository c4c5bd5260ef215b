import NIOCore

/// Protobuf wire primitives written straight into a `ByteBuffer`.
enum Protobuf {
    static let varint: UInt64 = 0
    static let fixed64: UInt64 = 1
    static let lengthDelimited: UInt64 = 2
    static let fixed32: UInt64 = 5

    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// Bytes of a length-delimited field with a one-byte tag (fields 1-15) and `count` bytes of payload.
    @inline(__always)
    static func fieldSize(payload count: Int) -> Int {
        1 + varintSize(UInt64(count)) + count
    }
}

extension ByteBuffer {
    @inline(__always)
    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        writeInteger(UInt8(value))
    }

    @inline(__always)
    mutating func writeTag(_ field: UInt64, _ wireType: UInt64) {
        writeVarint(field << 3 | wireType)
    }

    /// A length-delimited field's tag and length; the payload follows.
    @inline(__always)
    mutating func writeLengthPrefix(_ field: UInt64, _ length: Int) {
        writeTag(field, Protobuf.lengthDelimited)
        writeVarint(UInt64(length))
    }

    /// A string field, left out when empty (proto3 default).
    mutating func writeStringField(_ field: UInt64, _ value: String) {
        let count = value.utf8.count
        guard count > 0 else { return }
        writeLengthPrefix(field, count)
        writeString(value)
    }

    /// A fixed64 field, left out when zero (proto3 default).
    mutating func writeFixed64Field(_ field: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, Protobuf.fixed64)
        writeInteger(value, endianness: .little)
    }

    mutating func writeFixed32Field(_ field: UInt64, _ value: UInt32) {
        writeTag(field, Protobuf.fixed32)
        writeInteger(value, endianness: .little)
    }

    /// A varint field, left out when zero (proto3 default).
    mutating func writeVarintField(_ field: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, Protobuf.varint)
        writeVarint(value)
    }
}
