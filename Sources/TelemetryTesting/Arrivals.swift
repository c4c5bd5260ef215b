import DequeModule
import Synchronization

/// What the code under test did, in order (a push that reached a server, a sleep that started),
/// for a test to await one at a time. Every wait is bounded: a test fails, naming the arrival
/// that did not come, instead of hanging.
public final class Arrivals<Element: Sendable>: Sendable {
    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Element, any Error>
    }

    private struct State {
        var buffered: Deque<Element> = []
        var waiter: Waiter?
        var nextID = 0
        var taken = 0
    }

    private let name: String
    private let state = Mutex(State())

    /// - Parameter name: what one arrival is, for failure messages ("push to Loki").
    public init(_ name: String) {
        self.name = name
    }

    /// Records an arrival (called by the code under test or its test double).
    public func record(_ element: Element) {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter else {
                state.buffered.append(element)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.continuation.resume(returning: element)
    }

    /// The next arrival, waiting at most `limit` for it.
    /// - Throws: `TimeLimitExceeded` naming the arrival (its ordinal and name) that did not come.
    public func next(within limit: Duration = defaultTestWait) async throws -> Element {
        let ordinal = state.withLock { $0.taken + 1 }
        let element = try await withTimeLimit(limit, "\(name) #\(ordinal)") { try await self.take() }
        state.withLock { $0.taken += 1 }
        return element
    }

    private func take() async throws -> Element {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element, any Error>) in
                let ready = state.withLock { state -> Result<Element, any Error>? in
                    if let element = state.buffered.popFirst() { return .success(element) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    precondition(state.waiter == nil, "Arrivals(\(name)): one waiter at a time")
                    state.waiter = Waiter(id: id, continuation: continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}
