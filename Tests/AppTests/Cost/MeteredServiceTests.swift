import CostMeter
import Foundation
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Testing

@testable import App

/// The telemetry exporters' service runs on a standing executor of the `telemetry` payer: what its
/// tasks use is that overhead item's, and no request of anyone's.
@Suite struct MeteredServiceTests {
    /// Burns CPU on the thread it runs on, in two child tasks, and keeps what it burned.
    private final class Burning: Service {
        let burned = Atomic<Int64>(0)

        func run() async throws {
            await withDiscardingTaskGroup { group in
                for _ in 0..<2 { group.addTask { self.burn() } }
            }
        }

        private func burn() {
            let start = CPUClock.thread()
            var x: UInt64 = 0x9E37_79B9_7F4A_7C15
            for i in 0..<3_000_000 { x = (x ^ UInt64(truncatingIfNeeded: i)) &* 0x5851_F42D_4C95_7F2D }
            precondition(x != 1)
            burned.add(CPUClock.thread() - start, ordering: .relaxed)
        }
    }

    /// Runs one statement that keeps its backend busy for a while.
    private struct Querying: Service {
        let database: Database

        func run() async throws {
            try await database.query("SELECT count(*) FROM generate_series(1, 300000)", logger: TestDatabase.logger)
        }
    }

    /// The flushes' statements (the ledger's writes) are measured on their item, in the database
    /// too: they run outside any request and any tenant's transaction.
    @Test func theServicesStatementsAreMeasuredOnItsItem() async throws {
        let app = try await TestApp()
        let meter = app.services.meter
        let before = meter.account(for: .flushes).usage.databaseCPUNanoseconds
        try await MeteredService(Querying(database: app.services.database), as: .flushes, meter: meter).run()
        #expect(meter.account(for: .flushes).usage.databaseCPUNanoseconds > before)
        #expect(meter.usageByTenant().isEmpty && meter.account(for: .unauthenticated).usage == Usage())
    }

    @Test func whatTheServiceUsesIsTheTelemetryItemOnTheLedger() async throws {
        let pool = MeteringPool(threads: 2)
        defer { pool.shutdown() }
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: "exporters"), pool: pool)
        let clocks = ManualMeterClocks(wall: 1_795_791_600 * 1_000_000_000)
        let collector = LedgerCollector(meter: meter, clocks: clocks)
        let service = Burning()
        try await MeteredService(service, as: .telemetry, meter: meter).run()
        pool.waitUntilIdle()
        let usage = meter.account(for: .telemetry).usage
        #expect(usage.appCPUNanoseconds >= service.burned.load(ordering: .relaxed))
        #expect(usage.requests == 0)
        clocks.advance(wall: 10_000_000_000, processCPU: usage.appCPUNanoseconds)
        let rows = collector.collect().filter { $0.kind == .overhead && $0.item == .telemetry }
        #expect(rows.map(\.appCPUNanoseconds) == [usage.appCPUNanoseconds])
    }
}
