import Foundation
import TelemetryTesting
import Testing

@testable import App

/// Requests with keys nobody issued reach the database at a bounded rate: unknown key ids are
/// remembered, and look-ups past the limit get 503 at once.
@Suite struct KeyLookupLimitTests {
    @Test func madeUpKeysAreLookedUpAtMostAtTheLimit() async throws {
        let app = try await TestApp()
        let (_, issued) = try await app.makeTenant()
        let clock = TestClock()
        let store = TenantStore(database: app.services.database, lookups: KeyLookupLimit(perSecond: 2, clock: clock))
        let logger = TestDatabase.logger
        let first = APIKey.generate()
        #expect(try await store.check(first, logger: logger) == .unknown)
        #expect(try await store.check(APIKey.generate(), logger: logger) == .unknown)
        // The bucket is empty: a third unknown key id is refused without a look-up…
        await #expect(throws: KeyLookupsExhausted()) {
            try await store.check(APIKey.generate(), logger: logger)
        }
        // …a key id found unknown before is refused from memory…
        #expect(try await store.check(first, logger: logger) == .unknown)
        // …and a real key not yet cached waits for the next token.
        let key = try #require(APIKey(parsing: Substring(issued)))
        await #expect(throws: KeyLookupsExhausted()) {
            try await store.check(key, logger: logger)
        }
        clock.advance(by: .milliseconds(500))
        guard case .valid = try await store.check(key, logger: logger) else {
            Issue.record("the issued key was not accepted once a look-up was free")
            return
        }
        // Cached now: no look-up, whatever the bucket holds.
        guard case .valid = try await store.check(key, logger: logger) else {
            Issue.record("the issued key was not accepted from the cache")
            return
        }
    }
}
