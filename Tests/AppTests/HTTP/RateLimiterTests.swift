import Foundation
import TelemetryTesting
import Testing

@testable import App

@Suite struct RateLimiterTests {
    @Test func aBurstIsAllowedThenTheRateAndTheWaitIsReported() {
        let clock = TestClock()
        let limiter = RateLimiter(clock: clock)
        let tenant = UUID()
        for _ in 0..<5 { #expect(limiter.acquire(tenant: tenant, rate: 2, burst: 5) == nil) }
        let wait = limiter.acquire(tenant: tenant, rate: 2, burst: 5)
        #expect(wait == .milliseconds(500))
        clock.advance(by: .milliseconds(499))
        #expect(limiter.acquire(tenant: tenant, rate: 2, burst: 5) != nil)
        clock.advance(by: .milliseconds(2))
        #expect(limiter.acquire(tenant: tenant, rate: 2, burst: 5) == nil)
    }

    @Test func tenantsHaveTheirOwnBuckets() {
        let clock = TestClock()
        let limiter = RateLimiter(clock: clock)
        let (a, b) = (UUID(), UUID())
        #expect(limiter.acquire(tenant: a, rate: 1, burst: 1) == nil)
        #expect(limiter.acquire(tenant: a, rate: 1, burst: 1) != nil)
        #expect(limiter.acquire(tenant: b, rate: 1, burst: 1) == nil)
    }

    @Test func tokensNeverExceedTheBurstAfterIdleTime() {
        let clock = TestClock()
        let limiter = RateLimiter(clock: clock)
        let tenant = UUID()
        #expect(limiter.acquire(tenant: tenant, rate: 100, burst: 3) == nil)
        clock.advance(by: .seconds(3600))
        for _ in 0..<3 { #expect(limiter.acquire(tenant: tenant, rate: 100, burst: 3) == nil) }
        #expect(limiter.acquire(tenant: tenant, rate: 100, burst: 3) != nil)
    }
}
