import Foundation
import Hummingbird
import NIOCore

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
        // Foundation's decoding bridges through NSString: skip it when there is nothing to decode.
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        return raw.removingPercentEncoding ?? raw
    }
}
