import Foundation
import Synchronization

/// Shares the CPU that no job could be credited with among the requests that caused it.
///
/// The meter measures a request's own jobs (from the moment its first middleware runs) and the
/// backend CPU of its statements. What it cannot see request by request is the rest of what
/// serving it costs: SwiftNIO reading, parsing and writing the connection between jobs, and what
/// other threads and the database's backends do for requests between their statements. All of
/// that is caused by requests, and most of it in proportion to their number.
///
/// So every tick (a second in `serve`) this takes what the process and the database cluster
/// used since the last tick, less what was measured on requests, less the *background rate*, and
/// shares the rest among the payers whose requests ended in the tick, by request count. The
/// database cluster's background processes are left out (they are overhead items of their own).
/// The background rate (timers, the stdout log writer, the database's idle work) is
/// learned from ticks in which no request ended, after one that had none either (so the tail of
/// a burst — its usage flush, its log batch — is not taken for background); until the first
/// such pair it is zero, so nothing a request causes is ever left unbilled for want of a figure.
package final class CostAttribution: Sendable {
    /// What one tick measured and shared, for tests and the bench.
    package struct Tick: Sendable, Equatable {
        /// Nanoseconds of app and database CPU shared among payers.
        package var sharedApp: Int64 = 0
        package var sharedDatabase: Int64 = 0
        /// Requests that ended in the tick.
        package var requests: Int64 = 0
    }

    struct State {
        var wall: Int64
        var process: Int64
        var database: Int64?
        var measured: [Payer: Usage] = [:]
        /// CPU nanoseconds per wall nanosecond while no request is served; nil until learned.
        var backgroundApp: Double?
        var backgroundDatabase: Double?
        var previousTickIdle = false
        /// Measured CPU settled in this tick that the clocks counted in an earlier one (a long
        /// job credited at its end): taken from the next residuals.
        var appDeficit: Int64 = 0
        var databaseDeficit: Int64 = 0
    }

    /// How much each idle tick moves the background rate (an exponential moving average).
    static let smoothing = 0.2

    package let meter: CostMeter
    let clocks: any MeterClocks
    private let state: Mutex<State>

    package init(meter: CostMeter, clocks: any MeterClocks) {
        self.meter = meter
        self.clocks = clocks
        self.state = Mutex(
            State(wall: clocks.wallNanoseconds(), process: clocks.processCPUNanoseconds(), database: clocks.databaseCPU()?.requestSide)
        )
    }

    /// The learned background rates, in CPU nanoseconds per second (nil until learned).
    package var backgroundPerSecond: (app: Double?, database: Double?) {
        state.withLock { state in (state.backgroundApp.map { $0 * 1e9 }, state.backgroundDatabase.map { $0 * 1e9 }) }
    }

    /// Shares what was not measured since the last tick (see the type's documentation).
    @discardableResult
    package func tick() -> Tick {
        let accounts = meter.allAccounts()
        let wall = clocks.wallNanoseconds()
        let process = clocks.processCPUNanoseconds()
        // The cluster's background processes (autovacuum, checkpoints, the WAL writer) are
        // overhead items of their own, never shared among requests.
        let database = clocks.databaseCPU()?.requestSide
        return state.withLock { state -> Tick in
            let elapsed = wall - state.wall
            guard elapsed > 0 else { return Tick() }
            var payers: [(CostAccount, Usage)] = []
            var measured = Usage()
            for account in accounts {
                let now = account.measured
                let delta = now - (state.measured[account.payer] ?? Usage())
                state.measured[account.payer] = now
                measured = measured + delta
                if delta.requests > 0 { payers.append((account, delta)) }
            }
            var tick = Tick(requests: measured.requests)
            let app = Self.residual(
                used: process - state.process,
                measured: measured.appCPUNanoseconds,
                deficit: &state.appDeficit
            )
            var databaseResidual: Int64?
            if let database, let last = state.database {
                databaseResidual = Self.residual(
                    used: database - last,
                    measured: measured.databaseCPUNanoseconds,
                    deficit: &state.databaseDeficit
                )
            }
            state.wall = wall
            state.process = process
            state.database = database
            guard !payers.isEmpty else {
                if state.previousTickIdle {
                    Self.learn(&state.backgroundApp, Double(app) / Double(elapsed))
                    if let databaseResidual { Self.learn(&state.backgroundDatabase, Double(databaseResidual) / Double(elapsed)) }
                }
                state.previousTickIdle = true
                return tick
            }
            state.previousTickIdle = false
            // Payers in a fixed order, so the largest remainder's ties fall the same way each run.
            payers.sort { $0.0.payer.description < $1.0.payer.description }
            let weights = payers.map(\.1.requests)
            tick.sharedApp = max(0, app - Int64(((state.backgroundApp ?? 0) * Double(elapsed)).rounded()))
            for (share, payer) in zip(LargestRemainder.allocate(tick.sharedApp, weights: weights), payers) where share > 0 {
                payer.0.sharedAppCPU.add(share, ordering: .relaxed)
            }
            if let databaseResidual {
                tick.sharedDatabase = max(0, databaseResidual - Int64(((state.backgroundDatabase ?? 0) * Double(elapsed)).rounded()))
                for (share, payer) in zip(LargestRemainder.allocate(tick.sharedDatabase, weights: weights), payers) where share > 0 {
                    payer.0.sharedDatabaseCPU.add(share, ordering: .relaxed)
                }
            }
            return tick
        }
    }

    /// `used` less `measured` and the deficit carried in, never below zero (a shortfall is
    /// carried to the next tick instead).
    private static func residual(used: Int64, measured: Int64, deficit: inout Int64) -> Int64 {
        let residual = used - measured - deficit
        deficit = max(0, -residual)
        return max(0, residual)
    }

    private static func learn(_ rate: inout Double?, _ sample: Double) {
        rate = rate.map { $0 + smoothing * (sample - $0) } ?? sample
    }
}
