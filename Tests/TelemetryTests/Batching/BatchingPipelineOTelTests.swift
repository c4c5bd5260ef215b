import ServiceLifecycle
import Synchronization
import TelemetryTesting
import Testing

@testable import Telemetry

/// The pipeline's OTel batch-span-processor settings: entry bounds, concurrent exports, partial
/// delivery and the export timeout.
@Suite struct BatchingPipelineOTelTests {
    func configuration(queue: Int = 100, batch: Int = 3, concurrent: Int = 1) -> BatchingConfiguration {
        var configuration = BatchingConfiguration()
        configuration.maximumBufferEntries = queue
        configuration.maximumBatchEntries = batch
        configuration.maximumConcurrentExports = concurrent
        configuration.flushInterval = .seconds(1000)
        return configuration
    }

    @Test func theBufferIsBoundedInEntriesAndDropsTheOldest() {
        var buffer = BoundedBuffer<Int>(capacityBytes: 1000, capacityEntries: 3, batchEntries: 2)
        for i in 0..<3 { #expect(buffer.append(i, size: 1) == 0) }
        #expect(buffer.append(3, size: 1) == 1)
        #expect(buffer.removeFirstBatch()?.entries == [1])
        #expect(buffer.removeFirstBatch()?.entries == [2, 3])
    }

    @Test func aBatchSizeWorthOfEntriesLeavesAtOnceCappedInEntries() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter()
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: clock)
        try await withRunningService(pipeline) {
            for i in 0..<3 { pipeline.enqueue(i, size: 1) }
            try await #expect(exporter.attempts.next() == [0, 1, 2])
        }
        #expect(pipeline.counters.snapshot == .init(enqueued: 3, sent: 3, buffered: 0, dropped: [:]))
    }

    @Test func aPartialDeliveryCountsTheRejectedAsDroppedAndIsNotRetried() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter(script: [.partiallyDelivered(rejected: 2, reason: .rejected("partial_success"))])
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: clock)
        try await withRunningService(pipeline) {
            for i in 0..<3 { pipeline.enqueue(i, size: 1) }
            _ = try await exporter.attempts.next()
            try await waitUntil("the pipeline to have nothing buffered") { pipeline.counters.snapshot.buffered == 0 }
        }
        #expect(
            pipeline.counters.snapshot == .init(enqueued: 3, sent: 1, buffered: 0, dropped: [.rejected("partial_success"): 2])
        )
    }

    @Test func aRetryPastTheExportTimeoutDropsTheBatch() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter(script: [.retryable(retryAfter: "100")])
        var configuration = configuration()
        configuration.exportTimeout = .seconds(10)
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration, clock: clock)
        try await withRunningService(pipeline) {
            for i in 0..<3 { pipeline.enqueue(i, size: 1) }
            _ = try await exporter.attempts.next()
            try await waitUntil("the pipeline to have nothing buffered") { pipeline.counters.snapshot.buffered == 0 }
        }
        #expect(pipeline.counters.snapshot == .init(enqueued: 3, sent: 0, buffered: 0, dropped: [.exportTimeout: 3]))
    }

    @Test func exportsRunConcurrentlyUpToTheLimit() async throws {
        let clock = TestClock()
        let exporter = GatedExporter()
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(batch: 2, concurrent: 2), clock: clock)
        try await withRunningService(pipeline) {
            for i in 0..<4 { pipeline.enqueue(i, size: 1) }
            // Both batches are in flight before either is answered.
            let first = try await exporter.attempts.next()
            let second = try await exporter.attempts.next()
            #expect(Set([first, second]) == [[0, 1], [2, 3]])
            exporter.releaseAll()
            try await waitUntil("the pipeline to have nothing buffered") {
                exporter.releaseAll()
                return pipeline.counters.snapshot.buffered == 0
            }
        }
        #expect(pipeline.counters.snapshot == .init(enqueued: 4, sent: 4, buffered: 0, dropped: [:]))
    }
}

/// An exporter whose exports wait until the test releases them.
final class GatedExporter: BatchExporter, Sendable {
    typealias Entry = Int

    let attempts = Arrivals<[Int]>("export attempt")
    private let gates = Mutex<[CheckedContinuation<Void, Never>]>([])

    func export(_ batch: [Int]) async -> ExportResult {
        await withCheckedContinuation { continuation in
            gates.withLock { $0.append(continuation) }
            attempts.record(batch)
        }
        return .delivered
    }

    func releaseAll() {
        let waiting = gates.withLock { gates in
            defer { gates = [] }
            return gates
        }
        for gate in waiting { gate.resume() }
    }
}
