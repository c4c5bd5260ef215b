/// Lowercase hexadecimal, written in place: trace and span ids, request ids, JSON escapes.
package enum HexCoding {
    /// `value`'s 16 lowercase hex digits, written at `offset`.
    @inline(__always)
    static func write(_ value: UInt64, to buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        for index in 0..<16 {
            buffer[offset + index] = digit(UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 0xF)
        }
    }

    static func format(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            write(value, to: buffer, at: 0)
            return 16
        }
    }

    /// 32 hex digits, `high`'s then `low`'s, in one string.
    package static func format(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            write(high, to: buffer, at: 0)
            write(low, to: buffer, at: 16)
            return 32
        }
    }

    static func format(_ value: UInt8) -> String {
        String(unsafeUninitializedCapacity: 2) { buffer in
            buffer[0] = digit(value >> 4)
            buffer[1] = digit(value & 0xF)
            return 2
        }
    }

    @inline(__always)
    static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    /// Lowercase hex digits only, at most 16 of them.
    static func parse(_ utf8: ArraySlice<UInt8>) -> UInt64? {
        guard !utf8.isEmpty, utf8.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in utf8 {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    static func bytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * $0)) }
    }
}
