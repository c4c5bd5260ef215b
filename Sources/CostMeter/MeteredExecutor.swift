import Foundation
import Synchronization

/// A light per-request `TaskExecutor` (SE-0417) over the shared ``MeteringPool``: every job it
/// runs is credited to its request, and so to whoever pays for the request.
///
/// A request starts on its executor before anyone knows whose it is (the `Authorization` header
/// is not read yet); ``bill(_:)`` names the payer once it is known, and ``finish(defaultPayer:)``
/// moves the request's CPU to the payer's account when it ends — to `defaultPayer` when nobody
/// was named. CPU credited after that (an unstructured task started with
/// ``CostMeter/task(priority:operation:)``) goes straight to the payer.
///
/// Child tasks (`async let`, task groups) and default actors inherit the preference; unstructured
/// tasks do not — start those with ``CostMeter/task(priority:operation:)`` to keep them on the
/// payer's bill, else their CPU is platform overhead.
package final class MeteredExecutor: TaskExecutor, Sendable {
    let pool: MeteringPool
    /// False for the pool's ``MeteringPool/platformExecutor``: its jobs are nobody's.
    let billed: Bool
    private let payer: Mutex<CostAccount?>
    /// This request's CPU, for its log line and span.
    private let appCPU = Atomic<Int64>(0)
    private let databaseCPU = Atomic<Int64>(0)
    /// Credited to the request but not yet moved to the payer's account.
    private let pendingApp = Atomic<Int64>(0)
    private let pendingDatabase = Atomic<Int64>(0)
    private let finished = Atomic<Bool>(false)

    /// - Parameter standing: an executor for work that is not a request: credits go to
    ///   `account` at once, as after ``finish(defaultPayer:)``, with no request counted.
    init(account: CostAccount?, pool: MeteringPool, billed: Bool = true, standing: Bool = false) {
        self.payer = Mutex(account)
        self.pool = pool
        self.billed = billed
        finished.store(standing, ordering: .relaxed)
    }

    /// Whose the request is, once known.
    package var account: CostAccount? { payer.withLock { $0 } }

    /// The tenant the request is billed to, if it is a tenant's.
    package var tenant: UUID? { account?.tenant }

    package func enqueue(_ job: consuming ExecutorJob) {
        pool.submit(UnownedJob(job), to: self)
    }

    /// Names the request's payer. The first call wins: a request is one payer's.
    package func bill(_ account: CostAccount) {
        payer.withLock { payer in
            if payer == nil { payer = account }
        }
    }

    /// Ends the request: counts it, and moves its CPU so far to its payer (`defaultPayer` when
    /// ``bill(_:)`` named none). Later credits go to the payer at once.
    func finish(defaultPayer: CostAccount) {
        let account = payer.withLock { payer in
            if payer == nil { payer = defaultPayer }
            return payer!
        }
        account.requests.add(1, ordering: .relaxed)
        finished.store(true, ordering: .sequentiallyConsistent)
        settle(into: account)
    }

    /// Called by the pool worker that ran this executor's jobs.
    func credit(_ nanoseconds: Int64) {
        guard billed, nanoseconds > 0 else { return }
        appCPU.add(nanoseconds, ordering: .relaxed)
        pendingApp.add(nanoseconds, ordering: .sequentiallyConsistent)
        if finished.load(ordering: .sequentiallyConsistent), let account { settle(into: account) }
    }

    /// Credits database backend CPU to this request.
    func creditDatabase(_ nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        databaseCPU.add(nanoseconds, ordering: .relaxed)
        pendingDatabase.add(nanoseconds, ordering: .sequentiallyConsistent)
        if finished.load(ordering: .sequentiallyConsistent), let account { settle(into: account) }
    }

    /// Moves what is pending to `account`: each nanosecond exactly once, whoever gets there first.
    private func settle(into account: CostAccount) {
        let app = pendingApp.exchange(0, ordering: .sequentiallyConsistent)
        let database = pendingDatabase.exchange(0, ordering: .sequentiallyConsistent)
        account.add(Usage(appCPUNanoseconds: app, databaseCPUNanoseconds: database))
    }

    /// This request's CPU so far.
    package var usage: Usage {
        Usage(
            appCPUNanoseconds: appCPU.load(ordering: .relaxed),
            databaseCPUNanoseconds: databaseCPU.load(ordering: .relaxed),
            requests: 1
        )
    }

    /// The metered executor the current task runs under, if any.
    @TaskLocal package static var current: MeteredExecutor?
}
