import Foundation
import Synchronization
import TelemetryTesting
import Testing

@testable import CostMeter

@Suite struct LedgerCollectorTests {
    static let second: Int64 = 1_000_000_000
    /// 2026-11-26 15:00:00 UTC.
    static let hourStart: Int64 = 1_795_791_600 * second

    func collector(prices: PriceTable = .awsGravitonDefaults, start: Int64 = hourStart) -> (LedgerCollector, ManualMeterClocks) {
        let clocks = ManualMeterClocks(wall: start)
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: "i-1", prices: prices))
        return (LedgerCollector(meter: meter, clocks: clocks), clocks)
    }

    func credit(_ meter: CostMeter, _ tenant: UUID, app: Int64, db: Int64 = 0, requests: Int64 = 0) {
        let account = meter.account(for: tenant)
        account.appCPU.add(app, ordering: .relaxed)
        account.databaseCPU.add(db, ordering: .relaxed)
        account.requests.add(requests, ordering: .relaxed)
    }

    @Test func everyHourClosesToTheInstancePriceToTheMicroDollar() {
        let (collector, clocks) = collector()
        let tenants = [UUID(), UUID(), UUID()]
        var generator = SplitMix64(state: 11)
        var rows: [LedgerRow] = []
        for _ in 0..<360 {
            var credited: Int64 = 0
            for tenant in tenants where Bool.random(using: &generator) {
                let app = Int64.random(in: 0...3 * Self.second, using: &generator)
                credited += app
                credit(
                    collector.meter,
                    tenant,
                    app: app,
                    db: Int64.random(in: 0...Self.second, using: &generator),
                    requests: Int64.random(in: 0...500, using: &generator)
                )
            }
            clocks.advance(wall: 10 * Self.second, processCPU: credited + Int64.random(in: 0...Self.second / 2, using: &generator))
            rows += collector.collect()
        }
        #expect(rows.reduce(0) { $0 + $1.costMicros } == 72_500)
        for start in Set(rows.map(\.intervalStart)) {
            let piece = rows.filter { $0.intervalStart == start }
            #expect(
                piece.reduce(0) { $0 + $1.costMicros }
                    == PriceTable.awsGravitonDefaults.cost(of: "c7g.large", from: start, to: piece[0].intervalEnd)
            )
            #expect(piece.filter { $0.kind == .overhead }.count == 1 && piece.filter { $0.kind == .idle }.count == 1)
        }
        // The tenants' CPU in the ledger is exactly what they were credited.
        let usage = collector.meter.usageByTenant()
        for tenant in tenants {
            let ledger = rows.filter { $0.tenant == tenant }
            #expect(ledger.reduce(0) { $0 + $1.appCPUNanoseconds } == usage[tenant]?.appCPUNanoseconds ?? 0)
            #expect(ledger.reduce(0) { $0 + $1.requests } == usage[tenant]?.requests ?? 0)
        }
        let totals = collector.meter.snapshot
        #expect(totals.tenantCostMicros + totals.overheadCostMicros + totals.idleCostMicros == 72_500)
    }

    @Test func overheadIsProcessCPUNobodyWasCreditedAndNeverATenants() throws {
        let (collector, clocks) = collector()
        let tenant = UUID()
        credit(collector.meter, tenant, app: 3 * Self.second, requests: 10)
        clocks.advance(wall: 10 * Self.second, processCPU: 5 * Self.second)
        let rows = collector.collect()
        let tenantRow = try #require(rows.first { $0.kind == .tenant })
        let overhead = try #require(rows.first { $0.kind == .overhead })
        let idle = try #require(rows.first { $0.kind == .idle })
        #expect(tenantRow.tenant == tenant && tenantRow.appCPUNanoseconds == 3 * Self.second)
        #expect(overhead.cpuNanoseconds == 2 * Self.second && overhead.tenant == nil)
        #expect(idle.cpuNanoseconds == 20 * Self.second - 5 * Self.second)
        // 10 s of a $0.0725/h instance is 201 µ$; 3/20, 2/20 and 15/20 of it by largest remainder.
        #expect(rows.map(\.costMicros) == [30, 20, 151])
    }

    /// The database cluster's background processes are overhead rows of their own, by item, next
    /// to the generic background; requests are never shared their CPU; the interval still closes.
    @Test func theDatabasesBackgroundProcessesAreOverheadItemsOfTheirOwn() throws {
        let clocks = ManualMeterClocks(wall: Self.hourStart, database: 0)
        let meter = CostMeter(configuration: CostMeterConfiguration(instance: "i-1"))
        let collector = LedgerCollector(meter: meter, clocks: clocks, sharesUnmeasuredCPU: true)
        let tenant = UUID()
        credit(meter, tenant, app: 2 * Self.second, db: 1 * Self.second, requests: 10)
        // The cluster used 5 s: 1 s on the tenant's statements, 3 s in its background processes,
        // 1 s in its backends outside them (shared among the requests that ended).
        clocks.advance(
            wall: 10 * Self.second,
            processCPU: 2 * Self.second,
            databaseCPU: 5 * Self.second,
            databaseBackground: [.checkpoints: 2 * Self.second, .autovacuum: Self.second]
        )
        let rows = collector.collect()
        let tenantRow = try #require(rows.first { $0.kind == .tenant })
        #expect(tenantRow.databaseCPUNanoseconds == 2 * Self.second, "its statements and the 1 s it caused, not the background processes'")
        let overhead = Dictionary(uniqueKeysWithValues: rows.filter { $0.kind == .overhead }.map { ($0.item, $0.databaseCPUNanoseconds) })
        #expect(overhead == [.autovacuum: Self.second, .checkpoints: 2 * Self.second, .background: 0])
        #expect(rows.reduce(0) { $0 + $1.costMicros } == 201)
        #expect(rows.filter { $0.kind != .idle }.reduce(0) { $0 + $1.cpuNanoseconds } == 7 * Self.second)
    }

    @Test func aQuietIntervalIsAllIdleWithoutDividingByZero() {
        let (collector, clocks) = collector()
        clocks.advance(wall: 10 * Self.second)
        let rows = collector.collect()
        #expect(rows.map(\.kind) == [.overhead, .idle])
        #expect(rows.map(\.costMicros) == [0, 201])
        // And an interval of no length yields nothing, nor does a clock stepped back.
        #expect(collector.collect().isEmpty)
        clocks.advance(wall: -5 * Self.second)
        #expect(collector.collect().isEmpty)
    }

    @Test func anIntervalIsSplitAtMinuteBoundariesSharingItsFiguresExactly() throws {
        let (collector, clocks) = collector(start: Self.hourStart + 50 * Self.second)
        let tenant = UUID()
        credit(collector.meter, tenant, app: 7 * Self.second + 1, db: 3, requests: 9)
        clocks.advance(wall: 80 * Self.second, processCPU: 7 * Self.second + 1)  // 15:00:50 → 15:02:10
        let rows = collector.collect().filter { $0.kind == .tenant }
        #expect(rows.map { ($0.intervalEnd - $0.intervalStart) / Self.second } == [10, 60, 10])
        #expect(rows.reduce(0) { $0 + $1.appCPUNanoseconds } == 7 * Self.second + 1)
        #expect(rows.reduce(0) { $0 + $1.databaseCPUNanoseconds } == 3)
        #expect(rows.reduce(0) { $0 + $1.requests } == 9)
        for row in rows { #expect(row.intervalStart / (60 * Self.second) == (row.intervalEnd - 1) / (60 * Self.second)) }
    }

    @Test func aPriceChangeMidHourPricesEachSideAtItsOwnVersion() {
        var prices = PriceTable.awsGravitonDefaults
        let change = Self.hourStart + 1_800 * Self.second
        prices.add(InstancePrice(version: "v2", instanceType: "c7g.large", vcpus: 2, microsPerHour: 60_000, effectiveFrom: change))
        let (collector, clocks) = collector(prices: prices)
        var rows: [LedgerRow] = []
        var now = Self.hourStart
        while now < Self.hourStart + 3_600 * Self.second {
            let next = collector.nextBoundary(after: now)
            clocks.advance(wall: next - now)
            now = next
            rows += collector.collect()
        }
        #expect(rows.filter { $0.intervalStart < change }.allSatisfy { $0.priceVersion == "aws-us-east-1-od-2026-07" })
        #expect(rows.filter { $0.intervalStart >= change }.allSatisfy { $0.priceVersion == "v2" })
        #expect(rows.filter { $0.intervalStart < change }.reduce(0) { $0 + $1.costMicros } == 36_250)
        #expect(rows.reduce(0) { $0 + $1.costMicros } == 36_250 + 30_000)
    }

    @Test func boundariesFallOnTheFlushIntervalAndMinutes() {
        let (collector, _) = collector()
        #expect(collector.nextBoundary(after: Self.hourStart) == Self.hourStart + 10 * Self.second)
        #expect(collector.nextBoundary(after: Self.hourStart + 55 * Self.second + 3) == Self.hourStart + 60 * Self.second)
    }
}
