import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Telemetry
import TelemetryTesting
import Testing

@testable import CostMeter

/// A ledger store keyed like `cost_ledger` (a row whose key exists is ignored), which can be
/// down, or store a batch and then fail as if the answer were lost.
final class MemoryLedgerStore: LedgerStore {
    struct Key: Hashable {
        var instance: String
        var boot: UUID
        var start: Int64
        var kind: LedgerKind
        var tenant: UUID?
    }

    private struct State {
        var rows: [Key: LedgerRow] = [:]
        var attempts = 0
        var down = false
        var loseNextAnswer = false
    }

    private let state = Mutex(State())

    var rows: [LedgerRow] { state.withLock { Array($0.rows.values) } }
    var attempts: Int { state.withLock { $0.attempts } }
    func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    func loseNextAnswer() { state.withLock { $0.loseNextAnswer = true } }

    struct Unavailable: Error {}

    func write(_ rows: [LedgerRow]) async throws {
        try state.withLock { state in
            state.attempts += 1
            if state.down { throw Unavailable() }
            for row in rows {
                let key = Key(instance: row.instance, boot: row.boot, start: row.intervalStart, kind: row.kind, tenant: row.tenant)
                if state.rows[key] == nil { state.rows[key] = row }
            }
            if state.loseNextAnswer {
                state.loseNextAnswer = false
                throw Unavailable()
            }
        }
    }
}

@Suite struct LedgerPipelineTests {
    static let second = LedgerCollectorTests.second

    func ledger(store: MemoryLedgerStore, clock: TestClock) -> (CostLedgerService<TestClock>, ManualMeterClocks) {
        let clocks = ManualMeterClocks(wall: LedgerCollectorTests.hourStart)
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: "i-1"))
        var batching = CostLedgerService<TestClock>.defaultBatching
        batching.retry.initialBackoff = .seconds(1)
        let service = CostLedgerService(
            collector: LedgerCollector(meter: meter, clocks: clocks),
            store: store,
            clock: clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            buffer: batching
        )
        return (service, clocks)
    }

    /// Runs the ledger's pipeline, advancing the test clock each time it sleeps, until `done`.
    func drive(_ service: CostLedgerService<TestClock>, clock: TestClock, until done: @Sendable () -> Bool) async throws {
        try await withRunningService(service.pipeline) {
            for _ in 0..<10_000 where !done() {
                _ = try await clock.sleeps.next()
                clock.advance(by: .seconds(31))
            }
            #expect(done(), "the ledger did not finish within 10,000 of its sleeps")
        }
    }

    @Test func whileTheDatabaseIsDownRowsWaitAndLandOnceWhenItReturns() async throws {
        let store = MemoryLedgerStore()
        let clock = TestClock()
        let (service, clocks) = ledger(store: store, clock: clock)
        store.setDown(true)
        var expected = 0
        for _ in 0..<30 {
            service.collector.meter.account(for: UUID()).appCPU.add(Self.second, ordering: .relaxed)
            clocks.advance(wall: 10 * Self.second, processCPU: 2 * Self.second)
            let before = service.pipeline.counters.snapshot.enqueued
            service.closeInterval()
            expected += service.pipeline.counters.snapshot.enqueued - before
        }
        let count = expected
        try await drive(service, clock: clock) {
            if store.attempts >= 4 { store.setDown(false) }
            return store.rows.count == count
        }
        #expect(store.attempts > 4)
        let counters = service.pipeline.counters.snapshot
        #expect(counters.enqueued == expected && counters.sent == expected && counters.droppedTotal == 0)
        #expect(store.rows.reduce(0) { $0 + $1.costMicros } == 6_041)  // 300 s of the hour: ⌊72 500 · 300 / 3600⌋
    }

    @Test func aBatchStoredButUnansweredIsRetriedAndStoredOnce() async throws {
        let store = MemoryLedgerStore()
        let clock = TestClock()
        let (service, clocks) = ledger(store: store, clock: clock)
        store.loseNextAnswer()
        clocks.advance(wall: 10 * Self.second)
        service.closeInterval()
        try await drive(service, clock: clock) { store.attempts >= 2 }
        #expect(store.rows.count == 2)  // overhead and idle, once each
        #expect(store.rows.reduce(0) { $0 + $1.costMicros } == 201)
    }
}
