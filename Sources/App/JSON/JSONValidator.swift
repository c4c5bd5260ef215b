import Foundation

/// A strict, allocation-free RFC 8259 validator for the documents tenants store.
///
/// It accepts exactly what PostgreSQL's `jsonb` accepts and a little less, so a bad body is a
/// precise 4xx here and never a database error: the text must be UTF-8, nesting is limited,
/// `\u0000` and unpaired surrogate escapes (which jsonb refuses) are rejected, and numbers may not
/// have exponents so large that `numeric` overflows.
struct JSONValidator {
    struct Failure: Error, Equatable, CustomStringConvertible {
        enum Kind: Equatable {
            /// Not JSON at all (syntax), with the byte offset where it went wrong.
            case malformed
            /// Bytes that are not UTF-8.
            case invalidUTF8
            /// Nested deeper than ``JSONValidator/maximumDepth``.
            case tooDeep
            /// Valid JSON that jsonb cannot store (`\u0000`, lone surrogates, huge exponents).
            case unsupported
        }
        var kind: Kind
        var offset: Int
        var reason: String
        var description: String { "\(reason) at byte \(offset)" }
    }

    enum TopLevel: Equatable { case object, array, string, number, literal }

    static let maximumDepth = 128
    static let maximumExponent = 100_000

    /// Validates `bytes` as one JSON value and says what kind of value it is.
    static func validate(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> TopLevel {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let kind = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.fail(.malformed, "unexpected data after the JSON value") }
        return kind
    }

    static func validate(_ bytes: some ContiguousBytes) throws(Failure) -> TopLevel {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(Failure) in try validate(buffer) } }
        return try result.get()
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func fail(_ kind: Failure.Kind, _ reason: String) -> Failure {
            Failure(kind: kind, offset: index, reason: reason)
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(Failure) -> TopLevel {
            guard let byte = current else { throw fail(.malformed, "expected a value") }
            switch byte {
            case UInt8(ascii: "{"):
                try object(depth: depth + 1)
                return .object
            case UInt8(ascii: "["):
                try array(depth: depth + 1)
                return .array
            case UInt8(ascii: "\""):
                try string()
                return .string
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try number()
                return .number
            case UInt8(ascii: "t"):
                try literal("true")
                return .literal
            case UInt8(ascii: "f"):
                try literal("false")
                return .literal
            case UInt8(ascii: "n"):
                try literal("null")
                return .literal
            default:
                throw fail(.malformed, "expected a value")
            }
        }

        mutating func object(depth: Int) throws(Failure) {
            try members(depth: depth, close: UInt8(ascii: "}")) { parser throws(Failure) in
                guard parser.current == UInt8(ascii: "\"") else { throw parser.fail(.malformed, "expected a string key") }
                try parser.string()
                parser.skipWhitespace()
                guard parser.current == UInt8(ascii: ":") else { throw parser.fail(.malformed, "expected ':'") }
                parser.index += 1
                parser.skipWhitespace()
                _ = try parser.value(depth: depth)
            }
        }

        mutating func array(depth: Int) throws(Failure) {
            try members(depth: depth, close: UInt8(ascii: "]")) { parser throws(Failure) in
                _ = try parser.value(depth: depth)
            }
        }

        /// The comma-separated members of an object or array, from its opening bracket to `close`.
        mutating func members(depth: Int, close: UInt8, member: (inout Parser) throws(Failure) -> Void) throws(Failure) {
            guard depth <= JSONValidator.maximumDepth else {
                throw fail(.tooDeep, "nested deeper than \(JSONValidator.maximumDepth) levels")
            }
            index += 1
            skipWhitespace()
            if current == close {
                index += 1
                return
            }
            while true {
                try member(&self)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","):
                    index += 1
                    skipWhitespace()
                case close:
                    index += 1
                    return
                default:
                    throw fail(.malformed, "expected ',' or '\(Character(Unicode.Scalar(close)))'")
                }
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw fail(.malformed, "expected a value") }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
                throw fail(.malformed, "expected a value")
            }
            index += count
        }

        mutating func number() throws(Failure) {
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, isDigit(first) else { throw fail(.malformed, "expected a digit") }
            index += 1
            if first != UInt8(ascii: "0") {
                while let byte = current, isDigit(byte) { index += 1 }
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard let byte = current, isDigit(byte) else { throw fail(.malformed, "expected a digit after '.'") }
                while let byte = current, isDigit(byte) { index += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard let byte = current, isDigit(byte) else { throw fail(.malformed, "expected a digit in the exponent") }
                var exponent = 0
                while let byte = current, isDigit(byte) {
                    exponent = min(exponent * 10 + Int(byte - 0x30), Int(Int32.max))
                    index += 1
                }
                guard exponent <= JSONValidator.maximumExponent else {
                    throw fail(.unsupported, "number exponent too large to store")
                }
            }
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

        mutating func string() throws(Failure) {
            index += 1  // opening quote
            while true {
                guard let byte = current else { throw fail(.malformed, "unterminated string") }
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    try escape()
                case 0x00..<0x20:
                    throw fail(.malformed, "control character in a string")
                case 0x20..<0x80:
                    index += 1
                default:
                    try utf8Sequence(lead: byte)
                }
            }
        }

        mutating func escape() throws(Failure) {
            index += 1
            guard let byte = current else { throw fail(.malformed, "unterminated escape") }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                index += 1
            case UInt8(ascii: "u"):
                index += 1
                let unit = try hex4()
                if unit == 0 { throw fail(.unsupported, "\\u0000 cannot be stored") }
                if (0xDC00...0xDFFF).contains(unit) { throw fail(.unsupported, "unpaired low surrogate") }
                if (0xD800...0xDBFF).contains(unit) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    else { throw fail(.unsupported, "unpaired high surrogate") }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail(.unsupported, "unpaired high surrogate") }
                }
            default:
                throw fail(.malformed, "invalid escape")
            }
        }

        mutating func hex4() throws(Failure) -> UInt16 {
            guard index + 4 <= bytes.count else { throw fail(.malformed, "short \\u escape") }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                case 0x61...0x66: digit = byte - 0x61 + 10
                default: throw fail(.malformed, "invalid \\u escape")
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        /// One multi-byte UTF-8 scalar, checked per RFC 3629 (no overlongs, no surrogates).
        mutating func utf8Sequence(lead: UInt8) throws(Failure) {
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                upper = 0x9F
            case 0xF0:
                length = 4
                lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                upper = 0x8F
            default: throw fail(.invalidUTF8, "invalid UTF-8")
            }
            guard index + length <= bytes.count else { throw fail(.invalidUTF8, "truncated UTF-8") }
            let second = bytes[index + 1]
            guard second >= lower && second <= upper else { throw fail(.invalidUTF8, "invalid UTF-8") }
            var offset = 2
            while offset < length {
                guard bytes[index + offset] & 0xC0 == 0x80 else { throw fail(.invalidUTF8, "invalid UTF-8") }
                offset += 1
            }
            index += length
        }
    }
}
