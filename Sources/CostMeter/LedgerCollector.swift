import Foundation
import Synchronization

/// Closes the meter's running totals into priced ledger rows, one interval at a time.
///
/// Each call to ``collect()`` first lets the ``CostAttribution`` (when there is one) share what
/// was not measured, then takes the difference of every total since the previous call (exact, the
/// totals only grow), splits the interval at minute boundaries, and prices each piece: the piece's
/// instance cost (``PriceTable/cost(of:from:to:)``) is shared by largest remainder among the
/// tenants' CPU, the unauthenticated requests', the platform overhead (admin requests and
/// background work) and the idle vCPU time, so every piece's rows add up to its instance cost to
/// the micro-dollar.
package final class LedgerCollector: Sendable {
    private struct State {
        var lastWall: Int64
        var lastProcessCPU: Int64
        var lastDatabaseCPU: DatabaseCPUReading?
        var lastUsage: [Payer: Usage] = [:]
        /// Payers' CPU credited ahead of the clocks' reading (a long job settled late), taken
        /// from the next interval's background overhead.
        var overheadDeficit = Usage()
    }

    package let meter: CostMeter
    let clocks: any MeterClocks
    /// Shares the CPU no job was credited with among the requests that caused it; nil leaves it
    /// all in the background overhead.
    package let attribution: CostAttribution?
    private let state: Mutex<State>

    /// - Parameters:
    ///   - clocks: default the real clocks, with the meter's database cluster.
    ///   - sharesUnmeasuredCPU: run a ``CostAttribution`` on the same clocks (`serve` does).
    package init(meter: CostMeter, clocks: (any MeterClocks)? = nil, sharesUnmeasuredCPU: Bool = false) {
        let clocks = clocks ?? SystemMeterClocks(database: meter.databaseCluster)
        self.meter = meter
        self.clocks = clocks
        self.attribution = sharesUnmeasuredCPU ? CostAttribution(meter: meter, clocks: clocks) : nil
        self.state = Mutex(
            State(
                lastWall: clocks.wallNanoseconds(),
                lastProcessCPU: clocks.processCPUNanoseconds(),
                lastDatabaseCPU: clocks.databaseCPU()
            )
        )
    }

    static let nanosecondsPerMinute: Int64 = 60_000_000_000

    /// When the next interval should end after `instant`: the next multiple of the flush interval,
    /// minute or price change, whichever is first.
    package func nextBoundary(after instant: Int64) -> Int64 {
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
    package func collect() -> [LedgerRow] {
        attribution?.tick()
        let wall = clocks.wallNanoseconds()
        let processCPU = clocks.processCPUNanoseconds()
        let databaseCPU = clocks.databaseCPU()
        let usage = Dictionary(uniqueKeysWithValues: meter.allAccounts().map { ($0.payer, $0.usage) })
        let databaseMetered = meter.databaseMetering.enabled
        let rows = state.withLock { state -> [LedgerRow] in
            guard wall > state.lastWall else { return [] }
            var parts: [(LedgerPart, Usage)] = []
            var credited = Usage()
            for (payer, total) in usage {
                let delta = total - (state.lastUsage[payer] ?? Usage())
                guard delta != Usage() else { continue }
                credited = credited + delta
                parts.append((LedgerPart(payer), delta))
            }
            parts.sort { $0.0 < $1.0 }
            var background = Usage(appCPUNanoseconds: processCPU - state.lastProcessCPU)
            if let databaseCPU, let last = state.lastDatabaseCPU {
                background.databaseCPUNanoseconds = databaseCPU.requestSide - last.requestSide
                // The cluster's background processes, each item its own overhead row.
                for (item, total) in databaseCPU.background.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    let used = total - (last.background[item] ?? 0)
                    if used > 0 { parts.append((LedgerPart(kind: .overhead, item: item), Usage(databaseCPUNanoseconds: used))) }
                }
            }
            background = background - credited - state.overheadDeficit
            state.overheadDeficit = Usage(
                appCPUNanoseconds: max(0, -background.appCPUNanoseconds),
                databaseCPUNanoseconds: max(0, -background.databaseCPUNanoseconds)
            )
            background = Usage(
                appCPUNanoseconds: max(0, background.appCPUNanoseconds),
                databaseCPUNanoseconds: max(0, background.databaseCPUNanoseconds)
            )
            parts.append((.background, background))
            let interval = Interval(start: state.lastWall, end: wall, parts: parts)
            state.lastWall = wall
            state.lastProcessCPU = processCPU
            state.lastDatabaseCPU = databaseCPU
            state.lastUsage = usage
            return price(interval, databaseMetered: databaseMetered)
        }
        meter.totals.withLock { totals in
            for row in rows { totals.add(row) }
            totals.databaseMetered = databaseMetered
        }
        return rows
    }

    /// What one row of an interval is for: a tenant, the unauthenticated requests, an item of
    /// overhead, or idle.
    struct LedgerPart: Comparable {
        var kind: LedgerKind
        var tenant: UUID?
        var item: LedgerItem = .none

        init(kind: LedgerKind, tenant: UUID? = nil, item: LedgerItem = .none) {
            self.kind = kind
            self.tenant = tenant
            self.item = item
        }

        init(_ payer: Payer) {
            switch payer {
            case .tenant(let id): self.init(kind: .tenant, tenant: id)
            case .unauthenticated: self.init(kind: .unauthenticated)
            case .admin: self.init(kind: .overhead, item: .admin)
            case .telemetry: self.init(kind: .overhead, item: .telemetry)
            case .flushes: self.init(kind: .overhead, item: .flushes)
            }
        }

        static let background = LedgerPart(kind: .overhead, item: .background)

        /// Tenants (by id), then unauthenticated, then overhead items.
        static func < (lhs: LedgerPart, rhs: LedgerPart) -> Bool {
            func key(_ part: LedgerPart) -> (Int, String) {
                (LedgerKind.order.firstIndex(of: part.kind) ?? 0, part.tenant?.uuidString ?? part.item.rawValue)
            }
            return key(lhs) < key(rhs)
        }
    }

    struct Interval {
        var start: Int64
        var end: Int64
        var parts: [(LedgerPart, Usage)]
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
        func share(_ value: Int64) -> [Int64] { LargestRemainder.allocate(max(0, value), weights: durations) }
        let partShares = interval.parts.map { part, usage in
            (part, share(usage.appCPUNanoseconds), share(usage.databaseCPUNanoseconds), share(usage.requests))
        }
        var rows: [LedgerRow] = []
        for piece in durations.indices {
            let pieceParts = partShares.map { part, app, database, requests in
                (part, Usage(appCPUNanoseconds: app[piece], databaseCPUNanoseconds: database[piece], requests: requests[piece]))
            }
            rows += pricePiece(start: cuts[piece], end: cuts[piece + 1], parts: pieceParts, databaseMetered: databaseMetered)
        }
        return rows
    }

    private func pricePiece(start: Int64, end: Int64, parts: [(LedgerPart, Usage)], databaseMetered: Bool) -> [LedgerRow] {
        let configuration = meter.configuration
        guard let price = configuration.price(at: start),
            let cost = configuration.prices.cost(of: configuration.instanceType, from: start, to: end)
        else { return [] }
        let capacity = Int64(price.vcpus) * (end - start)
        let used = parts.reduce(Int64(0)) { $0 + $1.1.cpuNanoseconds }
        let idle = max(0, capacity - used)
        let parts = parts + [(LedgerPart(kind: .idle), Usage())]
        let shares = LargestRemainder.allocate(cost, weights: parts.dropLast().map(\.1.cpuNanoseconds) + [idle])
        var rows: [LedgerRow] = []
        for ((part, usage), share) in zip(parts, shares) where part.kind == .idle || part == .background || usage != Usage() {
            rows.append(
                LedgerRow(
                    instance: configuration.instance,
                    boot: configuration.boot,
                    intervalStart: start,
                    intervalEnd: end,
                    kind: part.kind,
                    tenant: part.tenant,
                    item: part.item,
                    appCPUNanoseconds: usage.appCPUNanoseconds,
                    databaseCPUNanoseconds: usage.databaseCPUNanoseconds,
                    cpuNanoseconds: part.kind == .idle ? idle : usage.cpuNanoseconds,
                    requests: usage.requests,
                    costMicros: share,
                    priceVersion: price.version,
                    instanceType: price.instanceType,
                    vcpus: price.vcpus,
                    databaseMetered: databaseMetered,
                    overCapacity: part.kind == .idle && used > capacity
                )
            )
        }
        return rows
    }
}
