import Foundation

/// What a ledger row prices: a tenant's CPU, the platform's overhead, or the instance's idle time.
public struct LedgerKind: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public var description: String { rawValue }

    public init?(rawValue: String) {
        guard ["tenant", "overhead", "idle"].contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    private init(_ rawValue: String) { self.rawValue = rawValue }

    public static let tenant = LedgerKind("tenant")
    /// Process CPU not credited to any tenant (event loops, parsing, unstructured tasks, telemetry).
    public static let overhead = LedgerKind("overhead")
    /// The instance's vCPU time nobody used.
    public static let idle = LedgerKind("idle")
}

/// One bucket of the cost ledger: what one tenant (or overhead, or idle) cost one instance over
/// one interval inside one minute. The key (instance, boot, interval start, kind, tenant) is
/// deterministic, so writing a row twice stores it once.
public struct LedgerRow: Sendable, Equatable, Codable {
    public var instance: String
    public var boot: UUID
    /// Nanoseconds since 1970-01-01 UTC; the interval lies within one minute.
    public var intervalStart: Int64
    public var intervalEnd: Int64
    public var kind: LedgerKind
    /// The tenant for ``LedgerKind/tenant`` rows; nil otherwise.
    public var tenant: UUID?
    public var appCPUNanoseconds: Int64
    public var databaseCPUNanoseconds: Int64
    /// The CPU this row was priced by: app + database for a tenant, the overhead, or the idle time.
    public var cpuNanoseconds: Int64
    public var requests: Int64
    public var costMicros: Int64
    public var priceVersion: String
    public var instanceType: String
    public var vcpus: Int
    /// False when the database's CPU could not be measured (remote, or not visible).
    public var databaseMetered: Bool
    /// On the idle row: the CPU used exceeded the instance's vCPU time (more cores than priced).
    public var overCapacity: Bool

    /// Rough bytes for the pipeline's bounded buffer.
    var estimatedSize: Int { 256 + instance.utf8.count + priceVersion.utf8.count }
}
