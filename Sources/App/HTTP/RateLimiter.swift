import Foundation
import Synchronization

/// Per-tenant token buckets: a tenant may make `burst` requests at once and `rate` per second
/// after that. Each instance limits on its own; the plan's limit is per instance.
///
/// The clock is injected so tests can move time by hand.
final class RateLimiter<C: Clock>: Sendable where C.Duration == Duration {
    private struct Bucket {
        var tokens: Double
        var updated: C.Instant
    }

    private let clock: C
    private let buckets = Mutex<[UUID: Bucket]>([:])

    init(clock: C) {
        self.clock = clock
    }

    /// Takes one token for `tenant`; returns nil when allowed, or how long until a token is free.
    func acquire(tenant: UUID, rate: Int, burst: Int) -> Duration? {
        let now = clock.now
        let rate = Double(max(rate, 1))
        let capacity = Double(max(burst, 1))
        return buckets.withLock { buckets in
            var bucket = buckets[tenant] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = bucket.updated.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            bucket.tokens = min(capacity, bucket.tokens + max(seconds, 0) * rate)
            bucket.updated = now
            defer { buckets[tenant] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return .seconds((1 - bucket.tokens) / rate)
        }
    }
}

extension RateLimiter where C == ContinuousClock {
    convenience init() { self.init(clock: ContinuousClock()) }
}

extension KeyLookupLimit {
    /// `perSecond` look-ups a second, in bursts of as many: one token bucket for the instance.
    init<C: Clock>(perSecond: Int, clock: C) where C.Duration == Duration {
        let bucket = RateLimiter(clock: clock)
        let id = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        self.init(admit: { bucket.acquire(tenant: id, rate: perSecond, burst: perSecond) == nil })
    }
}
