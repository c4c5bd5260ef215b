import Crypto
import Testing

@testable import App

@Suite struct ShortHMACTests {
    /// Every message length the type takes, under keys shorter than, as long as and longer than a
    /// block: the same code as swift-crypto's HMAC<SHA256>.
    @Test func agreesWithSwiftCrypto() {
        var generator = SystemRandomNumberGenerator()
        for keyLength in [1, 16, 32, 64, 65, 100] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let short = ShortHMAC(key: key)
            for length in 0...55 {
                let message = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
                let code = message.withUnsafeBytes { short.code($0) }
                let bytes = (0..<8).flatMap { index in withUnsafeBytes(of: code[index].bigEndian) { Array($0) } }
                #expect(bytes == expected, "key \(keyLength) bytes, message \(length) bytes")
            }
        }
    }

    /// RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
    @Test func rfc4231TestCase2() {
        let code = Array("what do ya want for nothing?".utf8).withUnsafeBytes { ShortHMAC(key: Array("Jefe".utf8)).code($0) }
        let hex = (0..<8).map { index in String(code[index], radix: 16).leftPadded(to: 8) }.joined()
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
