import DequeModule
import Foundation
import NIOCore
import NIOPosix
import Telemetry

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// How pool workers turn their threads' CPU time into credits.
package struct MeteringMode: Hashable, Sendable, CustomStringConvertible {
    let name: String
    package var description: String { name }

    /// Reads the thread CPU clock only when a worker switches to a job of another executor
    /// (request): the time since the previous read goes to the executor that ran until then.
    /// Consecutive jobs of one request cost no clock read. The default.
    package static let cpuClockPerSwitch = MeteringMode(name: "cpu-clock-per-switch")
    /// Times each job with the monotonic clock, and a few times a second rescales each worker's
    /// per-executor wall slices by that thread's real CPU delta.
    package static let monotonicRescaled = MeteringMode(name: "monotonic-rescaled")
    /// Reads the thread CPU clock before and after every job: the simple, costlier baseline.
    package static let cpuClockPerJob = MeteringMode(name: "cpu-clock-per-job")
}

/// The shared worker threads every ``MeteredExecutor`` forwards to.
///
/// Each worker credits the CPU time of the jobs it runs to their executor (and so to its tenant),
/// per the ``MeteringMode``. CPU a worker spends between jobs (taking the next job, waking up)
/// is credited to no one, so it shows up as platform overhead.
package final class MeteringPool: Sendable {
    /// The process's pool: one thread per CPU, ``MeteringMode/cpuClockPerSwitch``.
    package static let shared = MeteringPool()

    package let mode: MeteringMode
    let queue: JobQueue
    private let workers: [Worker]
    private let rescaleNanoseconds: Int64
    /// Whether jobs resumed on an event loop run there (the default) or go to the workers.
    let runsOnEventLoops: Bool

    /// - Parameters:
    ///   - threads: worker threads; default one per active CPU.
    ///   - mode: how CPU is measured; default ``MeteringMode/cpuClockPerSwitch``.
    ///   - rescaleInterval: in ``MeteringMode/monotonicRescaled`` mode, how often a busy worker
    ///     rescales its slices. Default 250 ms.
    ///   - runsOnEventLoops: run jobs resumed on a SwiftNIO event loop there; default true.
    package init(
        threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        mode: MeteringMode = .cpuClockPerSwitch,
        rescaleInterval: Duration = .milliseconds(250),
        runsOnEventLoops: Bool = true
    ) {
        precondition(threads > 0, "a pool needs a thread")
        self.mode = mode
        let rescaleNanoseconds = rescaleInterval.nanoseconds
        self.rescaleNanoseconds = rescaleNanoseconds
        self.runsOnEventLoops = runsOnEventLoops
        let queue = JobQueue()
        self.queue = queue
        let workers = (0..<threads).map { _ in Worker(queue: queue, mode: mode, rescaleNanoseconds: rescaleNanoseconds) }
        self.workers = workers
        for (index, worker) in workers.enumerated() {
            // Named from inside the thread: on Linux a thread otherwise keeps the name of the one that
            // created it (a Dispatch worker's, say), and `Thread.name` set before start is lost.
            let thread = Thread {
                Thread.current.name = "costmeter-\(index)"
                worker.loop()
            }
            thread.start()
        }
    }

    /// An executor on these threads whose jobs are credited to nobody. Run the server under it
    /// (`withTaskExecutorPreference`) so that its tasks (listeners, connections) stay on the pool
    /// and the event loops, and a request started with the meter off runs where it would metered
    /// (``CostMeter/startRequest(defaultPayer:_:)``). On an event loop its jobs' CPU passes to the
    /// next metered job there; on a pool worker it is left for ``CostAttribution`` to share, or as
    /// background overhead.
    package var platformExecutor: MeteredExecutor {
        MeteredExecutor(account: nil, pool: self, billed: false)
    }

    /// Lets the workers finish the queued jobs and end. Jobs submitted later are run on the
    /// global executor instead (and count as overhead).
    package func shutdown() { queue.close() }

    /// Queues a job.
    ///
    /// A job submitted on one of SwiftNIO's event loop threads (a continuation resumed by a read,
    /// or by a database answer) runs on that event loop, after the handler that resumed it: the
    /// request's code then runs where its I/O is, its writes to a channel of that loop happen at
    /// once, and no thread is woken to take it. Its CPU is metered there, with what the loop did
    /// to resume it (see ``Worker/enqueuedByLoop(_:)`` and ``Worker/run(_:)``).
    ///
    /// A job submitted by one of this pool's own workers (an executor hop, a continuation, a child
    /// task) wakes nobody when it is the only one waiting: that worker takes it as soon as its
    /// current job ends, which is usually at once (the job is suspending), so the hop costs no
    /// system call and no context switch. A second waiting job wakes an idle sibling, so fan-out
    /// still runs in parallel.
    func submit(_ job: UnownedJob, to executor: MeteredExecutor) {
        let pending = PendingJob(job: job, executor: executor)
        let worker = Worker.current ?? (runsOnEventLoops ? eventLoopWorker() : nil)
        if runsOnEventLoops, let worker, let loop = worker.eventLoop {
            worker.enqueuedByLoop(executor)
            loop.execute { worker.run(pending) }
            return
        }
        if !queue.push(pending, fromOwnWorker: worker?.queue === queue) {
            job.runSynchronously(on: globalConcurrentExecutor.asUnownedTaskExecutor())
        }
    }

    /// New accounting state for the calling thread when it is an event loop's and has none yet;
    /// nil on any other thread.
    private func eventLoopWorker() -> Worker? {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        let worker = Worker(queue: queue, mode: mode, rescaleNanoseconds: rescaleNanoseconds, eventLoop: loop)
        worker.adoptCurrentThread()
        return worker
    }

    /// Blocks until every worker is idle and has settled its credits (for tests and benchmarks:
    /// call it off the pool, when no more jobs are coming).
    package func waitUntilIdle() { queue.waitUntilIdle(workers: workers.count) }

    /// Credits the CPU the calling worker used so far to the executor it is running, so a
    /// request's figure is complete when it ends. Does nothing off the pool.
    package static func settleCurrentThread() {
        guard let pointer = pthread_getspecific(Worker.key) else { return }
        Unmanaged<Worker>.fromOpaque(pointer).takeUnretainedValue().settle(keepOwner: true)
    }
}

struct PendingJob: @unchecked Sendable {
    // UnownedJob is a reference to a job the runtime keeps alive until it runs.
    let job: UnownedJob
    let executor: MeteredExecutor
}

/// A FIFO of jobs under a pthread mutex, with a condition variable for idle workers.
final class JobQueue: @unchecked Sendable {
    // Every field is touched only under `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let idleCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs = Deque<PendingJob>()
    private var idle = 0
    private var closed = false

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        pthread_cond_init(idleCondition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_cond_destroy(idleCondition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
        idleCondition.deallocate()
    }

    /// False when the queue is closed. `fromOwnWorker`: see ``MeteringPool/submit(_:to:)``.
    func push(_ job: PendingJob, fromOwnWorker: Bool) -> Bool {
        pthread_mutex_lock(mutex)
        guard !closed else {
            pthread_mutex_unlock(mutex)
            return false
        }
        jobs.append(job)
        let wake = idle > 0 && (!fromOwnWorker || jobs.count > 1)
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
        return true
    }

    /// The next job; calls `beforeWaiting` (outside the lock) before blocking on an empty queue.
    /// Nil once the queue is closed and empty.
    func pop(beforeWaiting: () -> Void) -> PendingJob? {
        pthread_mutex_lock(mutex)
        if let job = jobs.popFirst() {
            pthread_mutex_unlock(mutex)
            return job
        }
        pthread_mutex_unlock(mutex)
        beforeWaiting()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while jobs.isEmpty && !closed {
            idle += 1
            pthread_cond_broadcast(idleCondition)
            pthread_cond_wait(condition, mutex)
            idle -= 1
        }
        return jobs.popFirst()
    }

    func waitUntilIdle(workers: Int) {
        pthread_mutex_lock(mutex)
        while idle < workers || !jobs.isEmpty { pthread_cond_wait(idleCondition, mutex) }
        pthread_mutex_unlock(mutex)
    }

    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }
}
