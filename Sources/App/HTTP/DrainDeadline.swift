import ServiceLifecycle

/// A listener whose graceful shutdown may take at most `limit`: once shutdown starts, its
/// in-flight requests get that long to finish, then it is cancelled (their connections close).
/// The time left of `RUNWAY_SHUTDOWN_TIMEOUT` is for the final writes (``StopBudget``).
struct DrainDeadline<Base: Service, C: Clock>: Service where C.Duration == Duration {
    let base: Base
    let limit: Duration
    let clock: C

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await base.run() }
            group.addTask {
                // Returns when shutdown starts (or throws when cancelled first).
                try await gracefulShutdown()
                try await clock.sleep(for: limit)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}

/// How `RUNWAY_SHUTDOWN_TIMEOUT` is spent: in-flight requests get all of it but a reserve for the
/// final writes after them (usage counts, the cost ledger's last interval, the last log lines):
/// half of it, at most 3 s. The whole stop is bounded by the timeout.
struct StopBudget: Equatable {
    let total: Duration

    var reserve: Duration { min(total / 2, .seconds(3)) }
    var requests: Duration { total - reserve }
}
