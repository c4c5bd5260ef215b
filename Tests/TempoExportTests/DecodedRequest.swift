import Foundation
import Telemetry
import TelemetryTesting
import Tracing

@_spi(Benchmarks) @testable import TempoExport

/// One normal form for an OTLP request, filled from what was recorded (the expectation), from
/// swift-protobuf's generated types, and from Python's `opentelemetry-proto` (as JSON), so the
/// three can be compared field by field.
struct DecodedRequest: Equatable {
    var resource: [String: DecodedValue] = [:]
    var scopeName = ""
    var scopeVersion = ""
    var spans: [DecodedSpan] = []
}

indirect enum DecodedValue: Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case array([DecodedValue])
}

struct DecodedSpan: Equatable {
    var traceID = ""
    var spanID = ""
    var parentSpanID = ""
    var traceState = ""
    var name = ""
    var kind = 0
    var start: UInt64 = 0
    var end: UInt64 = 0
    var attributes: [String: DecodedValue] = [:]
    var droppedAttributes = 0
    var events: [DecodedEvent] = []
    var droppedEvents = 0
    var links: [DecodedLink] = []
    var droppedLinks = 0
    var hasStatus = false
    var statusCode = 0
    var statusMessage = ""
    var flags: UInt32 = 0
}

struct DecodedEvent: Equatable {
    var time: UInt64
    var name: String
    var attributes: [String: DecodedValue]
    var droppedAttributes: Int
}

struct DecodedLink: Equatable {
    var traceID: String
    var spanID: String
    var traceState: String
    var attributes: [String: DecodedValue]
    var droppedAttributes: Int
    var flags: UInt32
}

// MARK: What was recorded

extension DecodedRequest {
    init(expecting spans: [FinishedSpan], resource: TempoResource) {
        self.resource = Dictionary(uniqueKeysWithValues: resource.attributes.map { ($0.0, .string($0.1)) })
        scopeName = resource.scopeName
        scopeVersion = resource.scopeVersion
        self.spans = spans.map(DecodedSpan.init(expecting:))
    }
}

extension DecodedValue {
    init(_ attribute: SpanAttribute) {
        switch attribute {
        case .string(let value): self = .string(value)
        case .bool(let value): self = .bool(value)
        case .int32(let value): self = .int(Int64(value))
        case .int64(let value): self = .int(value)
        case .double(let value): self = .double(value)
        case .stringArray(let values): self = .array(values.map { .string($0) })
        case .boolArray(let values): self = .array(values.map { .bool($0) })
        case .int32Array(let values): self = .array(values.map { .int(Int64($0)) })
        case .int64Array(let values): self = .array(values.map { .int($0) })
        case .doubleArray(let values): self = .array(values.map { .double($0) })
        case .stringConvertible(let value): self = .string(value.description)
        case .stringConvertibleArray(let values): self = .array(values.map { .string($0.description) })
        default: self = .string("")
        }
    }

    static func map(_ attributes: SpanAttributes) -> [String: DecodedValue] {
        var result: [String: DecodedValue] = [:]
        attributes.forEach { key, value in result[key] = DecodedValue(value) }
        return result
    }
}

extension DecodedSpan {
    init(expecting span: FinishedSpan) {
        traceID = span.traceID.description
        spanID = span.spanID.description
        parentSpanID = span.parentSpanID?.description ?? ""
        traceState = span.traceState
        name = span.name
        kind = Int(TraceRequestEncoder.kindNumber(span.kind))
        start = span.startNanoseconds
        end = span.endNanoseconds
        attributes = DecodedValue.map(span.attributes)
        droppedAttributes = span.droppedAttributeCount
        events = span.events.map {
            DecodedEvent(
                time: $0.timeNanoseconds,
                name: $0.name,
                attributes: DecodedValue.map($0.attributes),
                droppedAttributes: $0.droppedAttributeCount
            )
        }
        droppedEvents = span.droppedEventCount
        links = span.links.map {
            DecodedLink(
                traceID: $0.traceID.description,
                spanID: $0.spanID.description,
                traceState: $0.traceState,
                attributes: DecodedValue.map($0.attributes),
                droppedAttributes: $0.droppedAttributeCount,
                flags: $0.otlpFlags
            )
        }
        droppedLinks = span.droppedLinkCount
        if let status = span.status {
            hasStatus = true
            statusCode = Int(TraceRequestEncoder.statusCode(status))
            statusMessage = status.code == .error ? status.message ?? "" : ""
        }
        flags = span.otlpFlags
    }
}

// MARK: swift-protobuf

extension DecodedRequest {
    init(_ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest) {
        for resourceSpans in request.resourceSpans {
            for keyValue in resourceSpans.resource.attributes { resource[keyValue.key] = DecodedValue(keyValue.value) }
            for scopeSpans in resourceSpans.scopeSpans {
                scopeName = scopeSpans.scope.name
                scopeVersion = scopeSpans.scope.version
                spans += scopeSpans.spans.map(DecodedSpan.init)
            }
        }
    }
}

extension DecodedValue {
    init(_ value: Opentelemetry_Proto_Common_V1_AnyValue) {
        switch value.value {
        case .stringValue(let text): self = .string(text)
        case .boolValue(let flag): self = .bool(flag)
        case .intValue(let number): self = .int(number)
        case .doubleValue(let number): self = .double(number)
        case .arrayValue(let array): self = .array(array.values.map(DecodedValue.init))
        default: self = .string("<unexpected \(String(describing: value.value))>")
        }
    }

    static func map(_ keyValues: [Opentelemetry_Proto_Common_V1_KeyValue]) -> [String: DecodedValue] {
        Dictionary(keyValues.map { ($0.key, DecodedValue($0.value)) }, uniquingKeysWith: { first, _ in first })
    }
}

extension DecodedSpan {
    init(_ span: Opentelemetry_Proto_Trace_V1_Span) {
        func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
        traceID = hex(span.traceID)
        spanID = hex(span.spanID)
        parentSpanID = hex(span.parentSpanID)
        traceState = span.traceState
        name = span.name
        kind = span.kind.rawValue
        start = span.startTimeUnixNano
        end = span.endTimeUnixNano
        attributes = DecodedValue.map(span.attributes)
        droppedAttributes = Int(span.droppedAttributesCount)
        events = span.events.map {
            DecodedEvent(
                time: $0.timeUnixNano,
                name: $0.name,
                attributes: DecodedValue.map($0.attributes),
                droppedAttributes: Int($0.droppedAttributesCount)
            )
        }
        droppedEvents = Int(span.droppedEventsCount)
        links = span.links.map {
            DecodedLink(
                traceID: hex($0.traceID),
                spanID: hex($0.spanID),
                traceState: $0.traceState,
                attributes: DecodedValue.map($0.attributes),
                droppedAttributes: Int($0.droppedAttributesCount),
                flags: $0.flags
            )
        }
        droppedLinks = Int(span.droppedLinksCount)
        hasStatus = span.hasStatus
        statusCode = span.status.code.rawValue
        statusMessage = span.status.message
        flags = span.flags
    }
}

// MARK: Python's opentelemetry-proto, through scripts/conformance/otlp_trace_decode.py

extension DecodedRequest {
    init(json: Any) throws {
        let root = try Self.object(json)
        for resourceSpans in try Self.array(root["resource_spans"]) {
            let resourceSpans = try Self.object(resourceSpans)
            resource = try Self.attributes(try Self.object(resourceSpans["resource"])["attributes"])
            for scopeSpans in try Self.array(resourceSpans["scope_spans"]) {
                let scopeSpans = try Self.object(scopeSpans)
                let scope = try Self.object(scopeSpans["scope"])
                scopeName = scope["name"] as? String ?? ""
                scopeVersion = scope["version"] as? String ?? ""
                spans += try Self.array(scopeSpans["spans"]).map { try Self.span(Self.object($0)) }
            }
        }
    }

    static func object(_ value: Any?) throws -> [String: Any] {
        guard let object = value as? [String: Any] else {
            throw ConformanceError(description: "not an object: \(String(describing: value))")
        }
        return object
    }

    static func array(_ value: Any?) throws -> [Any] {
        guard let array = value as? [Any] else { throw ConformanceError(description: "not an array: \(String(describing: value))") }
        return array
    }

    static func int(_ value: Any?) -> Int64 { (value as? NSNumber)?.int64Value ?? -1 }
    static func uint(_ value: Any?) -> UInt64 { (value as? NSNumber)?.uint64Value ?? 0 }

    static func value(_ json: Any?) throws -> DecodedValue {
        let object = try object(json)
        if let text = object["string"] as? String { return .string(text) }
        if let number = object["bool"] as? NSNumber { return .bool(number.boolValue) }
        if let number = object["int"] as? NSNumber { return .int(number.int64Value) }
        if let number = object["double"] as? NSNumber { return .double(number.doubleValue) }
        if let values = object["array"] as? [Any] { return .array(try values.map(value)) }
        throw ConformanceError(description: "unexpected value \(object)")
    }

    static func attributes(_ json: Any?) throws -> [String: DecodedValue] {
        var result: [String: DecodedValue] = [:]
        for pair in try array(json) {
            let pair = try object(pair)
            result[pair["key"] as? String ?? ""] = try value(pair["value"])
        }
        return result
    }

    static func span(_ json: [String: Any]) throws -> DecodedSpan {
        var span = DecodedSpan()
        span.traceID = json["trace_id"] as? String ?? ""
        span.spanID = json["span_id"] as? String ?? ""
        span.parentSpanID = json["parent_span_id"] as? String ?? ""
        span.traceState = json["trace_state"] as? String ?? ""
        span.name = json["name"] as? String ?? ""
        span.kind = Int(int(json["kind"]))
        span.start = uint(json["start_time_unix_nano"])
        span.end = uint(json["end_time_unix_nano"])
        span.attributes = try attributes(json["attributes"])
        span.droppedAttributes = Int(int(json["dropped_attributes_count"]))
        span.events = try array(json["events"]).map { event in
            let event = try object(event)
            return DecodedEvent(
                time: uint(event["time_unix_nano"]),
                name: event["name"] as? String ?? "",
                attributes: try attributes(event["attributes"]),
                droppedAttributes: Int(int(event["dropped_attributes_count"]))
            )
        }
        span.droppedEvents = Int(int(json["dropped_events_count"]))
        span.links = try array(json["links"]).map { link in
            let link = try object(link)
            return DecodedLink(
                traceID: link["trace_id"] as? String ?? "",
                spanID: link["span_id"] as? String ?? "",
                traceState: link["trace_state"] as? String ?? "",
                attributes: try attributes(link["attributes"]),
                droppedAttributes: Int(int(link["dropped_attributes_count"])),
                flags: UInt32(int(link["flags"]))
            )
        }
        span.droppedLinks = Int(int(json["dropped_links_count"]))
        span.hasStatus = (json["has_status"] as? NSNumber)?.boolValue ?? false
        let status = try object(json["status"])
        span.statusCode = Int(int(status["code"]))
        span.statusMessage = status["message"] as? String ?? ""
        span.flags = UInt32(int(json["flags"]))
        return span
    }

    /// Runs the Python decoder on `body`.
    static func decodedByPython(_ body: [UInt8], gzip: Bool = false) throws -> DecodedRequest {
        let data = try runConformanceDecoder("otlp_trace_decode.py", on: body, arguments: gzip ? ["--gzip"] : [])
        return try DecodedRequest(json: JSONSerialization.jsonObject(with: data))
    }
}
