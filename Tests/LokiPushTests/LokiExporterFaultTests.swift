import AsyncHTTPClient
import Foundation
import HTTPServerTesting
import Hummingbird
import Logging
import ServiceLifecycle
import SwiftProtobuf
import Telemetry
import TelemetryTesting
import Testing

@testable import LokiPush

#if canImport(Glibc)
    import Glibc
#endif

/// The Loki exporter and the batching pipeline against real HTTP servers on 127.0.0.1 that
/// misbehave on purpose; each test checks the exact counts afterwards.
@Suite struct LokiExporterFaultTests {
    typealias Pipeline = BatchingPipeline<LokiExporter, TestClock>

    static func records(_ count: Int, stream: String = "runway") throws -> [LokiRecord] {
        let labels = try LokiLabels(["service_name": stream, "level": "info"])
        return (0..<count).map { i in
            LokiRecord(
                labels: labels,
                entry: LokiEntry(timestampNanoseconds: 1_764_158_400_000_000_000, line: "line \(i)", metadata: [("request_id", "r\(i)")])
            )
        }
    }

    /// Runs a pipeline pushing to `loki` (served live) with a test clock, for the length of `body`.
    func withPipeline(
        _ loki: MisbehavingLoki,
        tenant: String? = "tenant-a",
        _ body: @Sendable (Pipeline, TestClock) async throws -> Void
    ) async throws -> Pipeline {
        let app = Application(router: loki.router)
        let clock = TestClock()
        return try await withLoopbackServer(app) { port in
            var exporterConfiguration = LokiExporter.Configuration(baseURL: "http://127.0.0.1:\(port)", tenant: tenant)
            exporterConfiguration.timeout = .seconds(5)
            var configuration = BatchingConfiguration()
            configuration.maximumBatchBytes = 180  // exactly ten of the records below (18 bytes each): one batch
            configuration.flushInterval = .seconds(3600)
            let pipeline = Pipeline(
                exporter: LokiExporter(client: .shared, configuration: exporterConfiguration),
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

    @Test func fiveHundredThreeTimesThenAcceptedIsDeliveredOnceWithIdenticalBytes() async throws {
        let loki = MisbehavingLoki(script: Array(repeating: .init(status: 500), count: 3))
        let pipeline = try await withPipeline(loki) { pipeline, clock in
            try await #expect(clock.sleeps.next() == .seconds(3600))
            for record in try Self.records(10) { pipeline.enqueue(record, size: record.size) }
            for _ in 0..<3 {
                try await #expect(loki.pushes.next().status == 500)
                let backoff = try await clock.sleeps.next()
                clock.advance(by: backoff)
            }
            try await #expect(loki.pushes.next().status == 204)
            try await Self.settle(pipeline)
        }
        let pushes = loki.all
        #expect(pushes.count == 4)
        #expect(Set(pushes.map(\.rawBody)).count == 1, "a retry must resend the same bytes (same timestamps)")
        #expect(pushes[0].tenant == "tenant-a")
        #expect(pushes[0].contentType == "application/x-protobuf")
        #expect(pushes[3].lines == (0..<10).map { "line \($0)" })
        // Equal timestamps were moved apart by a nanosecond each, in order.
        let times = pushes[3].request.streams[0].entries.map { Int64($0.timestamp.seconds) * 1_000_000_000 + Int64($0.timestamp.nanos) }
        #expect(times == (0..<10).map { 1_764_158_400_000_000_000 + Int64($0) })
        #expect(pipeline.counters.snapshot == .init(enqueued: 10, sent: 10, buffered: 0, dropped: [:]))
    }

    @Test(arguments: [("7", Duration.seconds(7)), ("Sun, 06 Nov 1994 08:49:37 GMT", Duration.zero)])
    func tooManyRequestsWaitsForRetryAfter(retryAfter: String, expected: Duration) async throws {
        let loki = MisbehavingLoki(script: [.init(status: 429, retryAfter: retryAfter)])
        let pipeline = try await withPipeline(loki) { pipeline, clock in
            _ = try await clock.sleeps.next()
            for record in try Self.records(10) { pipeline.enqueue(record, size: record.size) }
            try await #expect(loki.pushes.next().status == 429)
            if expected > .zero {
                try await #expect(clock.sleeps.next() == expected)
                clock.advance(by: expected)
            }
            try await #expect(loki.pushes.next().status == 204)
            try await Self.settle(pipeline)
        }
        #expect(pipeline.counters.snapshot.sent == 10)
    }

    @Test func tooManyRequestsWithoutRetryAfterBacksOffWithJitter() async throws {
        let loki = MisbehavingLoki(script: [.init(status: 429)])
        let pipeline = try await withPipeline(loki) { pipeline, clock in
            _ = try await clock.sleeps.next()
            for record in try Self.records(10) { pipeline.enqueue(record, size: record.size) }
            _ = try await loki.pushes.next()
            let backoff = try await clock.sleeps.next()
            #expect(backoff <= .milliseconds(500))
            clock.advance(by: backoff)
            _ = try await loki.pushes.next()
            try await Self.settle(pipeline)
        }
        #expect(pipeline.counters.snapshot.sent == 10)
    }

    @Test func badRequestIsNeverRetriedAndItsReasonIsRecorded() async throws {
        let loki = MisbehavingLoki(script: [
            .init(status: 400, body: "Max entry size '256' bytes exceeded for stream '{service_name=\"runway\"}' while adding an entry")
        ])
        let pipeline = try await withPipeline(loki) { pipeline, clock in
            for record in try Self.records(10) { pipeline.enqueue(record, size: record.size) }
            try await #expect(loki.pushes.next().status == 400)
            try await Self.settle(pipeline)
        }
        #expect(loki.all.count == 1)
        #expect(pipeline.counters.snapshot.dropped == [.rejected("line_too_long"): 10])
        #expect(pipeline.counters.snapshot.isBalanced)
    }

    @Test func payloadTooLargeSplitsTheBatchAndDeliversEveryLineOnce() async throws {
        let loki = MisbehavingLoki { request in
            request.streams.reduce(0) { $0 + $1.entries.count } > 3 ? .init(status: 413) : nil
        }
        let pipeline = try await withPipeline(loki) { pipeline, _ in
            for record in try Self.records(10) { pipeline.enqueue(record, size: record.size) }
            _ = try await loki.pushes.next()
            try await Self.settle(pipeline)
        }
        let delivered = loki.all.filter { $0.status == 204 }.flatMap(\.lines)
        #expect(delivered.sorted() == (0..<10).map { "line \($0)" }.sorted())
        #expect(Set(delivered).count == delivered.count)
        #expect(pipeline.counters.snapshot.sent == 10)
    }

    @Test func logLinesReachLokiThroughTheWholePipeline() async throws {
        let loki = MisbehavingLoki()
        let pipeline = try await withPipeline(loki) { pipeline, _ in
            let sink = try LokiSink(options: .init(labels: ["service_name": "runway", "env": "test"])) { record in
                pipeline.enqueue(record, size: record.size)
            }
            let logger = Logger(label: "runway.test") { LokiLogHandler(label: $0, sink: sink) }
            logger.info("first", metadata: ["tenant": "acme", "request_id": "r-1"])
            logger.warning("second")
            logger.debug("below the level")
        }  // the final flush at shutdown sends them
        let streams = loki.all.flatMap(\.request.streams)
        #expect(
            Set(streams.map(\.labels)) == [
                #"{env="test", level="info", service_name="runway"}"#, #"{env="test", level="warning", service_name="runway"}"#,
            ]
        )
        let entries = streams.flatMap(\.entries)
        #expect(entries.map(\.line).sorted() == ["first", "second"])
        let first = try #require(entries.first { $0.line == "first" })
        let metadata = Dictionary(uniqueKeysWithValues: first.structuredMetadata.map { ($0.name, $0.value) })
        #expect(metadata["tenant"] == "acme")
        #expect(metadata["request_id"] == "r-1")
        #expect(pipeline.counters.snapshot == .init(enqueued: 2, sent: 2, buffered: 0, dropped: [:]))
    }

    @Test func aServerThatNeverAnswersTimesOutAndIsRetryable() async throws {
        let listener = try SilentListener()
        var configuration = LokiExporter.Configuration(baseURL: "http://127.0.0.1:\(listener.port)")
        configuration.timeout = .milliseconds(300)
        let exporter = LokiExporter(client: .shared, configuration: configuration)
        #expect(await exporter.export(try Self.records(3)) == .retryable(retryAfter: nil))
    }

    @Test func aRefusedConnectionIsRetryable() async throws {
        let refusing = try RefusingPort()
        var configuration = LokiExporter.Configuration(baseURL: "http://127.0.0.1:\(refusing.port)")
        // AsyncHTTPClient keeps trying to connect until the request's deadline.
        configuration.timeout = .milliseconds(500)
        let exporter = LokiExporter(client: .shared, configuration: configuration)
        #expect(await exporter.export(try Self.records(3)) == .retryable(retryAfter: nil))
        withExtendedLifetime(refusing) {}
    }
}
