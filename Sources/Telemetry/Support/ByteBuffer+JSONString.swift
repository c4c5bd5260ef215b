import NIOCore

extension ByteBuffer {
    /// Writes `string` as a JSON string literal, escaping what RFC 8259 requires. The runs between
    /// escapes are copied from the string's UTF-8 storage as they are, without making strings.
    package mutating func writeJSONString(_ string: String) {
        writeInteger(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 else { continue }
                writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[start..<index])))
                switch byte {
                case UInt8(ascii: "\""): writeStaticString("\\\"")
                case UInt8(ascii: "\\"): writeStaticString("\\\\")
                case 0x0A: writeStaticString("\\n")
                case 0x0D: writeStaticString("\\r")
                case 0x09: writeStaticString("\\t")
                default:
                    writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, HexCoding.digit(byte >> 4), HexCoding.digit(byte & 0xF)])
                }
                start = index + 1
            }
            writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[start...])))
        }
        writeInteger(UInt8(ascii: "\""))
    }
}
