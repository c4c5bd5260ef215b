import Foundation
import Synchronization

/// Who a request's CPU is billed to.
package enum Payer: Hashable, Sendable, CustomStringConvertible {
    /// The tenant its API key names (even when the key's secret was wrong, or the request was
    /// refused: the tenant caused it).
    case tenant(UUID)
    /// Requests that named no tenant: no key, a malformed one, or a key id nobody holds.
    case unauthenticated
    /// The platform's own requests: health probes, Prometheus scrapes and the admin API.
    case admin
    /// The telemetry exporters' own work: encoding and pushing batches of logs and spans.
    case telemetry
    /// The service's own flushes: the usage counters' and the cost ledger's (with its sharing).
    case flushes

    package var description: String {
        switch self {
        case .tenant(let id): "tenant \(id)"
        case .unauthenticated: "unauthenticated"
        case .admin: "admin"
        case .telemetry: "telemetry"
        case .flushes: "flushes"
        }
    }
}

/// One payer's running totals since the process started. Only ever increased, so the ledger
/// takes exact differences between two readings.
///
/// Two sources add up to its ``usage``: what was *measured* on its requests (the CPU of their
/// jobs, the backend CPU of their transactions) and its *share* of the CPU no job could be
/// credited with while its requests were being served (see ``CostAttribution``).
package final class CostAccount: Sendable {
    package let payer: Payer
    let appCPU = Atomic<Int64>(0)
    let databaseCPU = Atomic<Int64>(0)
    let requests = Atomic<Int64>(0)
    let sharedAppCPU = Atomic<Int64>(0)
    let sharedDatabaseCPU = Atomic<Int64>(0)

    init(payer: Payer) {
        self.payer = payer
    }

    /// The tenant, for a tenant's account.
    package var tenant: UUID? {
        if case .tenant(let id) = payer { return id }
        return nil
    }

    /// The totals now: measured plus shared.
    package var usage: Usage {
        let measured = self.measured
        return Usage(
            appCPUNanoseconds: measured.appCPUNanoseconds + sharedAppCPU.load(ordering: .relaxed),
            databaseCPUNanoseconds: measured.databaseCPUNanoseconds + sharedDatabaseCPU.load(ordering: .relaxed),
            requests: measured.requests
        )
    }

    /// What was measured on this payer's requests, without shares.
    var measured: Usage {
        Usage(
            appCPUNanoseconds: appCPU.load(ordering: .relaxed),
            databaseCPUNanoseconds: databaseCPU.load(ordering: .relaxed),
            requests: requests.load(ordering: .relaxed)
        )
    }

    func add(_ usage: Usage) {
        if usage.appCPUNanoseconds != 0 { appCPU.add(usage.appCPUNanoseconds, ordering: .relaxed) }
        if usage.databaseCPUNanoseconds != 0 { databaseCPU.add(usage.databaseCPUNanoseconds, ordering: .relaxed) }
        if usage.requests != 0 { requests.add(usage.requests, ordering: .relaxed) }
    }
}

/// CPU and requests of one tenant (or one request) over some time.
package struct Usage: Sendable, Equatable, Codable {
    package var appCPUNanoseconds: Int64 = 0
    package var databaseCPUNanoseconds: Int64 = 0
    package var requests: Int64 = 0

    package init(appCPUNanoseconds: Int64 = 0, databaseCPUNanoseconds: Int64 = 0, requests: Int64 = 0) {
        self.appCPUNanoseconds = appCPUNanoseconds
        self.databaseCPUNanoseconds = databaseCPUNanoseconds
        self.requests = requests
    }

    package var cpuNanoseconds: Int64 { appCPUNanoseconds + databaseCPUNanoseconds }

    package static func - (lhs: Usage, rhs: Usage) -> Usage {
        Usage(
            appCPUNanoseconds: lhs.appCPUNanoseconds - rhs.appCPUNanoseconds,
            databaseCPUNanoseconds: lhs.databaseCPUNanoseconds - rhs.databaseCPUNanoseconds,
            requests: lhs.requests - rhs.requests
        )
    }

    package static func + (lhs: Usage, rhs: Usage) -> Usage {
        Usage(
            appCPUNanoseconds: lhs.appCPUNanoseconds + rhs.appCPUNanoseconds,
            databaseCPUNanoseconds: lhs.databaseCPUNanoseconds + rhs.databaseCPUNanoseconds,
            requests: lhs.requests + rhs.requests
        )
    }
}
