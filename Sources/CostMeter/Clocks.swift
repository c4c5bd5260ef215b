import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The clocks the meter reads, in nanoseconds.
///
/// Measured on the 2-vCPU x86 KVM guest this was written on (`docs/PERFORMANCE.md`): the
/// monotonic and real-time clocks are vDSO calls (~60–100 ns); the thread and process CPU clocks
/// are system calls (~0.5 µs), which is why the pool reads the thread clock only when a worker
/// switches from one request to another.
public enum CPUClock {
    /// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
    @inline(__always)
    public static func thread() -> Int64 { read(CLOCK_THREAD_CPUTIME_ID) }

    /// CPU time of the whole process, every thread (`CLOCK_PROCESS_CPUTIME_ID`).
    public static func process() -> Int64 { read(CLOCK_PROCESS_CPUTIME_ID) }

    /// The monotonic clock (`CLOCK_MONOTONIC`).
    @inline(__always)
    public static func monotonic() -> Int64 { read(CLOCK_MONOTONIC) }

    /// Nanoseconds since 1970-01-01 UTC (`CLOCK_REALTIME`).
    public static func wall() -> Int64 { read(CLOCK_REALTIME) }

    @inline(__always)
    static func read(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}

/// Where the ledger collector reads the time and the process's CPU; tests substitute their own.
public protocol MeterClocks: Sendable {
    /// Nanoseconds since 1970-01-01 UTC.
    func wallNanoseconds() -> Int64
    /// The process's CPU time in nanoseconds.
    func processCPUNanoseconds() -> Int64
}

/// The real clocks.
public struct SystemMeterClocks: MeterClocks {
    public init() {}
    public func wallNanoseconds() -> Int64 { CPUClock.wall() }
    public func processCPUNanoseconds() -> Int64 { CPUClock.process() }
}

/// Wall time and process CPU that move only when told: for tests and simulations of the ledger.
public final class ManualMeterClocks: MeterClocks {
    private let state: Mutex<(wall: Int64, cpu: Int64)>

    public init(wall: Int64) { state = Mutex((wall, 0)) }

    public func wallNanoseconds() -> Int64 { state.withLock { $0.wall } }
    public func processCPUNanoseconds() -> Int64 { state.withLock { $0.cpu } }

    /// Moves the wall clock by `wall` (negative: a step back) and adds `processCPU`.
    public func advance(wall: Int64, processCPU: Int64 = 0) {
        state.withLock {
            $0.wall += wall
            $0.cpu += processCPU
        }
    }
}
