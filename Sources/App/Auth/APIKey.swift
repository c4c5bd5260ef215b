import Crypto
import Foundation

/// A tenant's API key: `rw_` followed by a 12-character public key id and a 32-character secret,
/// all base62 (about 190 bits of randomness in the secret).
///
/// The database keeps the key id in clear (to find the row) and SHA-256 of the whole key; the
/// presented key is hashed and compared in constant time. A key is shown exactly once.
struct APIKey: Sendable, Equatable {
    static let prefix = "rw_"
    static let idLength = 12
    static let secretLength = 32
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// The whole key, as the tenant sends it.
    let value: String

    /// The public part that identifies the stored row.
    var id: String {
        String(value.utf8.dropFirst(Self.prefix.utf8.count).prefix(Self.idLength))!
    }

    var hash: [UInt8] { Self.hash(value) }

    /// A new random key.
    static func generate() -> APIKey {
        var generator = SystemRandomNumberGenerator()
        var bytes = Array(prefix.utf8)
        for _ in 0..<(idLength + secretLength) {
            // 62 does not divide 2^64; rejection sampling keeps every character equally likely.
            bytes.append(alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))])
        }
        return APIKey(value: String(decoding: bytes, as: UTF8.self))
    }

    /// Parses a presented key; nil when it does not have the shape of one.
    init?(parsing text: Substring) {
        let utf8 = text.utf8
        guard utf8.count == Self.prefix.utf8.count + Self.idLength + Self.secretLength,
            utf8.starts(with: Self.prefix.utf8),
            utf8.dropFirst(Self.prefix.utf8.count).allSatisfy({ Self.isBase62($0) })
        else { return nil }
        self.value = String(text)
    }

    private init(value: String) { self.value = value }

    static func isBase62(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    static func hash(_ text: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(text.utf8)))
    }
}

/// Compares two byte strings in time that depends only on their lengths.
func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
