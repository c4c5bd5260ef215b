import Foundation
import Synchronization

/// One tenant's running totals since the process started: app CPU, database CPU and requests.
/// Only ever increased, so the ledger takes exact differences between two readings.
public final class TenantAccount: Sendable {
    public let tenant: UUID
    let appCPU = Atomic<Int64>(0)
    let databaseCPU = Atomic<Int64>(0)
    let requests = Atomic<Int64>(0)

    init(tenant: UUID) {
        self.tenant = tenant
    }

    /// The totals now.
    public var usage: Usage {
        Usage(
            appCPUNanoseconds: appCPU.load(ordering: .relaxed),
            databaseCPUNanoseconds: databaseCPU.load(ordering: .relaxed),
            requests: requests.load(ordering: .relaxed)
        )
    }
}

/// CPU and requests of one tenant (or one request) over some time.
public struct Usage: Sendable, Equatable, Codable {
    public var appCPUNanoseconds: Int64 = 0
    public var databaseCPUNanoseconds: Int64 = 0
    public var requests: Int64 = 0

    public init(appCPUNanoseconds: Int64 = 0, databaseCPUNanoseconds: Int64 = 0, requests: Int64 = 0) {
        self.appCPUNanoseconds = appCPUNanoseconds
        self.databaseCPUNanoseconds = databaseCPUNanoseconds
        self.requests = requests
    }

    public var cpuNanoseconds: Int64 { appCPUNanoseconds + databaseCPUNanoseconds }

    public static func - (lhs: Usage, rhs: Usage) -> Usage {
        Usage(
            appCPUNanoseconds: lhs.appCPUNanoseconds - rhs.appCPUNanoseconds,
            databaseCPUNanoseconds: lhs.databaseCPUNanoseconds - rhs.databaseCPUNanoseconds,
            requests: lhs.requests - rhs.requests
        )
    }

    public static func + (lhs: Usage, rhs: Usage) -> Usage {
        Usage(
            appCPUNanoseconds: lhs.appCPUNanoseconds + rhs.appCPUNanoseconds,
            databaseCPUNanoseconds: lhs.databaseCPUNanoseconds + rhs.databaseCPUNanoseconds,
            requests: lhs.requests + rhs.requests
        )
    }
}
