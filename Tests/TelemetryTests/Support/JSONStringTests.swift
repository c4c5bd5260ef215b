import Foundation
import NIOCore
import Testing

@testable import Telemetry

@Suite struct JSONStringTests {
    @Test(arguments: [
        "", "plain", #"a "quoted" word"#, #"back\slash"#, "line\nbreak\r\ttab", "bell\u{07} and nul\u{00}", "\u{1F}",
        "unicode: é, 日本, 🚀", "\"\\\n",
    ])
    func aStringIsWrittenAsAJSONLiteralThatDecodesToItself(text: String) throws {
        var buffer = ByteBuffer()
        buffer.writeJSONString(text)
        let literal = String(buffer: buffer)
        let decoded = try JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)
        #expect(decoded as? String == text, "\(literal)")
        // Only what RFC 8259 requires is escaped.
        #expect(!literal.contains("\\u00") || text.unicodeScalars.contains { $0.value < 0x20 && !"\n\r\t".unicodeScalars.contains($0) })
    }

    @Test func controlCharactersAreWrittenAsUnicodeEscapes() {
        var buffer = ByteBuffer()
        buffer.writeJSONString("\u{01}x\u{1F}")
        #expect(String(buffer: buffer) == #""\u0001x\u001f""#)
    }
}
