import ServiceLifecycle
import ServiceLifecycleTestKit
import TelemetryTesting
import Testing

@testable import App

/// In-flight requests get their share of the shutdown timeout, then their listener is cancelled,
/// leaving the rest for the final writes.
@Suite struct DrainDeadlineTests {
    /// A listener whose requests never finish: it stops only when cancelled.
    struct StuckListener: Service {
        let cancelled = Arrivals<Void>("the stuck listener cancelled")

        func run() async throws {
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                cancelled.record(())
            }
        }
    }

    @Test func aListenerStillBusyAtItsDeadlineIsCancelled() async throws {
        let clock = TestClock()
        let listener = StuckListener()
        let budget = StopBudget(total: .seconds(25))
        #expect(budget.requests == .seconds(22) && budget.reserve == .seconds(3))
        #expect(StopBudget(total: .seconds(4)).requests == .seconds(2))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await DrainDeadline(base: listener, limit: budget.requests, clock: clock).run() }
                trigger.triggerGracefulShutdown()
                try await #expect(clock.sleeps.next() == .seconds(22))
                clock.advance(by: .seconds(22))
                try await listener.cancelled.next()
                try await group.waitForAll()
            }
        }
    }

    @Test func aListenerThatDrainsInTimeEndsTheWaitAtOnce() async throws {
        struct DrainingListener: Service {
            func run() async throws { try await gracefulShutdown() }
        }
        let clock = TestClock()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await DrainDeadline(base: DrainingListener(), limit: .seconds(22), clock: clock).run() }
                trigger.triggerGracefulShutdown()
                // Ends without the clock moving.
                try await group.waitForAll()
            }
        }
    }
}
