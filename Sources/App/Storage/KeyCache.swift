import Foundation
import Synchronization

/// API keys this instance has looked up, so that a request's key costs no round trip of its own.
///
/// Safe to cache because it is not the last word: every tenant statement checks the key again in
/// PostgreSQL in the same round trip as its work (`runway_enter`), so a key rotated through any
/// instance gets 401 at once everywhere, and is then evicted here. What the cache decides alone is
/// the rate limit, with the plan it read up to ``lifetime`` ago. Key ids that no live key has are
/// remembered as long, apart, so that a client retrying a revoked key costs no look-up each time
/// (a refusal is safe to cache: key ids are random and never reused). Bounded: past ``capacity``
/// keys (or unknown ids) it starts afresh.
final class KeyCache: Sendable {
    private struct Entry {
        var tenant: AuthenticatedTenant
        var hash: [UInt8]
        var expires: ContinuousClock.Instant
    }

    /// How long a looked-up key's tenant and plan are used before they are read again.
    let lifetime: Duration
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])
    /// Key ids found unknown, until when; apart from `entries`, so a flood of them never evicts a
    /// live key.
    private let unknownIDs = Mutex<[String: ContinuousClock.Instant]>([:])

    init(lifetime: Duration = .seconds(10), capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// What the cache knows of the key with id `keyID` and SHA-256 `hash`: nil when it is not
    /// cached or has expired (then the caller looks it up, and PostgreSQL decides). A cached key id
    /// with another hash is a wrong secret: key ids are never reused, so no look-up can change that.
    func check(keyID: String, hash: [UInt8], now: ContinuousClock.Instant = .now) -> KeyCheck? {
        let known: KeyCheck?? = entries.withLock { entries in
            guard let entry = entries[keyID], entry.expires > now else { return nil }
            return constantTimeEquals(entry.hash, hash) ? .valid(entry.tenant) : .wrongSecret(tenant: entry.tenant.id)
        }
        if let known { return known }
        return unknownIDs.withLock { unknown in
            guard let expires = unknown[keyID], expires > now else { return nil }
            return .unknown
        }
    }

    /// Remembers that no live key has the id `keyID`.
    func storeUnknown(keyID: String, now: ContinuousClock.Instant = .now) {
        unknownIDs.withLock { unknown in
            if unknown.count >= capacity { unknown.removeAll(keepingCapacity: true) }
            unknown[keyID] = now + lifetime
        }
    }

    func store(_ tenant: AuthenticatedTenant, keyID: String, hash: [UInt8], now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[keyID] = Entry(tenant: tenant, hash: hash, expires: now + lifetime)
        }
    }

    /// Forgets one key (PostgreSQL said it is no longer valid).
    func evict(keyID: String) {
        _ = entries.withLock { $0.removeValue(forKey: keyID) }
    }

    /// Forgets every key (a plan's limits changed through this instance).
    func evictAll() {
        entries.withLock { $0.removeAll() }
    }

    /// Forgets every key of `tenant` (its keys or plan changed through this instance).
    func evict(tenant: UUID) {
        entries.withLock { entries in entries = entries.filter { $0.value.tenant.id != tenant } }
    }
}
