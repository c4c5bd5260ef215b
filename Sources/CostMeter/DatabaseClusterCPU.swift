import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The CPU a co-located PostgreSQL cluster used in all, every process of it: the postmaster's
/// own and its children's, live (from `/proc/<pid>/schedstat`, in nanoseconds) and exited (the
/// postmaster's `cutime` + `cstime` from `/proc/<pid>/stat`, in clock ticks: a backend's CPU moves
/// there when it exits, so the total only grows, with a tick's rounding per exited process).
///
/// The cost meter compares it with the backend CPU it measured around statements (requests',
/// the usage and ledger flushes'): the rest is the backends' work between statements (shared among
/// the requests being served) or the cluster's own background processes (overhead, by ledger
/// item: autovacuum, checkpoints, the WAL writer), told apart by their process titles.
package final class DatabaseClusterCPU: Sendable {
    private let state = Mutex<(postmaster: Int32, procRoot: String)?>(nil)
    /// The background processes seen at the last reading (their item and CPU then), and what each
    /// item's processes used since the first reading.
    private let background = Mutex<(processes: [Int32: (item: LedgerItem, cpu: Int64)], totals: [LedgerItem: Int64], primed: Bool)>(
        ([:], [:], false)
    )

    package init() {}

    /// Starts reading the cluster whose postmaster is `postmaster` (the parent of a backend).
    package func attach(postmaster: Int32, procRoot: String = "/proc") {
        state.withLock { $0 = (postmaster, procRoot) }
    }

    /// Whether a cluster is attached.
    package var isAttached: Bool { state.withLock { $0 != nil } }

    /// The cluster's CPU so far, and its background processes' part by item; nil when no cluster
    /// is attached or it cannot be read.
    ///
    /// A background process's CPU counts from the first reading, or from its start when it starts
    /// later (an autovacuum worker); what one used between the last reading and its exit stays in
    /// the total only (the postmaster's reaped children), as generic background.
    package func reading() -> DatabaseCPUReading? {
        guard let (postmaster, procRoot) = state.withLock({ $0 }) else { return nil }
        guard let own = BackendCPU.read(pid: postmaster, procRoot: procRoot),
            let stat = BackendCPU.readSmallFile("\(procRoot)/\(postmaster)/stat"),
            let reaped = Self.reapedChildrenNanoseconds(stat: stat)
        else { return nil }
        var total = own + reaped
        var processes: [Int32: (item: LedgerItem, cpu: Int64)] = [:]
        for child in Self.children(of: postmaster, procRoot: procRoot) {
            let cpu = BackendCPU.read(pid: child, procRoot: procRoot) ?? 0
            total += cpu
            if let item = Self.backgroundItem(pid: child, procRoot: procRoot) { processes[child] = (item, cpu) }
        }
        let totals = background.withLock { state in
            if state.primed {
                for (pid, now) in processes {
                    let before = state.processes[pid].flatMap { $0.item == now.item ? $0.cpu : nil } ?? 0
                    state.totals[now.item, default: 0] += max(0, now.cpu - before)
                }
            }
            state.processes = processes
            state.primed = true
            return state.totals
        }
        return DatabaseCPUReading(total: total, background: totals)
    }

    /// The ledger item of a cluster's background process, from its title (`postgres: checkpointer`,
    /// `postgres: autovacuum worker`…, after a `cluster_name:` when one is set); nil for a backend
    /// (`postgres: user database [local] idle`) or a process with no item of its own.
    static func backgroundItem(pid: Int32, procRoot: String) -> LedgerItem? {
        guard let cmdline = BackendCPU.readSmallFile("\(procRoot)/\(pid)/cmdline"),
            let title = cmdline.split(separator: "\0", omittingEmptySubsequences: false).first,
            title.hasPrefix("postgres: ")
        else { return nil }
        var rest = title.dropFirst("postgres: ".count)
        if let named = rest.firstRange(of: ": ") { rest = rest[named.upperBound...] }
        // A backend's title names its client: "[local]" or "address(port)".
        guard !rest.contains("[local]"), !rest.contains("(") else { return nil }
        if rest.hasPrefix("autovacuum launcher") || rest.hasPrefix("autovacuum worker") { return .autovacuum }
        if rest.hasPrefix("checkpointer") || rest.hasPrefix("background writer") { return .checkpoints }
        if rest.hasPrefix("walwriter") { return .walWriter }
        return nil
    }

    /// The parent of `pid` (field 4 of `/proc/<pid>/stat`): a backend's parent is the postmaster.
    package static func parent(of pid: Int32, procRoot: String = "/proc") -> Int32? {
        guard let stat = BackendCPU.readSmallFile("\(procRoot)/\(pid)/stat") else { return nil }
        return fieldsAfterName(stat).flatMap { $0.count > 1 ? Int32($0[1]) : nil }
    }

    /// `cutime` + `cstime` (fields 16 and 17) of a stat line, in nanoseconds.
    static func reapedChildrenNanoseconds(stat: String) -> Int64? {
        guard let fields = fieldsAfterName(stat), fields.count > 14,
            let user = Int64(fields[13]), let system = Int64(fields[14])
        else { return nil }
        return (user + system) * (1_000_000_000 / ticksPerSecond)
    }

    /// The fields after `(comm)`, which may itself hold spaces; field 3 (the state) comes first.
    private static func fieldsAfterName(_ stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    private static let ticksPerSecond: Int64 = max(1, Int64(sysconf(Int32(_SC_CLK_TCK))))

    /// The live children of `pid`, from `/proc/<pid>/task/<pid>/children`.
    static func children(of pid: Int32, procRoot: String) -> [Int32] {
        let path = "\(procRoot)/\(pid)/task/\(pid)/children"
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: " ").compactMap { Int32($0) }
    }
}
