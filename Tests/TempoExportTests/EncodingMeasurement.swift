import Foundation
import NIOCore
import SwiftProtobuf
import Telemetry
import Testing
import Tracing

@_spi(Benchmarks) @testable import TempoExport

/// A quick comparison of the hand-written encoder with swift-protobuf's generated types on a
/// batch of 512 typical spans. Not a benchmark (those live in `Benchmarks/`): it runs only when
/// `RUNWAY_MEASURE_ENCODING=1`, and prints spans per second for both.
@Suite struct EncodingMeasurement {
    static func typicalSpan(_ index: Int) -> FinishedSpan {
        let isServer = index % 4 == 0
        let offset = UInt64(index) * 1000
        let attributes: SpanAttributes = [
            "tenant.id": "acme-corp", "http.response.status_code": 200, "db.operation.name": "SELECT",
            "db.collection.name": "documents",
        ]
        let status: SpanStatus? = index % 50 == 0 ? SpanStatus(code: .error, message: "timeout") : nil
        return FinishedSpan(
            traceID: TraceID(high: 0x0123_4567_89ab_cdef, low: UInt64(index) &* 0x9E37_79B9_7F4A_7C15),
            spanID: SpanID(UInt64(index + 1)),
            parentSpanID: isServer ? nil : SpanID(UInt64(index)),
            name: isServer ? "GET /v1/collections/{c}/documents/{id}" : "SELECT documents",
            kind: isServer ? .server : .client,
            startNanoseconds: 1_764_158_400_000_000_000 + offset,
            endNanoseconds: 1_764_158_400_000_500_000 + offset,
            attributes: attributes,
            status: status
        )
    }

    static var typicalBatch: [FinishedSpan] { (0..<512).map(typicalSpan) }

    static func generated(_ spans: [FinishedSpan], resource: TempoResource) throws -> [UInt8] {
        func value(_ attribute: SpanAttribute) -> Opentelemetry_Proto_Common_V1_AnyValue {
            var value = Opentelemetry_Proto_Common_V1_AnyValue()
            switch attribute {
            case .string(let text): value.stringValue = text
            case .int64(let number): value.intValue = number
            case .int32(let number): value.intValue = Int64(number)
            case .bool(let flag): value.boolValue = flag
            case .double(let number): value.doubleValue = number
            default: value.stringValue = ""
            }
            return value
        }
        func keyValues(_ attributes: SpanAttributes) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
            var result: [Opentelemetry_Proto_Common_V1_KeyValue] = []
            attributes.forEach { key, attribute in
                var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
                keyValue.key = key
                keyValue.value = value(attribute)
                result.append(keyValue)
            }
            return result
        }
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource.attributes = resource.attributes.map { key, text in
            var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
            keyValue.key = key
            keyValue.value.stringValue = text
            return keyValue
        }
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope.name = resource.scopeName
        scopeSpans.scope.version = resource.scopeVersion
        scopeSpans.spans = spans.map { span in
            var message = Opentelemetry_Proto_Trace_V1_Span()
            message.traceID = Data(span.traceID.bytes)
            message.spanID = Data(span.spanID.bytes)
            if let parent = span.parentSpanID { message.parentSpanID = Data(parent.bytes) }
            message.name = span.name
            message.kind = Opentelemetry_Proto_Trace_V1_Span.SpanKind(rawValue: Int(TraceRequestEncoder.kindNumber(span.kind)))!
            message.startTimeUnixNano = span.startNanoseconds
            message.endTimeUnixNano = span.endNanoseconds
            message.attributes = keyValues(span.attributes)
            if let status = span.status {
                message.status.code = status.code == .error ? .error : .ok
                message.status.message = status.message ?? ""
            }
            message.flags = span.otlpFlags
            return message
        }
        resourceSpans.scopeSpans = [scopeSpans]
        request.resourceSpans = [resourceSpans]
        return try request.serializedBytes()
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["RUNWAY_MEASURE_ENCODING"] == "1"))
    func handWrittenAgainstGenerated() throws {
        let resource = TempoResource(serviceVersion: "1.0.0", instanceID: "host-a", environment: "production")
        let spans = Self.typicalBatch
        let encoder = TraceRequestEncoder(resource: resource)
        let rounds = 200
        let clock = ContinuousClock()
        var bytes = 0
        let handWritten = clock.measure {
            for _ in 0..<rounds { bytes &+= encoder.encode(spans).readableBytes }
        }
        var generatedBytes = 0
        let generated = try clock.measure {
            for _ in 0..<rounds { generatedBytes &+= try Self.generated(spans, resource: resource).count }
        }
        func rate(_ duration: Duration) -> Int {
            Int(Double(rounds * spans.count) / (Double(duration.nanoseconds) / 1e9))
        }
        print(
            "encoding 512 typical spans x \(rounds): hand-written \(rate(handWritten)) spans/s (\(bytes / rounds) B/request), "
                + "swift-protobuf \(rate(generated)) spans/s (\(generatedBytes / rounds) B/request)"
        )
        #expect(bytes == generatedBytes)
    }
}
