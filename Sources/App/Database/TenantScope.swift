import Foundation

/// Whose rows a tenant transaction sees, and on what authority.
///
/// A request's scope carries its API key (the key id and the SHA-256 of the whole key), and
/// PostgreSQL checks it again in the same round trip as the work (`runway_enter`): a key rotated
/// on another instance stops working at once, even where this instance still caches it. The
/// service's own background work (the usage flush) runs with a trusted tenant id and no key.
struct TenantScope: Sendable, Hashable {
    let tenant: UUID
    /// The presented key's id and hash; nil for the service's own work.
    let keyID: String?
    let secretHash: [UInt8]?

    init(tenant: UUID, keyID: String, secretHash: [UInt8]) {
        self.tenant = tenant
        self.keyID = keyID
        self.secretHash = secretHash
    }

    private init(trusted tenant: UUID) {
        self.tenant = tenant
        self.keyID = nil
        self.secretHash = nil
    }

    /// The service acting for `tenant` on its own behalf (no request, no key to check).
    static func trusted(_ tenant: UUID) -> Self { Self(trusted: tenant) }
}

/// The key a request presented was valid when this instance looked it up, but PostgreSQL no
/// longer knows it for the tenant (rotated or revoked since): the request gets a 401.
struct TenantKeyNoLongerValid: Error, Equatable {}
