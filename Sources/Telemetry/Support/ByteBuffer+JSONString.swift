import NIOCore

extension ByteBuffer {
    /// Writes `string` as a JSON string literal, escaping what RFC 8259 requires.
    package mutating func writeJSONString(_ string: String) {
        writeInteger(UInt8(ascii: "\""))
        var start = string.utf8.startIndex
        var index = start
        let utf8 = string.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                writeString(String(utf8[start..<index])!)
                switch byte {
                case UInt8(ascii: "\""): writeString("\\\"")
                case UInt8(ascii: "\\"): writeString("\\\\")
                case 0x0A: writeString("\\n")
                case 0x0D: writeString("\\r")
                case 0x09: writeString("\\t")
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
                index = utf8.index(after: index)
                start = index
            } else {
                index = utf8.index(after: index)
            }
        }
        writeString(String(utf8[start..<index])!)
        writeInteger(UInt8(ascii: "\""))
    }
}
