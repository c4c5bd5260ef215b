import AsyncHTTPClient
import Foundation
import HTTPServerTesting
import Hummingbird
import ServiceLifecycle
import Telemetry
import TelemetryTesting
import Testing
import Tracing

@_spi(Benchmarks) @testable import TempoExport

/// The Tempo exporter and the batching pipeline against real HTTP servers on 127.0.0.1 that
/// misbehave on purpose; each test checks the exact counts afterwards.
@Suite struct TempoExporterFaultTests {
    typealias Pipeline = BatchingPipeline<TempoExporter, TestClock>

    static let resource = TempoResource(serviceVersion: "1.0.0", instanceID: "test-instance", environment: "test")

    static func spans(_ count: Int) -> [FinishedSpan] {
        (0..<count).map { index in
            FinishedSpan(
                traceID: TraceID(high: 1, low: UInt64(index + 1)),
                spanID: SpanID(UInt64(index + 1)),
                parentSpanID: nil,
                name: "span \(index)",
                kind: .server,
                startNanoseconds: 1_764_158_400_000_000_000,
                endNanoseconds: 1_764_158_400_001_000_000,
                attributes: ["tenant": "acme"]
            )
        }
    }

    static func client() -> HTTPClient { .shared }

    /// Runs a pipeline exporting to `tempo` (served live) with a test clock, for the length of `body`.
    func withPipeline(
        _ tempo: MisbehavingTempo,
        tenant: String? = "tenant-a",
        gzip: Bool = false,
        configure: (inout BatchingConfiguration) -> Void = { _ in },
        _ body: @Sendable (Pipeline, TestClock) async throws -> Void
    ) async throws -> Pipeline {
        let app = Application(router: tempo.router)
        let clock = TestClock()
        var batching = TempoConfiguration.defaultBatching
        batching.maximumBatchEntries = 10  // the ten spans below: one batch
        batching.flushInterval = .seconds(3600)
        batching.exportTimeout = nil
        configure(&batching)
        let configuration = batching
        return try await withLoopbackServer(app) { port in
            var exporterConfiguration = TempoExporter.Configuration(baseURL: "http://127.0.0.1:\(port)/", tenant: tenant)
            exporterConfiguration.timeout = .seconds(5)
            exporterConfiguration.gzip = gzip
            let pipeline = Pipeline(
                exporter: TempoExporter(client: Self.client(), configuration: exporterConfiguration, resource: Self.resource),
                configuration: configuration,
                clock: clock
            )
            try await withRunningService(pipeline) {
                try await body(pipeline, clock)
            }
            return pipeline
        }
    }

    static func settle(_ pipeline: Pipeline) async throws {
        // The pipeline works on its own task without waiting on the clock here; let it finish.
        try await waitUntil("the pipeline to have nothing buffered") { pipeline.counters.snapshot.buffered == 0 }
    }

    @Test func serviceUnavailableThreeTimesThenAcceptedIsDeliveredOnce() async throws {
        let tempo = MisbehavingTempo(script: Array(repeating: .init(status: 503), count: 3))
        let pipeline = try await withPipeline(tempo) { pipeline, clock in
            try await #expect(clock.sleeps.next() == .seconds(3600))
            for span in Self.spans(10) { pipeline.enqueue(span) }
            for retry in 1...3 {
                try await #expect(tempo.exports.next().status == 503)
                let backoff = try await clock.sleeps.next()
                #expect(backoff <= RetryPolicy().backoffCeiling(retry: retry))
                clock.advance(by: backoff)
            }
            try await #expect(tempo.exports.next().status == 200)
            try await Self.settle(pipeline)
        }
        let exports = tempo.all
        #expect(exports.count == 4)
        #expect(Set(exports.map(\.rawBody)).count == 1, "a retry resends the same bytes")
        #expect(exports[0].tenant == "tenant-a")
        #expect(exports[0].contentType == "application/x-protobuf")
        #expect(exports[0].contentEncoding == nil)
        #expect(exports[3].spanNames == (0..<10).map { "span \($0)" })
        let resource = Dictionary(
            uniqueKeysWithValues: exports[3].request.resourceSpans[0].resource.attributes.map { ($0.key, $0.value.stringValue) }
        )
        #expect(
            resource == [
                "service.name": "runway", "service.version": "1.0.0", "service.instance.id": "test-instance",
                "deployment.environment": "test",
            ]
        )
        #expect(pipeline.counters.snapshot == .init(enqueued: 10, sent: 10, buffered: 0, dropped: [:]))
    }

    @Test(arguments: [
        ("7", Duration.seconds(7)),
        ("Sun, 06 Nov 1994 08:49:37 GMT", Duration.zero),  // a date in the past: at once
    ])
    func tooManyRequestsWaitsForRetryAfter(retryAfter: String, expected: Duration) async throws {
        let tempo = MisbehavingTempo(script: [.init(status: 429, retryAfter: retryAfter)])
        let pipeline = try await withPipeline(tempo) { pipeline, clock in
            _ = try await clock.sleeps.next()
            for span in Self.spans(10) { pipeline.enqueue(span) }
            try await #expect(tempo.exports.next().status == 429)
            if expected > .zero {
                try await #expect(clock.sleeps.next() == expected)
                clock.advance(by: expected)
            }
            try await #expect(tempo.exports.next().status == 200)
            try await Self.settle(pipeline)
        }
        #expect(pipeline.counters.snapshot == .init(enqueued: 10, sent: 10, buffered: 0, dropped: [:]))
    }

    @Test func retryAfterAsAFutureHTTPDateIsHonoured() async throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let date = formatter.string(from: Date().addingTimeInterval(30))
        let tempo = MisbehavingTempo(script: [.init(status: 503, retryAfter: date)])
        let pipeline = try await withPipeline(tempo) { pipeline, clock in
            _ = try await clock.sleeps.next()
            for span in Self.spans(10) { pipeline.enqueue(span) }
            try await #expect(tempo.exports.next().status == 503)
            let wait = try await clock.sleeps.next()
            #expect(wait > .seconds(25) && wait <= .seconds(31))
            clock.advance(by: wait)
            try await #expect(tempo.exports.next().status == 200)
            try await Self.settle(pipeline)
        }
        #expect(pipeline.counters.snapshot.sent == 10)
    }

    @Test func aRetryAfterPastTheExportTimeoutDropsTheBatchOnce() async throws {
        let tempo = MisbehavingTempo(script: [.init(status: 429, retryAfter: "3600")])
        let pipeline = try await withPipeline(tempo, configure: { $0.exportTimeout = .seconds(30) }) { pipeline, _ in
            for span in Self.spans(10) { pipeline.enqueue(span) }
            try await #expect(tempo.exports.next().status == 429)
            try await Self.settle(pipeline)
        }
        #expect(tempo.all.count == 1)
        #expect(pipeline.counters.snapshot == .init(enqueued: 10, sent: 0, buffered: 0, dropped: [.exportTimeout: 10]))
    }

    @Test(arguments: [
        (400, "", "http_400"), (401, "", "http_401"), (404, "", "http_404"),
        (500, "", "http_500"),
        (500, "RATE_LIMITED: ingestion rate limit (15000000 bytes) exceeded", "http_500_rate_limited"),
        (500, "TRACE_TOO_LARGE: max size of trace (5000000) exceeded", "http_500_trace_too_large"),
        (500, "no org id", "http_500_tenant_missing"),
        (501, "", "http_501"),
    ])
    func finalErrorsAreTriedOnceAndDroppedWithTheirReason(status: Int, body: String, reason: String) async throws {
        let tempo = MisbehavingTempo(script: [.init(status: status, body: Array(body.utf8))])
        let pipeline = try await withPipeline(tempo) { pipeline, _ in
            for span in Self.spans(10) { pipeline.enqueue(span) }
            try await #expect(tempo.exports.next().status == status)
            try await Self.settle(pipeline)
        }
        #expect(tempo.all.count == 1)
        #expect(pipeline.counters.snapshot == .init(enqueued: 10, sent: 0, buffered: 0, dropped: [.rejected(reason): 10]))
    }

    @Test func partialSuccessIsNeverRetriedAndItsRejectedSpansAreCounted() async throws {
        let tempo = MisbehavingTempo(script: [.partialSuccess(rejected: 3, message: "3 spans too old")])
        let pipeline = try await withPipeline(tempo) { pipeline, _ in
            for span in Self.spans(10) { pipeline.enqueue(span) }
            try await #expect(tempo.exports.next().status == 200)
            try await Self.settle(pipeline)
        }
        #expect(tempo.all.count == 1)
        #expect(
            pipeline.counters.snapshot
                == .init(enqueued: 10, sent: 7, buffered: 0, dropped: [.rejected("partial_success"): 3])
        )
    }

    @Test func partialSuccessWithZeroRejectedIsFullDelivery() async throws {
        let tempo = MisbehavingTempo(script: [.partialSuccess(rejected: 0, message: "")])
        let pipeline = try await withPipeline(tempo) { pipeline, _ in
            for span in Self.spans(10) { pipeline.enqueue(span) }
            _ = try await tempo.exports.next()
            try await Self.settle(pipeline)
        }
        #expect(pipeline.counters.snapshot == .init(enqueued: 10, sent: 10, buffered: 0, dropped: [:]))
    }

    @Test func gzipBodiesCarryContentEncodingAndDecodeToTheSameSpans() async throws {
        let tempo = MisbehavingTempo()
        let pipeline = try await withPipeline(tempo, tenant: nil, gzip: true) { pipeline, _ in
            for span in Self.spans(10) { pipeline.enqueue(span) }
            _ = try await tempo.exports.next()
            try await Self.settle(pipeline)
        }
        #expect(tempo.all.first?.contentEncoding == "gzip")
        #expect(tempo.all.first?.tenant == nil)
        #expect(tempo.all.first?.spanNames.count == 10)
        #expect(pipeline.counters.snapshot.sent == 10)
    }

    @Test func aFullBatchLeavesAtOnceAndBatchesAreCappedInEntries() async throws {
        let tempo = MisbehavingTempo()
        let pipeline = try await withPipeline(tempo, configure: { $0.maximumBatchEntries = 4 }) { pipeline, _ in
            for span in Self.spans(8) { pipeline.enqueue(span) }
            _ = try await tempo.exports.next()
            _ = try await tempo.exports.next()
            try await Self.settle(pipeline)
        }
        #expect(tempo.all.map(\.spanNames.count) == [4, 4])
        #expect(pipeline.counters.snapshot == .init(enqueued: 8, sent: 8, buffered: 0, dropped: [:]))
    }

    @Test func aFullQueueDropsTheOldestAndCountsThem() async throws {
        let tempo = MisbehavingTempo()
        let pipeline = try await withPipeline(
            tempo,
            configure: {
                $0.maximumBufferEntries = 5
                $0.maximumBatchEntries = 100
            }
        ) { pipeline, _ in
            for span in Self.spans(8) { pipeline.enqueue(span) }
        }  // the final flush at shutdown sends what is left
        #expect(tempo.all.flatMap(\.spanNames) == (3..<8).map { "span \($0)" })
        #expect(pipeline.counters.snapshot == .init(enqueued: 8, sent: 5, buffered: 0, dropped: [.bufferFull: 3]))
    }

    @Test func oversizedRequestsAreSplitAndASingleOversizedSpanIsDropped() async throws {
        var configuration = TempoExporter.Configuration(baseURL: "http://127.0.0.1:1")
        let spans = Self.spans(4)
        let oneSpanRequest = TraceRequestEncoder(resource: Self.resource).encodedSize([spans[0]])
        configuration.maximumRequestBytes = oneSpanRequest
        let exporter = TempoExporter(client: Self.client(), configuration: configuration, resource: Self.resource)
        #expect(await exporter.export(spans) == .tooLarge)
        configuration.maximumRequestBytes = oneSpanRequest - 1
        let smaller = TempoExporter(client: Self.client(), configuration: configuration, resource: Self.resource)
        #expect(await smaller.export([spans[0]]) == .tooLarge)
        #expect(await smaller.export([]) == .delivered)  // no request for an empty batch
    }

    @Test func aServerThatNeverAnswersTimesOutAndIsRetryable() async throws {
        let listener = try SilentListener()
        var configuration = TempoExporter.Configuration(baseURL: "http://127.0.0.1:\(listener.port)")
        configuration.timeout = .milliseconds(300)
        let exporter = TempoExporter(client: Self.client(), configuration: configuration, resource: Self.resource)
        #expect(await exporter.export(Self.spans(3)) == .retryable(retryAfter: nil))
    }

    @Test func aRefusedConnectionIsRetryable() async throws {
        let refusing = try RefusingPort()
        var configuration = TempoExporter.Configuration(baseURL: "http://127.0.0.1:\(refusing.port)")
        // AsyncHTTPClient keeps trying to connect until the request's deadline.
        configuration.timeout = .milliseconds(500)
        let exporter = TempoExporter(client: Self.client(), configuration: configuration, resource: Self.resource)
        #expect(await exporter.export(Self.spans(3)) == .retryable(retryAfter: nil))
        withExtendedLifetime(refusing) {}
    }

    @Test func shutdownWhileTheCollectorIsDownEndsByItsDeadlineAndCountsEverySpan() async throws {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        var exporterConfiguration = TempoExporter.Configuration(baseURL: "http://127.0.0.1:\(refusing.port)")
        exporterConfiguration.timeout = .milliseconds(200)
        var configuration = TempoConfiguration.defaultBatching
        configuration.maximumBatchEntries = 3
        configuration.shutdownDeadline = .zero
        let clock = TestClock()
        let pipeline = Pipeline(
            exporter: TempoExporter(client: Self.client(), configuration: exporterConfiguration, resource: Self.resource),
            configuration: configuration,
            clock: clock
        )
        try await withRunningService(pipeline) {
            _ = try await clock.sleeps.next()  // the flush timer
            for span in Self.spans(3) { pipeline.enqueue(span) }
            // The first attempt fails to connect; the pipeline then waits to retry.
            _ = try await clock.sleeps.next()
            #expect(pipeline.counters.snapshot.buffered == 3)
        }
        #expect(pipeline.counters.snapshot == .init(enqueued: 3, sent: 0, buffered: 0, dropped: [.shutdown: 3]))
    }
}
