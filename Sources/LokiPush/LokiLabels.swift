/// A Loki stream's label set, rendered the way Loki's own clients render it: names sorted,
/// `name="value"` pairs joined by `", "` inside braces, values quoted exactly as Go's
/// `strconv.Quote` does, which Loki's PromQL-style label parser accepts.
public struct LokiLabels: Hashable, Sendable {
    /// The rendered selector, such as `{env="prod", level="info", service_name="runway"}`.
    public let rendered: String

    /// Renders `labels`; empty values are left out (Loki drops them), names must be valid.
    public init(_ labels: [String: String]) throws(LokiLabelError) {
        var text = "{"
        var first = true
        for (name, value) in labels.sorted(by: { $0.key < $1.key }) where !value.isEmpty {
            guard Self.isValidName(name) else { throw LokiLabelError(name: name) }
            if !first { text += ", " }
            first = false
            text += name
            text += "="
            Self.appendQuoted(value, to: &text)
        }
        text += "}"
        self.rendered = text
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and not the reserved `__` prefix.
    package static func isValidName(_ name: String) -> Bool {
        let utf8 = name.utf8
        // Bytes, not `hasPrefix`: this runs for every metadata key of every log call.
        guard let first = utf8.first, !(first == 0x5F && utf8.dropFirst().first == 0x5F) else { return false }
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
        return isLetter(first) && utf8.dropFirst().allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// Appends `value` as Go's `strconv.Quote` would write it.
    package static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\u{07}": text += "\\a"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{0B}": text += "\\v"
            default:
                if isGoPrintable(scalar) {
                    text.unicodeScalars.append(scalar)
                } else if scalar.value < 0x80 {
                    text += "\\x" + hex(scalar.value, width: 2)
                } else if scalar.value < 0x10000 {
                    text += "\\u" + hex(scalar.value, width: 4)
                } else {
                    text += "\\U" + hex(scalar.value, width: 8)
                }
            }
        }
        text += "\""
    }

    /// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
    static func isGoPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value >= 0x20 && scalar.value < 0x7F }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// A label name Loki would refuse.
public struct LokiLabelError: Error, Equatable, CustomStringConvertible {
    public let name: String
    public var description: String { "'\(name)' is not a Loki label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)" }
}
