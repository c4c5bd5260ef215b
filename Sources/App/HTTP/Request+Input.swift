import Foundation
import Hummingbird
import NIOCore

/// Names of collections and documents: short, URL-safe, and never interpreted.
enum Name {
    /// Collections: 1–64 of `A–Z a–z 0–9 _ -`, starting with a letter or digit.
    static func collection(_ text: String) throws -> String {
        guard isValid(text, maxLength: 64, extra: [UInt8(ascii: "_"), UInt8(ascii: "-")]) else {
            throw Problem.badRequest(
                "invalid-name",
                "collection names are 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit"
            )
        }
        return text
    }

    /// Documents: 1–128 of `A–Z a–z 0–9 _ - . :`, starting with a letter or digit.
    static func document(_ text: String) throws -> String {
        guard isValid(text, maxLength: 128, extra: [UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":")]) else {
            throw Problem.badRequest(
                "invalid-id",
                "document ids are 1 to 128 characters of A-Z, a-z, 0-9, '_', '-', '.' and ':', starting with a letter or digit"
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
        else { throw Problem.badRequest("invalid-name", "plan names are 1 to 32 characters of a-z, 0-9, '_' and '-'") }
        return text
    }

    private static func isValid(_ text: String, maxLength: Int, extra: [UInt8]) -> Bool {
        let utf8 = text.utf8
        guard let first = utf8.first, utf8.count <= maxLength, APIKey.isBase62(first) else { return false }
        return utf8.allSatisfy { APIKey.isBase62($0) || extra.contains($0) }
    }
}

extension Request {
    /// The body as a JSON object of at most `limit` bytes, validated before it goes near the database.
    ///
    /// A declared `Content-Length` over the limit is refused before reading a byte; a chunked body
    /// is read only up to the limit.
    mutating func jsonObjectBody(limit: Int) async throws -> ByteBuffer {
        guard let contentType = headers[.contentType],
            MediaType(from: contentType)?.isType(.applicationJson) == true
                || contentType.lowercased().hasPrefix("application/json")
        else { throw Problem.unsupportedMediaType }
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit {
            throw Problem.tooLarge(limit: limit)
        }
        let body: ByteBuffer
        do {
            body = try await self.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Problem.tooLarge(limit: limit)
        }
        let validation = body.withUnsafeReadableBytes { bytes in
            Result { () throws(JSONValidator.Failure) in try JSONValidator.validate(bytes) }
        }
        switch validation {
        case .success(.object):
            return body
        case .success:
            throw Problem.unprocessable("not-an-object", "a document must be a JSON object")
        case .failure(let error):
            switch error.kind {
            case .malformed: throw Problem.badRequest("malformed-json", "the body is not valid JSON: \(error)")
            case .invalidUTF8: throw Problem.badRequest("invalid-utf8", "the body is not UTF-8: \(error)")
            case .tooDeep: throw Problem.unprocessable("too-deep", "the document is \(error)")
            case .unsupported:
                throw Problem.unprocessable("unsupported-value", "the document holds a value that cannot be stored: \(error)")
            }
        }
    }

    /// A query parameter, if present.
    func query(_ name: String) -> String? {
        uri.queryParameters.get(name)
    }
}

/// Entity tags are the document's version in quotes: `"42"`.
enum EntityTag {
    static func make(_ version: Int64) -> String { "\"\(version)\"" }

    /// Parses an `If-Match` / `If-None-Match` value: `*`, or a list of strong tags. Weak tags
    /// (`W/"…"`) never match a strong comparison and tags that are not ours match nothing.
    static func parse(_ header: String) -> (any: Bool, versions: [Int64]) {
        var versions: [Int64] = []
        for item in header.split(separator: ",") {
            let tag = item.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return (true, []) }
            guard tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 2 else { continue }
            if let version = Int64(tag.dropFirst().dropLast()) { versions.append(version) }
        }
        return (false, versions)
    }
}

extension RequestContext {
    /// A path parameter, percent-decoded (`a%3Ab` is `a:b`); names are validated after decoding.
    func pathParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
