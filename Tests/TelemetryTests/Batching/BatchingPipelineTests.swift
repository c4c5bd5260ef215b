import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import TelemetryTesting
import Testing

@testable import Telemetry

@Suite struct BatchingPipelineTests {
    func configuration(buffer: Int = 1000, batch: Int = 100, interval: Duration = .seconds(1000)) -> BatchingConfiguration {
        var configuration = BatchingConfiguration()
        configuration.maximumBufferBytes = buffer
        configuration.maximumBatchBytes = batch
        configuration.flushInterval = interval
        configuration.shutdownDeadline = .seconds(5)
        return configuration
    }

    @Test func aFullBatchIsSentWithoutWaitingForTheTimer() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter()
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: clock)
        try await withRunningService(pipeline) {
            for i in 0..<10 { pipeline.enqueue(i, size: 10) }
            try await #expect(exporter.attempts.next() == Array(0..<10))
        }
        #expect(pipeline.counters.snapshot == .init(enqueued: 10, sent: 10, buffered: 0, dropped: [:]))
    }

    @Test func aPartialBatchIsSentWhenTheFlushIntervalPasses() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter()
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(interval: .seconds(1)), clock: clock)
        try await withRunningService(pipeline) {
            try await #expect(clock.sleeps.next() == .seconds(1))
            pipeline.enqueue(7, size: 10)
            #expect(exporter.deliveredEntries.isEmpty)
            clock.advance(by: .seconds(1))
            try await #expect(exporter.attempts.next() == [7])
        }
        #expect(pipeline.counters.snapshot.sent == 1)
    }

    @Test func whatArrivesDuringAFlushWaitsForAFullBatchOrTheNextInterval() async throws {
        let clock = TestClock()
        let pipeline = Mutex<BatchingPipeline<ScriptedExporter, TestClock>?>(nil)
        let sentAt = Mutex<[Int: Duration]>([:])
        // Each export records when it was made, and the next entry arrives while it is in flight.
        let exporter = ScriptedExporter { batch in
            sentAt.withLock { $0[batch[0]] = clock.now.offset }
            if batch == [1] { pipeline.withLock { $0 }?.enqueue(2, size: 10) }
            return nil
        }
        let running = BatchingPipeline(exporter: exporter, configuration: configuration(interval: .seconds(1)), clock: clock)
        pipeline.withLock { $0 = running }
        try await withRunningService(running) {
            try await #expect(clock.sleeps.next() == .seconds(1))
            running.enqueue(1, size: 10)
            clock.advance(by: .seconds(1))
            try await #expect(exporter.attempts.next() == [1])
            try await #expect(clock.sleeps.next() == .seconds(1))
            clock.advance(by: .seconds(1))
            try await #expect(exporter.attempts.next() == [2])
        }
        // Entry 2 went out with the next interval, not in a request of its own right after entry 1.
        #expect(sentAt.withLock { $0 } == [1: .seconds(1), 2: .seconds(2)])
    }

    @Test func aFlushPassSendsWhatWasWaitingAndLeavesWhatArrivesDuringItsSends() async throws {
        let pipeline = Mutex<BatchingPipeline<ScriptedExporter, TestClock>?>(nil)
        let exporter = ScriptedExporter { batch in
            if batch == [1] { pipeline.withLock { $0 }?.enqueue(2, size: 10) }
            return nil
        }
        let tested = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: TestClock())
        pipeline.withLock { $0 = tested }
        tested.enqueue(1, size: 10)
        tested.flushDue.store(true, ordering: .relaxed)
        // One pass, run here instead of by `run()`: when it returns it is done, so what it left
        // behind is certain (entry 2 waits for a full batch or the next interval).
        #expect(await tested.sendBuffered(deadline: nil))
        #expect(exporter.deliveredEntries == [1])
        #expect(tested.counters.snapshot == .init(enqueued: 2, sent: 1, buffered: 1, dropped: [:]))
    }

    @Test func retryableFailuresAreRetriedWithBackoffAndDeliveredOnce() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter(script: [.retryable(retryAfter: nil), .retryable(retryAfter: nil), .retryable(retryAfter: "7")])
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: clock)
        try await withRunningService(pipeline) {
            try await #expect(clock.sleeps.next() == .seconds(1000))  // the flush timer
            for i in 0..<10 { pipeline.enqueue(i, size: 10) }
            _ = try await exporter.attempts.next()
            let first = try await clock.sleeps.next()
            #expect(first <= .milliseconds(500))
            clock.advance(by: first)
            _ = try await exporter.attempts.next()
            let second = try await clock.sleeps.next()
            #expect(second <= .seconds(1))
            clock.advance(by: second)
            _ = try await exporter.attempts.next()
            try await #expect(clock.sleeps.next() == .seconds(7))  // the server's Retry-After wins
            #expect(pipeline.counters.snapshot.buffered == 10)
            clock.advance(by: .seconds(7))
            try await #expect(exporter.attempts.next() == Array(0..<10))
        }
        #expect(exporter.deliveredEntries == Array(0..<10))
        #expect(pipeline.counters.snapshot == .init(enqueued: 10, sent: 10, buffered: 0, dropped: [:]))
    }

    @Test func aRejectedBatchIsDroppedWithItsReasonAndNeverRetried() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter(script: [.rejected(DropReason("rejected_400"))])
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: clock)
        try await withRunningService(pipeline) {
            for i in 0..<10 { pipeline.enqueue(i, size: 10) }
            _ = try await exporter.attempts.next()
            for i in 10..<20 { pipeline.enqueue(i, size: 10) }
            try await #expect(exporter.attempts.next() == Array(10..<20))  // the next batch, not a retry
        }
        let snapshot = pipeline.counters.snapshot
        #expect(snapshot.dropped == [DropReason("rejected_400"): 10])
        #expect(snapshot.sent == 10)
        #expect(snapshot.isBalanced)
    }

    @Test func tooLargeBatchesAreSplitUntilTheyFitAndASingleOversizedEntryIsDropped() async throws {
        let clock = TestClock()
        // The "server" takes at most 3 entries per request and never entry 5.
        let exporter = ScriptedExporter { batch in batch.count > 3 || batch.contains(5) ? .tooLarge : nil }
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: clock)
        try await withRunningService(pipeline) {
            for i in 0..<10 { pipeline.enqueue(i, size: 10) }
            _ = try await exporter.attempts.next()
            // Attempts follow each other without waiting on the clock; let them settle.
            try await waitUntil("the pipeline to have nothing buffered") { pipeline.counters.snapshot.buffered == 0 }
        }
        #expect(exporter.deliveredEntries == [0, 1, 2, 3, 4, 6, 7, 8, 9])
        #expect(pipeline.counters.snapshot.dropped == [.tooLarge: 1])
        #expect(pipeline.counters.snapshot.isBalanced)
    }

    @Test func whenTheBufferIsFullTheOldestEntriesAreDroppedAndCounted() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter()
        // Batches of up to 1000 bytes never fill by size: only the timer sends.
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(buffer: 50, batch: 1000), clock: clock)
        try await withRunningService(pipeline) {
            _ = try await clock.sleeps.next()
            for i in 0..<8 { pipeline.enqueue(i, size: 10) }
            pipeline.enqueue(99, size: 51)  // larger than the whole buffer
            clock.advance(by: .seconds(1000))
            try await #expect(exporter.attempts.next() == [3, 4, 5, 6, 7])
        }
        let snapshot = pipeline.counters.snapshot
        #expect(snapshot.enqueued == 9)
        #expect(snapshot.dropped == [.bufferFull: 3, .tooLarge: 1])
        #expect(snapshot.sent == 5)
        #expect(snapshot.isBalanced)
    }

    @Test func retriesEndWhenThePolicyIsExhausted() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter(fallback: .retryable(retryAfter: "1"))
        var configuration = configuration()
        configuration.retry.maximumRetries = 2
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration, clock: clock)
        try await withRunningService(pipeline) {
            _ = try await clock.sleeps.next()
            for i in 0..<10 { pipeline.enqueue(i, size: 10) }
            for _ in 0..<2 {
                _ = try await exporter.attempts.next()
                try await #expect(clock.sleeps.next() == .seconds(1))
                clock.advance(by: .seconds(1))
            }
            _ = try await exporter.attempts.next()
            try await waitUntil("the pipeline to have nothing buffered") { pipeline.counters.snapshot.buffered == 0 }
        }
        #expect(pipeline.counters.snapshot.dropped == [.retriesExhausted: 10])
    }

    @Test func shutdownWhileTheBackendIsDownReturnsByTheDeadlineAndCountsTheRest() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter(fallback: .retryable(retryAfter: "2"))
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: clock)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pipeline.run() }
                _ = try await clock.sleeps.next()
                for i in 0..<25 { pipeline.enqueue(i, size: 10) }
                _ = try await exporter.attempts.next()
                try await #expect(clock.sleeps.next() == .seconds(2))
                trigger.triggerGracefulShutdown()
                // The final flush tries again at once and waits 2 s between tries; once its 5 s
                // deadline has come, nothing more is tried.
                _ = try await exporter.attempts.next()
                while try await clock.sleeps.next() != .seconds(5) {}
                clock.advance(by: .seconds(5))
                try await group.waitForAll()
            }
        }
        let snapshot = pipeline.counters.snapshot
        #expect(snapshot.sent == 0)
        #expect(snapshot.buffered == 0)
        #expect(snapshot.dropped[.shutdown] == 25)
        #expect(snapshot.isBalanced)
    }

    @Test func shutdownWithAHealthyBackendDeliversEverything() async throws {
        let clock = TestClock()
        let exporter = ScriptedExporter()
        let pipeline = BatchingPipeline(exporter: exporter, configuration: configuration(), clock: clock)
        try await withRunningService(pipeline) {
            _ = try await clock.sleeps.next()
            for i in 0..<5 { pipeline.enqueue(i, size: 10) }  // below a batch: only the final flush sends
        }
        #expect(exporter.deliveredEntries == Array(0..<5))
        #expect(pipeline.counters.snapshot == .init(enqueued: 5, sent: 5, buffered: 0, dropped: [:]))
    }
}
