import Foundation
import Testing

@testable import CostMeter

/// What no job could be credited with is shared among the requests that caused it; what no
/// request caused stays overhead.
@Suite struct CostAttributionTests {
    static let second: Int64 = 1_000_000_000
    static let millisecond: Int64 = 1_000_000

    let meter = CostMeter(configuration: CostMeterConfiguration(instance: "attribution"))
    let clocks = ManualMeterClocks(wall: LedgerCollectorTests.hourStart, database: 0)
    let heavy = UUID()
    let light = UUID()

    /// One tick's worth of measured work: `requests` and their measured CPU for `payer`.
    func serve(_ payer: Payer, requests: Int64, app: Int64 = 0, database: Int64 = 0) {
        meter.account(for: payer).add(Usage(appCPUNanoseconds: app, databaseCPUNanoseconds: database, requests: requests))
    }

    @Test func unmeasuredCPUIsSharedByRequestCount() {
        let attribution = CostAttribution(meter: meter, clocks: clocks)
        serve(.tenant(heavy), requests: 1, app: 8 * Self.millisecond, database: 6 * Self.millisecond)
        serve(.tenant(light), requests: 3, app: 1 * Self.millisecond)
        // 9 ms measured of 13 ms used; 6 ms of the database's 10 ms.
        clocks.advance(wall: Self.second, processCPU: 13 * Self.millisecond, databaseCPU: 10 * Self.millisecond)
        let tick = attribution.tick()
        #expect(tick == CostAttribution.Tick(sharedApp: 4 * Self.millisecond, sharedDatabase: 4 * Self.millisecond, requests: 4))
        #expect(meter.account(for: heavy).usage == Usage(appCPUNanoseconds: 9_000_000, databaseCPUNanoseconds: 7_000_000, requests: 1))
        #expect(meter.account(for: light).usage == Usage(appCPUNanoseconds: 4_000_000, databaseCPUNanoseconds: 3_000_000, requests: 3))
    }

    @Test func theBackgroundRateIsLearnedFromQuietTicksAndLeftAsOverhead() {
        let attribution = CostAttribution(meter: meter, clocks: clocks)
        // A burst's tail (its flushes) in the first quiet tick: not taken for background.
        clocks.advance(wall: Self.second, processCPU: 50 * Self.millisecond, databaseCPU: 20 * Self.millisecond)
        attribution.tick()
        #expect(attribution.backgroundPerSecond.app == nil)
        for _ in 0..<3 {
            clocks.advance(wall: Self.second, processCPU: 2 * Self.millisecond, databaseCPU: 1 * Self.millisecond)
            attribution.tick()
        }
        #expect(abs((attribution.backgroundPerSecond.app ?? 0) - 2e6) < 1)
        #expect(abs((attribution.backgroundPerSecond.database ?? 0) - 1e6) < 1)
        serve(.tenant(light), requests: 10, app: 5 * Self.millisecond)
        clocks.advance(wall: Self.second, processCPU: 10 * Self.millisecond, databaseCPU: 4 * Self.millisecond)
        let tick = attribution.tick()
        #expect(tick.sharedApp == 3 * Self.millisecond && tick.sharedDatabase == 3 * Self.millisecond)
    }

    @Test func measuredCPUSettledLateIsTakenFromTheNextTick() {
        let attribution = CostAttribution(meter: meter, clocks: clocks)
        // A long request's CPU ran in the first tick but was credited in the second.
        serve(.tenant(heavy), requests: 1)
        clocks.advance(wall: Self.second, processCPU: 30 * Self.millisecond)
        #expect(attribution.tick().sharedApp == 30 * Self.millisecond)
        serve(.tenant(heavy), requests: 1, app: 40 * Self.millisecond)
        clocks.advance(wall: Self.second, processCPU: 20 * Self.millisecond)
        #expect(attribution.tick().sharedApp == 0)
        serve(.tenant(heavy), requests: 1)
        clocks.advance(wall: Self.second, processCPU: 25 * Self.millisecond)
        #expect(attribution.tick().sharedApp == 5 * Self.millisecond, "the 20 ms shortfall came off this tick")
    }

    @Test func everyPayerCountsAndTheLedgerStillClosesToTheMicroDollar() {
        let collector = LedgerCollector(meter: meter, clocks: clocks, sharesUnmeasuredCPU: true)
        var rows: [LedgerRow] = []
        for index in 0..<90 {
            serve(.tenant(heavy), requests: 2, app: 7 * Self.millisecond + Int64(index), database: 3 * Self.millisecond)
            serve(.tenant(light), requests: 9, app: 2 * Self.millisecond)
            serve(.unauthenticated, requests: 5, app: Self.millisecond)
            serve(.admin, requests: 1, app: Self.millisecond / 3)
            clocks.advance(wall: Self.second * 10, processCPU: 13 * Self.millisecond, databaseCPU: 5 * Self.millisecond)
            rows += collector.collect()
        }
        let price = meter.configuration.price(at: LedgerCollectorTests.hourStart)!
        let total = rows.reduce(0) { $0 + $1.costMicros }
        #expect(
            total
                == meter.configuration.prices.cost(
                    of: price.instanceType,
                    from: LedgerCollectorTests.hourStart,
                    to: LedgerCollectorTests.hourStart + 900 * Self.second
                )
        )
        let kinds = Set(rows.map { "\($0.kind)/\($0.item)" })
        #expect(kinds == ["tenant/", "unauthenticated/", "overhead/admin", "overhead/background", "idle/"])
        // All the CPU was caused by requests: nothing is left in the background row.
        #expect(rows.filter { $0.item == .background }.allSatisfy { $0.cpuNanoseconds == 0 })
        let used = rows.filter { $0.kind != .idle }.reduce(Int64(0)) { $0 + $1.cpuNanoseconds }
        #expect(used == 90 * 18 * Self.millisecond)
    }
}
