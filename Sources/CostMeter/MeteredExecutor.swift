import Foundation
import Synchronization

/// A light per-request `TaskExecutor` (SE-0417) over the shared ``MeteringPool``: every job it
/// runs is credited to its request and its tenant.
///
/// Child tasks (`async let`, task groups) and default actors inherit the preference; unstructured
/// tasks do not — start those with ``CostMeter/task(priority:operation:)`` to keep them on the
/// tenant's bill, else their CPU is platform overhead.
public final class MeteredExecutor: TaskExecutor, Sendable {
    public let account: TenantAccount
    let pool: MeteringPool
    /// False for the pool's ``MeteringPool/platformExecutor``: its jobs are nobody's.
    private let billed: Bool
    private let appCPU = Atomic<Int64>(0)
    private let databaseCPU = Atomic<Int64>(0)

    init(account: TenantAccount, pool: MeteringPool, billed: Bool = true) {
        self.account = account
        self.pool = pool
        self.billed = billed
    }

    public var tenant: UUID { account.tenant }

    public func enqueue(_ job: consuming ExecutorJob) {
        pool.submit(UnownedJob(job), to: self)
    }

    /// Called by the pool worker that ran this executor's jobs.
    func credit(_ nanoseconds: Int64) {
        guard billed, nanoseconds > 0 else { return }
        appCPU.add(nanoseconds, ordering: .relaxed)
        account.appCPU.add(nanoseconds, ordering: .relaxed)
    }

    /// Credits database backend CPU to this request and its tenant.
    func creditDatabase(_ nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        databaseCPU.add(nanoseconds, ordering: .relaxed)
        account.databaseCPU.add(nanoseconds, ordering: .relaxed)
    }

    /// This request's CPU so far.
    public var usage: Usage {
        Usage(
            appCPUNanoseconds: appCPU.load(ordering: .relaxed),
            databaseCPUNanoseconds: databaseCPU.load(ordering: .relaxed),
            requests: 1
        )
    }

    /// The metered executor the current task runs under, if any.
    @TaskLocal public static var current: MeteredExecutor?
}
