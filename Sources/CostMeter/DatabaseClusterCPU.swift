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
/// The cost meter compares it with the backend CPU it measured on tenant transactions: the rest
/// is work no transaction of a request did — key look-ups, usage and ledger writes (shared among
/// the requests that caused them) or autovacuum and checkpoints (background overhead).
package final class DatabaseClusterCPU: Sendable {
    private let state = Mutex<(postmaster: Int32, procRoot: String)?>(nil)

    package init() {}

    /// Starts reading the cluster whose postmaster is `postmaster` (the parent of a backend).
    package func attach(postmaster: Int32, procRoot: String = "/proc") {
        state.withLock { $0 = (postmaster, procRoot) }
    }

    /// Whether a cluster is attached.
    package var isAttached: Bool { state.withLock { $0 != nil } }

    /// The cluster's CPU so far in nanoseconds, or nil when none is attached or it cannot be read.
    package func nanoseconds() -> Int64? {
        guard let (postmaster, procRoot) = state.withLock({ $0 }) else { return nil }
        guard let own = BackendCPU.read(pid: postmaster, procRoot: procRoot),
            let stat = BackendCPU.readSmallFile("\(procRoot)/\(postmaster)/stat"),
            let reaped = Self.reapedChildrenNanoseconds(stat: stat)
        else { return nil }
        var total = own + reaped
        for child in Self.children(of: postmaster, procRoot: procRoot) {
            total += BackendCPU.read(pid: child, procRoot: procRoot) ?? 0
        }
        return total
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
