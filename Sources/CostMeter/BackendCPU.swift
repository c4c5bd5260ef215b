#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// CPU time of a co-located PostgreSQL backend, from `/proc/<pid>/schedstat`.
///
/// The first field of schedstat is the task's `sum_exec_runtime`: exact nanoseconds on the CPU.
/// It is only meaningful when the backend runs on this host and its process is visible here (same
/// PID namespace); ``probe(pid:procRoot:)`` checks that by the process's name.
public enum BackendCPU {
    /// The on-CPU nanoseconds of a schedstat line (`"123456 789 12\n"`), or nil if malformed.
    public static func parseSchedstat(_ text: some StringProtocol) -> Int64? {
        guard let first = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first,
            let value = Int64(first), value >= 0
        else { return nil }
        return value
    }

    /// `pid`'s on-CPU nanoseconds, or nil when it cannot be read.
    public static func read(pid: Int32, procRoot: String = "/proc") -> Int64? {
        readSmallFile("\(procRoot)/\(pid)/schedstat").flatMap(parseSchedstat)
    }

    /// Whether `pid` is visible here as a PostgreSQL process with a readable schedstat; if not,
    /// why not (for the log and the reports).
    public static func probe(pid: Int32, procRoot: String = "/proc") -> (visible: Bool, reason: String) {
        guard let name = readSmallFile("\(procRoot)/\(pid)/comm") else {
            return (false, "no process \(pid) is visible in \(procRoot): the database runs on another host or in another PID namespace")
        }
        guard name.hasPrefix("postgres") else {
            return (false, "process \(pid) here is not PostgreSQL (another PID namespace)")
        }
        guard read(pid: pid, procRoot: procRoot) != nil else {
            return (false, "\(procRoot)/\(pid)/schedstat cannot be read")
        }
        return (true, "database backends' CPU read from \(procRoot)/<pid>/schedstat")
    }

    static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = readBytes(descriptor, into: &bytes)
        guard count > 0 else { return nil }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }
}

private func readBytes(_ descriptor: Int32, into bytes: inout [UInt8]) -> Int {
    bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
}
