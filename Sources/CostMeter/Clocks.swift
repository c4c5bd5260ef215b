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
package enum CPUClock {
    /// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
    @inline(__always)
    package static func thread() -> Int64 { read(CLOCK_THREAD_CPUTIME_ID) }

    /// CPU time of the whole process, every thread (`CLOCK_PROCESS_CPUTIME_ID`).
    package static func process() -> Int64 { read(CLOCK_PROCESS_CPUTIME_ID) }

    /// The monotonic clock (`CLOCK_MONOTONIC`).
    @inline(__always)
    package static func monotonic() -> Int64 { read(CLOCK_MONOTONIC) }

    /// Nanoseconds since 1970-01-01 UTC (`CLOCK_REALTIME`).
    package static func wall() -> Int64 { read(CLOCK_REALTIME) }

    @inline(__always)
    static func read(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}

/// Where the ledger collector reads the time and the CPU used; tests substitute their own.
package protocol MeterClocks: Sendable {
    /// Nanoseconds since 1970-01-01 UTC.
    func wallNanoseconds() -> Int64
    /// The process's CPU time in nanoseconds.
    func processCPUNanoseconds() -> Int64
    /// The co-located database cluster's CPU time so far; nil when it is not visible.
    func databaseCPU() -> DatabaseCPUReading?
}

/// A co-located database cluster's CPU so far, in nanoseconds: all of it, and what its background
/// processes used, by ledger item (``DatabaseClusterCPU/reading()``).
package struct DatabaseCPUReading: Sendable, Equatable {
    package var total: Int64
    package var background: [LedgerItem: Int64] = [:]

    package init(total: Int64, background: [LedgerItem: Int64] = [:]) {
        self.total = total
        self.background = background
    }

    /// The total less the background processes': the part requests can have caused.
    var requestSide: Int64 { total - background.values.reduce(0, +) }
}

/// The real clocks.
package struct SystemMeterClocks: MeterClocks {
    let database: DatabaseClusterCPU?

    package init(database: DatabaseClusterCPU? = nil) { self.database = database }

    package func wallNanoseconds() -> Int64 { CPUClock.wall() }
    package func processCPUNanoseconds() -> Int64 { CPUClock.process() }
    package func databaseCPU() -> DatabaseCPUReading? { database?.reading() }
}

/// Wall time and CPU that move only when told: for tests and simulations of the ledger.
package final class ManualMeterClocks: MeterClocks {
    private let state: Mutex<(wall: Int64, cpu: Int64, database: DatabaseCPUReading?)>

    /// - Parameter database: the database cluster's CPU at the start; nil for one not visible.
    package init(wall: Int64, database: Int64? = nil) { state = Mutex((wall, 0, database.map { DatabaseCPUReading(total: $0) })) }

    package func wallNanoseconds() -> Int64 { state.withLock { $0.wall } }
    package func processCPUNanoseconds() -> Int64 { state.withLock { $0.cpu } }
    package func databaseCPU() -> DatabaseCPUReading? { state.withLock { $0.database } }

    /// Moves the wall clock by `wall` (negative: a step back) and adds `processCPU`, and when the
    /// database is visible `databaseCPU` and, within it, what its background processes used.
    package func advance(wall: Int64, processCPU: Int64 = 0, databaseCPU: Int64 = 0, databaseBackground: [LedgerItem: Int64] = [:]) {
        state.withLock {
            $0.wall += wall
            $0.cpu += processCPU
            guard var database = $0.database else { return }
            database.total += databaseCPU
            for (item, nanoseconds) in databaseBackground { database.background[item, default: 0] += nanoseconds }
            $0.database = database
        }
    }
}
