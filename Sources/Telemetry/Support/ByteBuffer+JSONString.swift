import NIOCore

/// A JSON string literal (RFC 8259), measured then written into memory in one pass each: the runs
/// between escapes are copied from the string's UTF-8 storage as they are, without making strings.
enum JSONStringLiteral {
    /// The bytes `utf8` takes as a literal, quotes included.
    static func length(of utf8: UnsafeBufferPointer<UInt8>) -> Int {
        var length = utf8.count + 2
        for byte in utf8 where needsEscape(byte) {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09: length += 1
            default: length += 5
            }
        }
        return length
    }

    /// Writes `utf8` as a literal at `out`, which has room for `length` bytes (``length(of:)``).
    static func write(_ utf8: UnsafeBufferPointer<UInt8>, length: Int, to out: UnsafeMutablePointer<UInt8>) {
        out[0] = UInt8(ascii: "\"")
        out[length - 1] = UInt8(ascii: "\"")
        guard let source = utf8.baseAddress, !utf8.isEmpty else { return }
        if length == utf8.count + 2 {  // nothing to escape: the common case
            (out + 1).update(from: source, count: utf8.count)
            return
        }
        var position = 1
        var start = 0
        for index in utf8.indices where needsEscape(utf8[index]) {
            (out + position).update(from: source + start, count: index - start)
            position += index - start
            start = index + 1
            let byte = utf8[index]
            out[position] = UInt8(ascii: "\\")
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out[position + 1] = byte
            case 0x0A: out[position + 1] = UInt8(ascii: "n")
            case 0x0D: out[position + 1] = UInt8(ascii: "r")
            case 0x09: out[position + 1] = UInt8(ascii: "t")
            default:
                out[position + 1] = UInt8(ascii: "u")
                out[position + 2] = UInt8(ascii: "0")
                out[position + 3] = UInt8(ascii: "0")
                out[position + 4] = HexCoding.digit(byte >> 4)
                out[position + 5] = HexCoding.digit(byte & 0xF)
                position += 4
            }
            position += 2
        }
        (out + position).update(from: source + start, count: utf8.count - start)
    }

    @inline(__always)
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20
    }
}

extension ByteBuffer {
    /// Writes `string` as a JSON string literal, escaping what RFC 8259 requires.
    package mutating func writeJSONString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            let length = JSONStringLiteral.length(of: utf8)
            writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                JSONStringLiteral.write(utf8, length: length, to: out.baseAddress!.assumingMemoryBound(to: UInt8.self))
                return length
            }
        }
    }
}
