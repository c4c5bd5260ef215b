/// Protobuf wire primitives shared by the hand-written encoders (Loki's push request, OTLP).
public enum Protobuf {
    public static let varint: UInt64 = 0
    public static let fixed64: UInt64 = 1
    public static let lengthDelimited: UInt64 = 2
    public static let fixed32: UInt64 = 5

    @inlinable @inline(__always)
    public static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// Bytes of a length-delimited field with a one-byte tag (fields 1-15) and `count` bytes of payload.
    @inlinable @inline(__always)
    public static func fieldSize(payload count: Int) -> Int {
        1 + varintSize(UInt64(count)) + count
    }
}
