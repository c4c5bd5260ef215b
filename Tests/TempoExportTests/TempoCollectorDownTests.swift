import AsyncHTTPClient
import Hummingbird
import NIOCore
import ServiceLifecycle
import ServiceLifecycleTestKit
import Telemetry
import TelemetryTesting
import Testing
import Tracing

@testable import TempoExport

/// The collector is down or hangs: callers never wait, memory stays within the queue, every span
/// is accounted for, and export resumes when the collector comes up.
@Suite struct TempoCollectorDownTests {
    typealias Pipeline = BatchingPipeline<TempoExporter, TestClock>

    @Test func aHangingCollectorNeverHoldsUpCallersAndTheQueueStaysBounded() async throws {
        let listener = try SilentListener()
        var exporterConfiguration = TempoExporter.Configuration(baseURL: "http://127.0.0.1:\(listener.port)")
        exporterConfiguration.timeout = .seconds(600)
        var configuration = TempoConfiguration.defaultBatching
        configuration.maximumBufferEntries = 100
        configuration.maximumBatchEntries = 10
        configuration.shutdownDeadline = .zero
        let pipeline = Pipeline(
            exporter: TempoExporter(
                client: .shared,
                configuration: exporterConfiguration,
                resource: TempoExporterFaultTests.resource
            ),
            configuration: configuration,
            clock: TestClock()
        )
        let tracer = RunwayTracer { pipeline.enqueue($0) }
        try await withRunningService(pipeline) {
            for index in 0..<10_000 {
                tracer.withSpan("request \(index)", ofKind: .server) { span in span.attributes["tenant"] = "acme" }
            }
            let snapshot = pipeline.counters.snapshot
            #expect(snapshot.enqueued == 10_000 && snapshot.sent == 0)
            // At most the queue plus the batches in flight are held.
            #expect(snapshot.buffered <= 100 + 2 * 10)
            #expect(snapshot.isBalanced)
        }
        let snapshot = pipeline.counters.snapshot
        #expect(snapshot.buffered == 0 && snapshot.sent == 0)
        #expect(snapshot.droppedTotal == 10_000)
        #expect(snapshot.dropped[.bufferFull, default: 0] >= 10_000 - 120)
        #expect(tracer.counters.snapshot.handedToSink == 10_000)
    }

    @Test func aRefusedConnectionIsRetriedAndDeliveredOnceTheCollectorIsUp() async throws {
        let port = try refusedLoopbackPort()
        var exporterConfiguration = TempoExporter.Configuration(baseURL: "http://127.0.0.1:\(port)")
        // Long enough for the export after the collector is up to arrive and be answered on a
        // machine busy with the rest of the suite: its failure would wait for the test clock.
        // (AsyncHTTPClient keeps trying to connect until the deadline, so the first, refused,
        // attempt takes this long.)
        exporterConfiguration.timeout = .seconds(2)
        var configuration = TempoConfiguration.defaultBatching
        configuration.maximumBatchEntries = 3
        configuration.flushInterval = .seconds(3600)
        let clock = TestClock()
        let pipeline = Pipeline(
            exporter: TempoExporter(
                client: .shared,
                configuration: exporterConfiguration,
                resource: TempoExporterFaultTests.resource
            ),
            configuration: configuration,
            clock: clock
        )
        let tempo = MisbehavingTempo()
        let listening = Arrivals<Void>("the collector listening again")
        let app = Application(
            router: tempo.router,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in listening.record(()) }
        )
        // The collector comes up during the test, so it runs in the same group as the pipeline.
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pipeline.run() }
                try await #expect(clock.sleeps.next() == .seconds(3600))  // the flush timer
                for span in TempoExporterFaultTests.spans(3) { pipeline.enqueue(span) }
                let backoff = try await clock.sleeps.next()  // refused: waiting to retry
                #expect(tempo.all.isEmpty)
                group.addTask { try await app.run() }
                try await listening.next()
                clock.advance(by: backoff)
                try await #expect(tempo.exports.next().status == 200)
                try await waitUntil("the pipeline to have nothing buffered") { pipeline.counters.snapshot.buffered == 0 }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(tempo.all.count == 1)
        #expect(pipeline.counters.snapshot == .init(enqueued: 3, sent: 3, buffered: 0, dropped: [:]))
    }
}
