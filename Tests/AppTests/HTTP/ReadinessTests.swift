import Synchronization
import TelemetryTesting
import Testing

@testable import App

/// `/readyz` cannot draw on the database pool faster than once a second, however often it is hit.
@Suite struct ReadinessTests {
    @Test func theDatabaseIsAskedAtMostOncePerLifetime() async {
        let clock = TestClock()
        let answers = Mutex([true, false])
        let readiness = Readiness(lifetime: .seconds(1), clock: clock) {
            answers.withLock { $0.removeFirst() }
        }
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { await readiness.isReady() } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 20))
        #expect(readiness.checks == 1)
        clock.advance(by: .milliseconds(999))
        #expect(await readiness.isReady())
        #expect(readiness.checks == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await readiness.isReady() == false, "asked again after a second: the database is gone")
        #expect(readiness.checks == 2)
    }
}
