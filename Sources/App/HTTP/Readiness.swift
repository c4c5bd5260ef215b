import Logging
import Synchronization

/// `/readyz`'s answer, asked of the database at most once per `lifetime`: probes (or anyone
/// hammering an unauthenticated endpoint) cannot draw on the connection pool faster than that.
/// Callers that arrive while a check runs wait for it instead of starting their own.
final class Readiness<C: Clock>: Sendable where C.Duration == Duration {
    private struct State {
        var answer: (ready: Bool, at: C.Instant)?
        var running: Task<Bool, Never>?
        var checks = 0
    }

    let lifetime: Duration
    let clock: C
    private let check: @Sendable () async -> Bool
    private let state: Mutex<State>

    init(lifetime: Duration = .seconds(1), clock: C, check: @escaping @Sendable () async -> Bool) {
        self.lifetime = lifetime
        self.clock = clock
        self.check = check
        self.state = Mutex(State())
    }

    /// How many times the database was asked (for tests).
    var checks: Int { state.withLock { $0.checks } }

    func isReady() async -> Bool {
        let now = clock.now
        let task = state.withLock { state -> Task<Bool, Never>? in
            if let answer = state.answer, answer.at.duration(to: now) < lifetime { return nil }
            if let running = state.running { return running }
            state.checks += 1
            let running = Task { [check] in await check() }
            state.running = running
            return running
        }
        guard let task else { return state.withLock { $0.answer?.ready ?? false } }
        let ready = await task.value
        state.withLock { state in
            if state.running == task {
                state.answer = (ready, clock.now)
                state.running = nil
            }
        }
        return ready
    }
}
