import Foundation

/// What a ledger row prices: a tenant's CPU, the requests that named no tenant, the platform's
/// overhead, or the instance's idle time.
package struct LedgerKind: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package var description: String { rawValue }

    package init?(rawValue: String) {
        guard let kind = Self.order.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = kind
    }

    private init(_ rawValue: String) { self.rawValue = rawValue }

    package static let tenant = LedgerKind("tenant")
    /// Requests that named no tenant (no key, a malformed one, an unknown key id): an attack or a
    /// misconfigured client shows up on the bill here.
    package static let unauthenticated = LedgerKind("unauthenticated")
    /// CPU no tenant's request caused, by ``LedgerItem``.
    package static let overhead = LedgerKind("overhead")
    /// The instance's vCPU time nobody used.
    package static let idle = LedgerKind("idle")

    /// Every kind, in the order reports list them.
    static let order: [LedgerKind] = [.tenant, .unauthenticated, .overhead, .idle]
}

/// What an ``LedgerKind/overhead`` row is made of; empty on every other row.
package struct LedgerItem: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package var description: String { rawValue }

    package init(rawValue: String) { self.rawValue = rawValue }

    package static let none = LedgerItem(rawValue: "")
    /// The platform's own requests: health probes, Prometheus scrapes and the admin API.
    package static let admin = LedgerItem(rawValue: "admin")
    /// Work no request caused, and no finer item names: in the app (`app_cpu_ns`) timers, the
    /// stdout log writer and the runtime's own threads; in the database (`db_cpu_ns`) idle
    /// backends, the postmaster, and background processes that have exited.
    package static let background = LedgerItem(rawValue: "background")
    /// The telemetry exporters' own work: encoding and pushing batches of logs and spans to Loki
    /// and Tempo (a request's own log line and span are the request's).
    package static let telemetry = LedgerItem(rawValue: "telemetry")
    /// The service's own flushes: writing the usage counters and the cost ledger, and the
    /// ledger's sharing of what no job was credited with, in the app and the database.
    package static let flushes = LedgerItem(rawValue: "flushes")
    /// The database's autovacuum launcher and workers.
    package static let autovacuum = LedgerItem(rawValue: "autovacuum")
    /// The database's checkpointer and background writer, writing dirty pages out.
    package static let checkpoints = LedgerItem(rawValue: "checkpoints")
    /// The database's WAL writer.
    package static let walWriter = LedgerItem(rawValue: "wal_writer")
}

/// One bucket of the cost ledger: what one tenant (or the unauthenticated requests, an overhead
/// item, or idle) cost one instance over one interval inside one minute. The key (instance, boot,
/// interval start, kind, tenant, item) is deterministic, so writing a row twice stores it once.
package struct LedgerRow: Sendable, Equatable, Codable {
    package var instance: String
    package var boot: UUID
    /// Nanoseconds since 1970-01-01 UTC; the interval lies within one minute.
    package var intervalStart: Int64
    package var intervalEnd: Int64
    package var kind: LedgerKind
    /// The tenant for ``LedgerKind/tenant`` rows; nil otherwise.
    package var tenant: UUID?
    /// What an overhead row is made of; ``LedgerItem/none`` on the other rows.
    package var item: LedgerItem = .none
    package var appCPUNanoseconds: Int64
    package var databaseCPUNanoseconds: Int64
    /// The CPU this row was priced by: app + database, or the idle time.
    package var cpuNanoseconds: Int64
    package var requests: Int64
    package var costMicros: Int64
    package var priceVersion: String
    package var instanceType: String
    package var vcpus: Int
    /// False when the database's CPU could not be measured (remote, or not visible).
    package var databaseMetered: Bool
    /// On the idle row: the CPU used exceeded the instance's vCPU time (more cores than priced).
    package var overCapacity: Bool

    /// Rough bytes for the pipeline's bounded buffer.
    var estimatedSize: Int { 256 + instance.utf8.count + priceVersion.utf8.count }
}
