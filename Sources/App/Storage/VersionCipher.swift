import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Turns the documents' internal versions (one sequence for every tenant, so consecutive numbers
/// would tell a tenant how much everyone else writes) into the versions the API shows, and back:
/// a keyed permutation of the numbers below 2⁴⁸ (a four-round Feistel network over two 24-bit
/// halves, HMAC-SHA256 as its round function), under a key every instance reads from the database.
/// Public versions are unique, stable and JSON-safe integers, and say nothing about order or count.
struct VersionCipher: Sendable {
    static let bits = 48
    private static let halfMask: UInt64 = (1 << 24) - 1
    /// Each round's HMAC, its key's blocks hashed once (``ShortHMAC``: no allocation per round).
    private let rounds: [ShortHMAC]

    init(key: [UInt8]) {
        let master = SymmetricKey(data: key)
        rounds = (0..<4).map { round in
            ShortHMAC(key: Array(HMAC<SHA256>.authenticationCode(for: [UInt8(round)], using: master)))
        }
    }

    /// The public version of internal version `version` (which is below 2⁴⁸).
    func encode(_ version: Int64) -> Int64 {
        var (left, right) = (UInt64(version) >> 24 & Self.halfMask, UInt64(version) & Self.halfMask)
        for keyed in rounds { (left, right) = (right, left ^ Self.round(right, keyed)) }
        return Int64(left << 24 | right)
    }

    /// The internal version whose public version is `version`; nil for a number no version has.
    func decode(_ version: Int64) -> Int64? {
        guard version >= 0, version < 1 << Self.bits else { return nil }
        var (left, right) = (UInt64(version) >> 24, UInt64(version) & Self.halfMask)
        for keyed in rounds.reversed() { (left, right) = (right ^ Self.round(left, keyed), left) }
        return Int64(left << 24 | right)
    }

    /// The first three bytes of the HMAC of the half's three bytes, big-endian.
    private static func round(_ half: UInt64, _ keyed: ShortHMAC) -> UInt64 {
        let bytes = (UInt8(half >> 16 & 0xFF), UInt8(half >> 8 & 0xFF), UInt8(half & 0xFF))
        let code = withUnsafeBytes(of: bytes) { keyed.code($0) }
        return UInt64(code[0] >> 8)
    }
}

/// The database's ``VersionCipher``, read once, on first use.
final class VersionKey: Sendable {
    private let cipher = Mutex<VersionCipher?>(nil)

    func cipher(database: Database, logger: Logger) async throws -> VersionCipher {
        if let known = cipher.withLock({ $0 }) { return known }
        let rows = try await database.query("SELECT key FROM runway_version_key", logger: logger)
        guard let key = try rows.first?.decode(ByteBuffer.self) else {
            throw ConfigurationError(description: "the database has no document version key (migration 9)")
        }
        let loaded = VersionCipher(key: Array(key.readableBytesView))
        cipher.withLock { $0 = loaded }
        return loaded
    }
}
