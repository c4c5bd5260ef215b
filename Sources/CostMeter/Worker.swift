import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One pool thread, or one event loop's thread, and its accounting state. Only its own thread
/// touches the state.
final class Worker: @unchecked Sendable {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    let queue: JobQueue
    /// Set for an event loop's thread: jobs resumed there run there (see ``MeteringPool/submit(_:to:)``).
    let eventLoop: (any EventLoop)?
    private let mode: MeteringMode
    private let rescaleNanoseconds: Int64

    // cpuClockPerSwitch: who ran since the last read of the thread clock.
    private var owner: MeteredExecutor?
    private var lastCPU: Int64 = 0
    /// On an event loop: what the loop did before enqueuing a platform job, owed to the next
    /// billed job with the platform job's own time (see ``enqueuedByLoop(_:)``).
    private var carried: Int64 = 0
    // monotonicRescaled: wall slices per executor since the last rescale.
    private var slices: [ObjectIdentifier: (executor: MeteredExecutor, wall: Int64)] = [:]
    private var lastRescaleWall: Int64 = 0

    init(queue: JobQueue, mode: MeteringMode, rescaleNanoseconds: Int64, eventLoop: (any EventLoop)? = nil) {
        self.queue = queue
        self.mode = mode
        self.rescaleNanoseconds = rescaleNanoseconds
        self.eventLoop = eventLoop
    }

    /// The accounting state of the calling thread, when it is a pool worker or an event loop that
    /// ran metered jobs.
    static var current: Worker? {
        pthread_getspecific(key).map { Unmanaged<Worker>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Makes this the calling event loop thread's accounting state, for the thread's life.
    func adoptCurrentThread() {
        pthread_setspecific(Self.key, Unmanaged.passRetained(self).toOpaque())
        restart()
    }

    func loop() {
        pthread_setspecific(Self.key, Unmanaged.passUnretained(self).toOpaque())
        lastCPU = CPUClock.thread()
        lastRescaleWall = CPUClock.monotonic()
        var waited = false
        while let next = queue.pop(beforeWaiting: {
            settle(keepOwner: false)
            waited = true
        }) {
            if waited {
                // The wake-up is nobody's: start measuring afresh.
                waited = false
                restart()
            }
            run(next)
        }
        settle(keepOwner: false)
    }

    func run(_ pending: PendingJob) {
        let executor = pending.executor
        switch mode {
        case .monotonicRescaled:
            let start = CPUClock.monotonic()
            pending.job.runSynchronously(on: executor.asUnownedTaskExecutor())
            let end = CPUClock.monotonic()
            let id = ObjectIdentifier(executor)
            if slices[id] == nil {
                slices[id] = (executor, end - start)
            } else {
                slices[id]!.wall += end - start
            }
            if end - lastRescaleWall >= rescaleNanoseconds { rescale(now: end) }
        case .cpuClockPerJob:
            let start = CPUClock.thread()
            pending.job.runSynchronously(on: executor.asUnownedTaskExecutor())
            executor.credit(CPUClock.thread() - start)
        case .cpuClockPerSwitch where eventLoop != nil:
            // On an event loop, what the loop did before enqueuing this job (waking up, reading a
            // socket, parsing a request, decoding a database answer) was credited to its executor
            // then (``enqueuedByLoop(_:)``); what it did since (other channels' I/O before they
            // enqueued their jobs was credited to those) and the job itself go to the executor
            // now. Unbilled (platform) jobs — a connection's or a listener's task, a request's
            // task with the meter off — pass their time, and the I/O that enqueued them, on to the
            // next billed job.
            owner = executor
            pending.job.runSynchronously(on: executor.asUnownedTaskExecutor())
            owner = nil
            guard executor.billed else { return }
            creditSinceLastRead(to: executor)
        default:
            if executor !== owner {
                let now = CPUClock.thread()
                owner?.credit(now - lastCPU)
                lastCPU = now
                owner = executor
            }
            pending.job.runSynchronously(on: executor.asUnownedTaskExecutor())
        }
    }

    /// Credits what the thread used since the last settlement. `keepOwner` means "called from
    /// inside a job": the monotonic mode cannot rescale mid-job (the job has no slice yet), so
    /// there the request's figure is complete only at the next rescale.
    func settle(keepOwner: Bool) {
        switch mode {
        case .monotonicRescaled:
            if !keepOwner { rescale(now: CPUClock.monotonic()) }
        case .cpuClockPerJob:
            break
        default:
            creditSinceLastRead(to: owner)
            if !keepOwner { owner = nil }
        }
    }

    /// On an event loop, a job enqueued by the loop's own work — a read, a database answer, a
    /// timer — rather than from inside a job: what the loop did since the last clock read
    /// resumed this executor's task, so it is this executor's. Left for whichever job the loop
    /// ran next, one request's I/O went to another's whenever both were ready in one wake-up.
    func enqueuedByLoop(_ executor: MeteredExecutor) {
        guard mode == .cpuClockPerSwitch, owner == nil else { return }
        let now = CPUClock.thread()
        if executor.billed {
            executor.credit(now - lastCPU)
        } else {
            carried += now - lastCPU
        }
        lastCPU = now
    }

    /// Credits what the thread used since the last clock read, and what was carried, to
    /// `executor` (to nobody when nil), and starts measuring afresh.
    private func creditSinceLastRead(to executor: MeteredExecutor?) {
        let now = CPUClock.thread()
        executor?.credit(now - lastCPU + carried)
        lastCPU = now
        carried = 0
    }

    private func restart() {
        lastCPU = CPUClock.thread()
        lastRescaleWall = CPUClock.monotonic()
    }

    /// Splits the thread's CPU since the last rescale over the executors in proportion to their
    /// wall slices, as a share of the wall time that passed (time between jobs stays uncredited).
    private func rescale(now: Int64) {
        let cpu = CPUClock.thread()
        let cpuDelta = cpu - lastCPU
        let wall = now - lastRescaleWall
        lastCPU = cpu
        lastRescaleWall = now
        guard wall > 0, cpuDelta > 0, !slices.isEmpty else {
            slices.removeAll(keepingCapacity: true)
            return
        }
        let totalSlices = slices.values.reduce(Int64(0)) { $0 + $1.wall }
        // Preemption stretches wall time, never CPU time: scale the slices down to the CPU used.
        let denominator = Int128(max(wall, totalSlices))
        for (_, slice) in slices {
            slice.executor.credit(Int64(Int128(cpuDelta) * Int128(slice.wall) / denominator))
        }
        slices.removeAll(keepingCapacity: true)
    }
}
