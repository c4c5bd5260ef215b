import Foundation

/// What a ledger row prices: a tenant's CPU, the requests that named no tenant, the platform's
/// overhead, or the instance's idle time.
public struct LedgerKind: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public var description: String { rawValue }

    public init?(rawValue: String) {
        guard let kind = Self.order.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = kind
    }

    private init(_ rawValue: String) { self.rawValue = rawValue }

    public static let tenant = LedgerKind("tenant")
    /// Requests that named no tenant (no key, a malformed one, an unknown key id): an attack or a
    /// misconfigured client shows up on the bill here.
    public static let unauthenticated = LedgerKind("unauthenticated")
    /// CPU no tenant's request caused, by ``LedgerItem``.
    public static let overhead = LedgerKind("overhead")
    /// The instance's vCPU time nobody used.
    public static let idle = LedgerKind("idle")

    /// Every kind, in the order reports list them.
    static let order: [LedgerKind] = [.tenant, .unauthenticated, .overhead, .idle]
}

/// What an ``LedgerKind/overhead`` row is made of; empty on every other row.
public struct LedgerItem: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public var description: String { rawValue }

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let none = LedgerItem(rawValue: "")
    /// The platform's own requests: health probes, Prometheus scrapes and the admin API.
    public static let admin = LedgerItem(rawValue: "admin")
    /// Work no request caused: in the app (`app_cpu_ns`) timers, flushes and the telemetry
    /// exporters' own batches; in the database (`db_cpu_ns`) autovacuum, checkpoints and the
    /// WAL writer.
    public static let background = LedgerItem(rawValue: "background")
}

/// One bucket of the cost ledger: what one tenant (or the unauthenticated requests, an overhead
/// item, or idle) cost one instance over one interval inside one minute. The key (instance, boot,
/// interval start, kind, tenant, item) is deterministic, so writing a row twice stores it once.
public struct LedgerRow: Sendable, Equatable, Codable {
    public var instance: String
    public var boot: UUID
    /// Nanoseconds since 1970-01-01 UTC; the interval lies within one minute.
    public var intervalStart: Int64
    public var intervalEnd: Int64
    public var kind: LedgerKind
    /// The tenant for ``LedgerKind/tenant`` rows; nil otherwise.
    public var tenant: UUID?
    /// What an overhead row is made of; ``LedgerItem/none`` on the other rows.
    public var item: LedgerItem = .none
    public var appCPUNanoseconds: Int64
    public var databaseCPUNanoseconds: Int64
    /// The CPU this row was priced by: app + database, or the idle time.
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
