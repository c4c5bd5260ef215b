import Foundation
import TelemetryTesting
import Testing

@testable import Telemetry

@Suite struct RetryPolicyTests {
    @Test func backoffDoublesUpToItsCapWithFullJitter() {
        let policy = RetryPolicy()
        #expect(policy.backoffCeiling(retry: 1) == .milliseconds(500))
        #expect(policy.backoffCeiling(retry: 2) == .seconds(1))
        #expect(policy.backoffCeiling(retry: 4) == .seconds(4))
        #expect(policy.backoffCeiling(retry: 7) == .seconds(30))
        #expect(policy.backoffCeiling(retry: 1000) == .seconds(30))
        var generator = SplitMix64(state: 42)
        var samples: [Duration] = []
        for _ in 0..<2000 { samples.append(policy.backoff(retry: 3, using: &generator)) }
        #expect(samples.allSatisfy { $0 >= .zero && $0 <= .seconds(2) })
        // Full jitter spreads over the whole range, not just near the ceiling.
        #expect(samples.contains { $0 < .milliseconds(200) })
        #expect(samples.contains { $0 > .milliseconds(1800) })
    }

    @Test func retryAfterIsParsedInEveryFormRFC9110Allows() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryPolicy.parseRetryAfter("120", now: now) == .seconds(120))
        #expect(RetryPolicy.parseRetryAfter(" 0 ", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("Sunday, 06-Nov-94 08:49:57 GMT", now: now) == .seconds(20))
        #expect(RetryPolicy.parseRetryAfter("Sun Nov  6 08:50:07 1994", now: now) == .seconds(30))
        #expect(RetryPolicy.parseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == .zero)
        for garbage in ["", "soon", "-5", "1.5", "Sun, 06 Nov 1994"] {
            #expect(RetryPolicy.parseRetryAfter(garbage, now: now) == nil, "\(garbage)")
        }
    }

    @Test func theServersRetryAfterWinsButIsCapped() {
        var policy = RetryPolicy()
        policy.maximumRetryAfter = .seconds(60)
        var generator = SplitMix64(state: 1)
        #expect(policy.delay(retry: 1, retryAfter: "7", using: &generator) == .seconds(7))
        #expect(policy.delay(retry: 1, retryAfter: "86400", using: &generator) == .seconds(60))
        #expect(policy.delay(retry: 1, retryAfter: "garbage", using: &generator) <= .milliseconds(500))
        #expect(policy.delay(retry: 1, retryAfter: nil, using: &generator) <= .milliseconds(500))
    }
}
