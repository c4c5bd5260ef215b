import Instrumentation

/// W3C Trace Context (`traceparent`, `tracestate`) parsing and formatting, per
/// w3c/trace-context `spec/20-http_request_header_format.md`.
///
/// Anything invalid in `traceparent` (version `ff`, all-zero ids, uppercase or wrong-length hex,
/// missing dashes) makes the whole header ignored: the request starts a new root. A bad
/// `tracestate` is dropped without touching `traceparent`.
package enum W3CTraceContext {
    package static let traceparentHeader = "traceparent"
    package static let tracestateHeader = "tracestate"
    /// Most `tracestate` list members kept; more are cut from the right.
    package static let maximumTracestateMembers = 32

    /// The fields of a valid `traceparent`.
    package struct Traceparent: Hashable, Sendable {
        package var traceID: TraceID
        package var parentID: SpanID
        /// The flags this version defines (sampled, random); unknown bits are cleared.
        package var flags: TraceFlags
    }

    /// Parses `traceparent`; nil when it is invalid. A future version (01-fe) is read as version 00
    /// reads it: its first 55 characters, followed by the end or a dash.
    package static func parseTraceparent(_ header: String) -> Traceparent? {
        var bytes = Array(header.utf8)[...]
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes.removeFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        let start = bytes.startIndex
        guard bytes.count >= 55, let version = HexCoding.parse(bytes[start..<start + 2]),
            bytes[start + 2] == UInt8(ascii: "-")
        else { return nil }
        guard version != 0xFF else { return nil }
        if version == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55 {
            guard bytes[start + 55] == UInt8(ascii: "-") else { return nil }
        }
        guard bytes[start + 35] == UInt8(ascii: "-"), bytes[start + 52] == UInt8(ascii: "-"),
            let high = HexCoding.parse(bytes[start + 3..<start + 19]),
            let low = HexCoding.parse(bytes[start + 19..<start + 35]),
            let parent = HexCoding.parse(bytes[start + 36..<start + 52]),
            let flags = HexCoding.parse(bytes[start + 53..<start + 55])
        else { return nil }
        let traceID = TraceID(high: high, low: low)
        guard traceID.isValid, parent != 0 else { return nil }
        return Traceparent(
            traceID: traceID,
            parentID: SpanID(parent),
            flags: TraceFlags(rawValue: UInt8(flags)).intersection(.known)
        )
    }

    /// Version 00 `traceparent` for a span.
    package static func formatTraceparent(traceID: TraceID, spanID: SpanID, flags: TraceFlags) -> String {
        // One string, written in place: "00-" trace id "-" span id "-" flags, 55 bytes.
        String(unsafeUninitializedCapacity: 55) { buffer in
            buffer[0] = UInt8(ascii: "0")
            buffer[1] = UInt8(ascii: "0")
            buffer[2] = UInt8(ascii: "-")
            HexCoding.write(traceID.high, to: buffer, at: 3)
            HexCoding.write(traceID.low, to: buffer, at: 19)
            buffer[35] = UInt8(ascii: "-")
            HexCoding.write(spanID.value, to: buffer, at: 36)
            buffer[52] = UInt8(ascii: "-")
            let flags = flags.intersection(.known).rawValue
            buffer[53] = HexCoding.digit(flags >> 4)
            buffer[54] = HexCoding.digit(flags & 0xF)
            return 55
        }
    }

    /// Normalises `tracestate`: list members trimmed, empty ones skipped, at most
    /// ``maximumTracestateMembers`` kept (cut from the right). Returns "" when any member is
    /// malformed or a key repeats (the whole header is then discarded, as the spec allows).
    package static func parseTracestate(_ header: String) -> String {
        var members: [Substring] = []
        var keys: Set<Substring> = []
        for raw in header.split(separator: ",", omittingEmptySubsequences: false) {
            let member = raw.trimmingOWS()
            if member.isEmpty { continue }
            guard let equals = member.firstIndex(of: "=") else { return "" }
            let key = member[..<equals]
            let value = member[member.index(after: equals)...]
            guard isValidKey(key), isValidValue(value), keys.insert(key).inserted else { return "" }
            members.append(member)
        }
        return members.prefix(maximumTracestateMembers).joined(separator: ",")
    }

    static func isValidKey(_ key: Substring) -> Bool {
        let utf8 = Array(key.utf8)
        func isLowerAlpha(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func isKeyChar(_ c: UInt8) -> Bool {
            isLowerAlpha(c) || isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: "*")
                || c == UInt8(ascii: "/")
        }
        if let at = utf8.firstIndex(of: UInt8(ascii: "@")) {
            // multi-tenant key: tenant-id "@" system-id
            let tenant = utf8[..<at]
            let system = utf8[(at + 1)...]
            guard let tenantFirst = tenant.first, isLowerAlpha(tenantFirst) || isDigit(tenantFirst), tenant.count <= 241,
                tenant.allSatisfy(isKeyChar),
                let systemFirst = system.first, isLowerAlpha(systemFirst), system.count <= 14, system.allSatisfy(isKeyChar)
            else { return false }
            return true
        }
        guard let first = utf8.first, isLowerAlpha(first), utf8.count <= 256 else { return false }
        return utf8.allSatisfy(isKeyChar)
    }

    static func isValidValue(_ value: Substring) -> Bool {
        let utf8 = Array(value.utf8)
        guard let last = utf8.last, utf8.count <= 256, last != 0x20 else { return false }
        return utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") }
    }
}

extension Substring {
    fileprivate func trimmingOWS() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}

extension W3CTraceContext {
    /// Reads `traceparent` (and `tracestate` when it is valid) into the context as a remote
    /// parent; an invalid `traceparent` leaves the context alone. What ``RunwayTracer`` extracts,
    /// for callers that need the caller's trace whatever tracer is installed.
    package static func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout ServiceContext,
        using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: traceparentHeader, from: carrier),
            let traceparent = parseTraceparent(header)
        else { return }
        let traceState = extractor.extract(key: tracestateHeader, from: carrier).map(parseTracestate)
        context.spanContext = SpanContext(
            traceID: traceparent.traceID,
            spanID: traceparent.parentID,
            flags: traceparent.flags,
            traceState: traceState ?? "",
            isRemote: true
        )
    }
}
