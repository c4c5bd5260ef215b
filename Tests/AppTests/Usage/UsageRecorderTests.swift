import Foundation
import HTTPTypes
import Testing

@testable import App

/// A usage flush is applied once, however often it is sent: a retry after a COMMIT whose answer
/// was lost (a timeout, a dropped connection) does not count the requests again.
@Suite struct UsageRecorderTests {
    @Test func aFlushSentTwiceIsCountedOnce() async throws {
        let app = try await TestApp()
        let (tenant, _) = try await app.makeTenant()
        let usage = app.services.usage
        let today = UsageRecorder.day(of: Date())
        var counts = UsageCounts()
        counts.count(status: .ok)
        counts.count(status: .notFound)
        let batch = UsageRecorder.Batch(tenant: tenant.id, counts: [UsageRecorder.Key(tenant: tenant.id, day: today): counts])
        #expect(try await usage.apply(batch))
        #expect(try await !usage.apply(batch))
        let stored = try await usage.usage(scope: .trusted(tenant.id), fromDay: today, logger: TestDatabase.logger)
        #expect(stored.map(\.counts.requests) == [2])
        #expect(stored.map(\.counts.clientErrors) == [1])
        // Another batch with the same counts is another flush: it adds.
        #expect(try await usage.apply(UsageRecorder.Batch(tenant: tenant.id, counts: batch.counts)))
        let twice = try await usage.usage(scope: .trusted(tenant.id), fromDay: today, logger: TestDatabase.logger)
        #expect(twice.map(\.counts.requests) == [4])
    }
}
