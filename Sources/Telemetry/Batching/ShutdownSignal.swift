import Synchronization

/// A one-shot event: "shutdown has started, at this instant". Any number of tasks can wait
/// for it; waiting is cancellable.
final class ShutdownSignal<Instant: Sendable>: Sendable {
    private struct State {
        var instant: Instant?
        var waiters: [Int: CheckedContinuation<Instant?, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    var hasStarted: Bool { state.withLock { $0.instant != nil } }
    var startedInstant: Instant? { state.withLock { $0.instant } }

    func start(at instant: Instant) {
        let waiters = state.withLock { state -> [CheckedContinuation<Instant?, Never>] in
            guard state.instant == nil else { return [] }
            state.instant = instant
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: instant) }
    }

    /// Waits until shutdown starts and returns its instant; nil if the task is cancelled first.
    @discardableResult
    func started() async -> Instant? {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Instant?, Never>) in
                let ready: Instant?? = state.withLock { state in
                    if let instant = state.instant { return .some(instant) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}
