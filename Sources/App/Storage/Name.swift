/// A name that ``Name`` refuses: `slug` and `detail` are the 400 problem the API answers with.
struct InvalidName: Error, Equatable {
    let slug: String
    let detail: String
}

/// Names of collections and documents: short, URL-safe, and never interpreted.
enum Name {
    /// Collections: 1–64 of `A–Z a–z 0–9 _ -`, starting with a letter or digit.
    static func collection(_ text: String) throws -> String {
        guard isValid(text, maxLength: 64, extra: [UInt8(ascii: "_"), UInt8(ascii: "-")]) else {
            throw InvalidName(
                slug: "invalid-name",
                detail: "collection names are 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit"
            )
        }
        return text
    }

    /// Documents: 1–128 of `A–Z a–z 0–9 _ - . :`, starting with a letter or digit.
    static func document(_ text: String) throws -> String {
        guard isValid(text, maxLength: 128, extra: [UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":")]) else {
            throw InvalidName(
                slug: "invalid-id",
                detail: "document ids are 1 to 128 characters of A-Z, a-z, 0-9, '_', '-', '.' and ':', starting with a letter or digit"
            )
        }
        return text
    }

    /// Plans: 1–32 of `a–z 0–9 _ -`, starting with a letter or digit (the plans table's CHECK).
    static func plan(_ text: String) throws -> String {
        let utf8 = text.utf8
        func isLowerOrDigit(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        guard let first = utf8.first, utf8.count <= 32, isLowerOrDigit(first),
            utf8.allSatisfy({ isLowerOrDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else { throw InvalidName(slug: "invalid-name", detail: "plan names are 1 to 32 characters of a-z, 0-9, '_' and '-'") }
        return text
    }

    private static func isValid(_ text: String, maxLength: Int, extra: [UInt8]) -> Bool {
        let utf8 = text.utf8
        guard let first = utf8.first, utf8.count <= maxLength, APIKey.isBase62(first) else { return false }
        return utf8.allSatisfy { APIKey.isBase62($0) || extra.contains($0) }
    }
}
