import Foundation
import NIOCore
import SwiftProtobuf
import Synchronization
import Telemetry
import Testing
import Tracing

@_spi(Benchmarks) @testable import TempoExport

/// What TempoExport writes is read back by two independent implementations, swift-protobuf's
/// generated types and Python's official `opentelemetry-proto`, and must match what was
/// recorded field by field.
@Suite struct TraceRequestConformanceTests {
    static let resource = TempoResource(
        serviceName: "runway",
        serviceVersion: "1.2.3",
        instanceID: "host-a/boot-7",
        environment: "production"
    )

    struct Version: CustomStringConvertible, Sendable {
        var description: String { "v\u{2603}" }
    }

    /// A span using every field and every attribute value type.
    static var everyField: FinishedSpan {
        FinishedSpan(
            traceID: TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736),
            spanID: SpanID(0x00f0_67aa_0ba9_02b7),
            parentSpanID: SpanID(0x1122_3344_5566_7788),
            traceState: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
            name: "GET /v1/collections/{c}/documents/{id}",
            kind: .server,
            startNanoseconds: 1_764_158_400_123_456_789,
            endNanoseconds: 1_764_158_400_223_456_789,
            attributes: [
                "string": "caf\u{e9} \u{2615}",
                "empty": "",
                "true": true,
                "false": false,
                "int32": .int32(-7),
                "int64": .int64(Int64.min),
                "zero": .int64(0),
                "double": 3.25,
                "strings": .stringArray(["a", "", "\u{1F600}"]),
                "bools": .boolArray([true, false]),
                "int32s": .int32Array([1, -1, Int32.max]),
                "int64s": .int64Array([Int64.max, 0]),
                "doubles": .doubleArray([-0.5, 1e300]),
                "convertible": .stringConvertible(Version()),
                "convertibles": .stringConvertibleArray([Version(), 42]),
            ],
            droppedAttributeCount: 3,
            events: [
                .init(name: "exception", timeNanoseconds: 1_764_158_400_200_000_000, attributes: ["exception.type": "Failure"]),
                .init(name: "retry", timeNanoseconds: 1_764_158_400_210_000_000, droppedAttributeCount: 2),
            ],
            droppedEventCount: 4,
            links: [
                .init(
                    traceID: TraceID(high: 1, low: 2),
                    spanID: SpanID(3),
                    traceState: "k=v",
                    flags: [.sampled, .random],
                    isRemote: true,
                    attributes: ["why": "batch"],
                    droppedAttributeCount: 1
                ),
                .init(traceID: TraceID(high: 5, low: 6), spanID: SpanID(7)),
            ],
            droppedLinkCount: 5,
            status: SpanStatus(code: .error, message: "deadlock detected"),
            flags: [.sampled, .random],
            hasRemoteParent: true
        )
    }

    static var minimal: FinishedSpan {
        FinishedSpan(
            traceID: TraceID(high: 0, low: 9),
            spanID: SpanID(10),
            parentSpanID: nil,
            name: "",
            kind: .internal,
            startNanoseconds: 0,
            endNanoseconds: 1
        )
    }

    static var others: [FinishedSpan] {
        [SpanKind.client, .producer, .consumer].enumerated().map { index, kind in
            var span = minimal
            span.spanID = SpanID(UInt64(20 + index))
            span.kind = kind
            span.name = "kind \(index)"
            span.status = SpanStatus(code: .ok, message: "not exported for ok")
            return span
        }
    }

    static var spans: [FinishedSpan] { [everyField, minimal] + others }

    @Test func swiftProtobufDecodesExactlyWhatWasRecorded() throws {
        let encoder = TraceRequestEncoder(resource: Self.resource)
        let body = encoder.encode(Self.spans)
        #expect(body.readableBytes == encoder.encodedSize(Self.spans))
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(
            serializedBytes: Array(body.readableBytesView)
        )
        #expect(decoded.unknownFields.data.isEmpty)
        let expected = DecodedRequest(expecting: Self.spans, resource: Self.resource)
        let actual = DecodedRequest(decoded)
        #expect(actual.resource == expected.resource)
        #expect(actual.scopeName == "runway" && actual.scopeVersion == "1.2.3")
        #expect(actual.spans.count == expected.spans.count)
        for (got, want) in zip(actual.spans, expected.spans) { #expect(got == want) }
        // The exact bytes swift-protobuf writes for the same message: canonical encoding.
        #expect(try decoded.serializedBytes() == Array(body.readableBytesView))
    }

    @Test func theWireFormPinsIdsFlagsAndTimes() throws {
        let body = TraceRequestEncoder(resource: Self.resource).encode([Self.everyField])
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(
            serializedBytes: Array(body.readableBytesView)
        )
        let span = try #require(decoded.resourceSpans.first?.scopeSpans.first?.spans.first)
        #expect(span.traceID.count == 16 && span.spanID.count == 8 && span.parentSpanID.count == 8)
        #expect(span.flags == 0x303)  // sampled, random, has-is-remote, is-remote
        #expect(span.links[0].flags == 0x303)
        #expect(span.links[1].flags == 0x100)
        #expect(span.kind == .server)
        #expect(span.status.code == .error)
        let root = try #require(
            try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(
                serializedBytes: Array(TraceRequestEncoder(resource: Self.resource).encode([Self.minimal]).readableBytesView)
            ).resourceSpans.first?.scopeSpans.first?.spans.first
        )
        #expect(root.parentSpanID.isEmpty)
        #expect(!root.hasStatus)
    }

    @Test(arguments: [false, true])
    func pythonOpentelemetryProtoDecodesExactlyWhatWasRecorded(gzip: Bool) throws {
        var body = TraceRequestEncoder(resource: Self.resource).encode(Self.spans)
        if gzip { body = try Gzip.compress(body) }
        let actual = try DecodedRequest.decodedByPython(Array(body.readableBytesView), gzip: gzip)
        let expected = DecodedRequest(expecting: Self.spans, resource: Self.resource)
        #expect(actual.resource == expected.resource)
        #expect(actual.scopeName == expected.scopeName && actual.scopeVersion == expected.scopeVersion)
        #expect(actual.spans.count == expected.spans.count)
        for (got, want) in zip(actual.spans, expected.spans) { #expect(got == want) }
    }

    @Test func spansFromTheTracerSurviveTheRoundTrip() throws {
        let collected = SpanBox()
        let tracer = RunwayTracer { collected.append($0) }
        tracer.withSpan("request", ofKind: .server) { span in
            span.attributes["http.response.status_code"] = 200
            span.addEvent("cache miss")
            tracer.withSpan("SELECT documents", ofKind: .client) { _ in }
        }
        let spans = collected.all
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(
            serializedBytes: Array(TraceRequestEncoder(resource: Self.resource).encode(spans).readableBytesView)
        )
        let actual = DecodedRequest(decoded)
        #expect(actual.spans == DecodedRequest(expecting: spans, resource: Self.resource).spans)
        #expect(actual.spans[0].parentSpanID == actual.spans[1].spanID)
    }

    @Test func gzipRoundTrips() throws {
        let body = TraceRequestEncoder(resource: Self.resource).encode(Array(repeating: Self.everyField, count: 64))
        let compressed = try Gzip.compress(body)
        #expect(compressed.readableBytes * 5 < body.readableBytes)
        #expect(try Gzip.decompress(compressed) == body)
    }

    @Test func theResponseDecoderReadsPartialSuccessAndSkipsUnknownFields() throws {
        var message = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        message.partialSuccess.rejectedSpans = 3
        message.partialSuccess.errorMessage = "spans too old"
        var bytes: [UInt8] = try message.serializedBytes()
        bytes += [0x98, 0x3E, 0x01]  // an unknown varint field 999
        let decoded = try #require(ExportTraceServiceResponse(decoding: ByteBuffer(bytes: bytes)))
        #expect(decoded == ExportTraceServiceResponse(rejectedSpans: 3, errorMessage: "spans too old"))
        #expect(ExportTraceServiceResponse(decoding: ByteBuffer()) == ExportTraceServiceResponse(rejectedSpans: 0, errorMessage: ""))
        #expect(ExportTraceServiceResponse(decoding: ByteBuffer(bytes: [0x0A, 0x05, 0x08])) == nil)
    }
}

final class SpanBox: Sendable {
    private let spans = Mutex<[FinishedSpan]>([])
    var all: [FinishedSpan] { spans.withLock { $0 } }
    func append(_ span: FinishedSpan) { spans.withLock { $0.append(span) } }
}
