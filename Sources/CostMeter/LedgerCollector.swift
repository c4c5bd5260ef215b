import Foundation
import Synchronization

/// Closes the meter's running totals into priced ledger rows, one interval at a time.
///
/// Each call to ``collect()`` takes the difference of every total since the previous call (exact,
/// the totals only grow), splits the interval at minute boundaries, and prices each piece: the
/// piece's instance cost (``PriceTable/cost(of:from:to:)``) is shared by largest remainder among
/// the tenants' CPU, the platform overhead and the idle vCPU time, so every piece's rows add up to
/// its instance cost to the micro-dollar.
public final class LedgerCollector: Sendable {
    private struct State {
        var lastWall: Int64
        var lastProcessCPU: Int64
        var lastUsage: [UUID: Usage] = [:]
        /// Tenant CPU credited ahead of the process clock reading (a long job settled late),
        /// taken from the next interval's overhead.
        var overheadDeficit: Int64 = 0
    }

    public let meter: CostMeter
    let clocks: any MeterClocks
    private let state: Mutex<State>

    public init(meter: CostMeter, clocks: any MeterClocks = SystemMeterClocks()) {
        self.meter = meter
        self.clocks = clocks
        self.state = Mutex(State(lastWall: clocks.wallNanoseconds(), lastProcessCPU: clocks.processCPUNanoseconds()))
    }

    static let nanosecondsPerMinute: Int64 = 60_000_000_000

    /// When the next interval should end after `instant`: the next multiple of the flush interval,
    /// minute or price change, whichever is first.
    public func nextBoundary(after instant: Int64) -> Int64 {
        let configuration = meter.configuration
        let step = max(1_000_000, configuration.flushInterval.components.seconds * 1_000_000_000)
        var next = (instant / step + 1) * step
        next = min(next, (instant / Self.nanosecondsPerMinute + 1) * Self.nanosecondsPerMinute)
        if let change = configuration.prices.nextChange(of: configuration.instanceType, after: instant) {
            next = min(next, change)
        }
        return next
    }

    /// Closes the interval since the previous collection and returns its priced rows. Returns no
    /// rows (and keeps the interval open) if the wall clock has not moved forward.
    public func collect() -> [LedgerRow] {
        let wall = clocks.wallNanoseconds()
        let processCPU = clocks.processCPUNanoseconds()
        let usage = meter.usageByTenant()
        let databaseMetered = meter.databaseMetering.enabled
        let rows = state.withLock { state -> [LedgerRow] in
            guard wall > state.lastWall else { return [] }
            var deltas: [(UUID, Usage)] = []
            var credited: Int64 = 0
            for (tenant, total) in usage {
                let delta = total - (state.lastUsage[tenant] ?? Usage())
                guard delta != Usage() else { continue }
                deltas.append((tenant, delta))
                credited += delta.appCPUNanoseconds
            }
            deltas.sort { $0.0.uuidString < $1.0.uuidString }
            var overhead = processCPU - state.lastProcessCPU - credited - state.overheadDeficit
            state.overheadDeficit = max(0, -overhead)
            overhead = max(0, overhead)
            let interval = Interval(start: state.lastWall, end: wall, tenants: deltas, overheadNanoseconds: overhead)
            state.lastWall = wall
            state.lastProcessCPU = processCPU
            state.lastUsage = usage
            return price(interval, databaseMetered: databaseMetered)
        }
        meter.totals.withLock { totals in
            for row in rows { totals.add(row) }
            totals.databaseMetered = databaseMetered
        }
        return rows
    }

    struct Interval {
        var start: Int64
        var end: Int64
        var tenants: [(UUID, Usage)]
        var overheadNanoseconds: Int64
    }

    /// Splits `interval` at minute boundaries (sharing each figure by duration, largest remainder)
    /// and prices each piece.
    func price(_ interval: Interval, databaseMetered: Bool) -> [LedgerRow] {
        var cuts = [interval.start]
        var next = (interval.start / Self.nanosecondsPerMinute + 1) * Self.nanosecondsPerMinute
        while next < interval.end {
            cuts.append(next)
            next += Self.nanosecondsPerMinute
        }
        cuts.append(interval.end)
        let durations = zip(cuts, cuts.dropFirst()).map { $1 - $0 }
        func share(_ value: Int64) -> [Int64] { LargestRemainder.allocate(value, weights: durations) }
        let tenantShares = interval.tenants.map { tenant, usage in
            (
                tenant,
                share(usage.appCPUNanoseconds),
                share(max(0, usage.databaseCPUNanoseconds)),
                share(max(0, usage.requests))
            )
        }
        let overheadShares = share(interval.overheadNanoseconds)
        var rows: [LedgerRow] = []
        for piece in durations.indices {
            let pieceTenants = tenantShares.map { tenant, app, database, requests in
                (tenant, Usage(appCPUNanoseconds: app[piece], databaseCPUNanoseconds: database[piece], requests: requests[piece]))
            }
            rows += pricePiece(
                start: cuts[piece],
                end: cuts[piece + 1],
                tenants: pieceTenants,
                overhead: overheadShares[piece],
                databaseMetered: databaseMetered
            )
        }
        return rows
    }

    private func pricePiece(start: Int64, end: Int64, tenants: [(UUID, Usage)], overhead: Int64, databaseMetered: Bool) -> [LedgerRow] {
        let configuration = meter.configuration
        guard let price = configuration.price(at: start),
            let cost = configuration.prices.cost(of: configuration.instanceType, from: start, to: end)
        else { return [] }
        let capacity = Int64(price.vcpus) * (end - start)
        let used = tenants.reduce(overhead) { $0 + $1.1.cpuNanoseconds }
        let idle = max(0, capacity - used)
        let weights = tenants.map(\.1.cpuNanoseconds) + [overhead, idle]
        let shares = LargestRemainder.allocate(cost, weights: weights)
        func row(_ kind: LedgerKind, tenant: UUID?, usage: Usage, cpu: Int64, cost: Int64) -> LedgerRow {
            LedgerRow(
                instance: configuration.instance,
                boot: configuration.boot,
                intervalStart: start,
                intervalEnd: end,
                kind: kind,
                tenant: tenant,
                appCPUNanoseconds: usage.appCPUNanoseconds,
                databaseCPUNanoseconds: usage.databaseCPUNanoseconds,
                cpuNanoseconds: cpu,
                requests: usage.requests,
                costMicros: cost,
                priceVersion: price.version,
                instanceType: price.instanceType,
                vcpus: price.vcpus,
                databaseMetered: databaseMetered,
                overCapacity: kind == .idle && used > capacity
            )
        }
        var rows: [LedgerRow] = []
        for (index, (tenant, usage)) in tenants.enumerated() where usage != Usage() {
            rows.append(row(.tenant, tenant: tenant, usage: usage, cpu: usage.cpuNanoseconds, cost: shares[index]))
        }
        rows.append(
            row(.overhead, tenant: nil, usage: Usage(appCPUNanoseconds: overhead), cpu: overhead, cost: shares[tenants.count])
        )
        rows.append(row(.idle, tenant: nil, usage: Usage(), cpu: idle, cost: shares[tenants.count + 1]))
        return rows
    }
}
