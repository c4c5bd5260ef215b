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
package enum BackendCPU {
    /// The on-CPU nanoseconds of a schedstat line (`"123456 789 12\n"`), or nil if malformed.
    package static func parseSchedstat(_ text: some StringProtocol) -> Int64? {
        parseSchedstat(bytes: text.utf8)
    }

    /// The same, from the file's bytes: the leading decimal number, ended by a space or newline.
    static func parseSchedstat(bytes: some Sequence<UInt8>) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        for byte in bytes {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t") { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// `pid`'s on-CPU nanoseconds, or nil when it cannot be read.
    package static func read(pid: Int32, procRoot: String = "/proc") -> Int64? {
        Reader(pid: pid, procRoot: procRoot)?.read()
    }

    /// Whether `pid` is visible here as a PostgreSQL process with a readable schedstat; if not,
    /// why not (for the log and the reports).
    package static func probe(pid: Int32, procRoot: String = "/proc") -> (visible: Bool, reason: String) {
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

    /// One process's schedstat, kept open and read again from offset 0 each time: one `pread`
    /// (about 1 µs here) instead of `open`, `read` and `close` (about 5 µs, most of it the path
    /// lookup in procfs). Once the process has exited, reads fail (the descriptor stays bound to
    /// that process, never to a later one given the same pid).
    package final class Reader: Sendable {
        private let descriptor: Int32

        package init?(pid: Int32, procRoot: String = "/proc") {
            let descriptor = open("\(procRoot)/\(pid)/schedstat", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return nil }
            self.descriptor = descriptor
        }

        deinit { close(descriptor) }

        /// The process's on-CPU nanoseconds now, or nil when it cannot be read.
        package func read() -> Int64? {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
                let count = pread(descriptor, buffer.baseAddress, buffer.count, 0)
                guard count > 0 else { return nil }
                return BackendCPU.parseSchedstat(bytes: UnsafeMutableBufferPointer(rebasing: buffer[..<count]))
            }
        }
    }

    static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            let count = readBytes(descriptor, into: buffer)
            guard count > 0 else { return nil }
            return String(decoding: UnsafeMutableBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }
}

// At file scope: inside `BackendCPU`, `read` names its own methods.
private func readBytes(_ descriptor: Int32, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
    read(descriptor, buffer.baseAddress, buffer.count)
}
