import Crypto
import Foundation

/// The opaque `cursor` of a listing: where the last page ended, bound to the collection and
/// filter it was made for. Keyset pagination by document id, so a page boundary stays correct
/// while documents are written: nothing is repeated or skipped that existed throughout.
struct ListCursor: Equatable {
    var collection: String
    var filterDigest: String
    var afterID: String

    static func digest(filter: String?) -> String {
        guard let filter else { return "-" }
        return SHA256.hash(data: Array(filter.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    var encoded: String {
        let text = ["c1", collection, filterDigest, afterID].joined(separator: "\n")
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a cursor; nil for anything this service did not make.
    init?(encoded: String) {
        guard encoded.utf8.count <= 512 else { return nil }
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "c1", (try? Name.document(String(parts[3]))) != nil else { return nil }
        self.init(collection: String(parts[1]), filterDigest: String(parts[2]), afterID: String(parts[3]))
    }

    init(collection: String, filterDigest: String, afterID: String) {
        self.collection = collection
        self.filterDigest = filterDigest
        self.afterID = afterID
    }
}

/// A new document id: a UUID version 7 (time-ordered, so listings follow creation order).
func makeDocumentID(now: Date = Date()) -> String {
    var generator = SystemRandomNumberGenerator()
    let milliseconds = UInt64(now.timeIntervalSince1970 * 1000)
    let random: UInt64 = generator.next()
    let random2: UInt64 = generator.next()
    var bytes = [UInt8](repeating: 0, count: 16)
    for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(i))) }
    for i in 6..<16 { bytes[i] = UInt8(truncatingIfNeeded: (i < 14 ? random : random2) >> (8 * UInt64(i % 8))) }
    bytes[6] = 0x70 | (bytes[6] & 0x0F)
    bytes[8] = 0x80 | (bytes[8] & 0x3F)
    let uuid = UUID(
        uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
            bytes[12], bytes[13], bytes[14], bytes[15]
        )
    )
    return uuid.uuidString.lowercased()
}
