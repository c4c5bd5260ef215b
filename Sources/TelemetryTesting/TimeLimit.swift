/// How long a test waits for something the code under test should do before it fails: long
/// enough for a loaded CI machine, short enough that a regression fails instead of hanging.
public let defaultTestWait: Duration = .seconds(30)

/// A test waited for something that did not happen in time.
public struct TimeLimitExceeded: Error, CustomStringConvertible {
    /// What did not happen, in words.
    public let what: String
    /// How long the test waited.
    public let limit: Duration

    public init(_ what: String, limit: Duration) {
        self.what = what
        self.limit = limit
    }

    public var description: String { "\(what): did not happen within \(limit)" }
}

/// Runs `body`, and if it has not finished within `limit`, cancels it and throws
/// `TimeLimitExceeded` naming `what`. `body` must end when cancelled (every wait in this module does).
public func withTimeLimit<Value: Sendable>(
    _ limit: Duration = defaultTestWait,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TimeLimitExceeded(what, limit: limit)
        }
        return value
    }
}

/// Waits until `condition` holds, letting other tasks run in between; throws
/// `TimeLimitExceeded` naming `what` after `limit`, and `CancellationError` when cancelled.
public func waitUntil(
    _ what: String,
    within limit: Duration = defaultTestWait,
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    var rounds = 0
    while !condition() {
        try Task.checkCancellation()
        guard ContinuousClock.now < deadline else { throw TimeLimitExceeded(what, limit: limit) }
        rounds += 1
        // Yield first (the awaited work is usually one hop away); past that, poll gently so a
        // slow wait does not take a core from the code it waits for.
        if rounds < 1_000 { await Task.yield() } else { try await Task.sleep(for: .milliseconds(1)) }
    }
}
