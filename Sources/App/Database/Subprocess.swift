import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs a helper program (initdb, pg_ctl) to completion and captures what it printed.
///
/// Built on `posix_spawn` and `waitpid` rather than Foundation's `Process`, whose
/// `waitUntilExit` was seen never to return here once `pg_ctl start` had left a server running.
/// The wait happens on a thread of its own, off Swift's cooperative pool.
enum Subprocess {
    struct Failure: Error, CustomStringConvertible {
        let command: String
        let status: Int32
        let output: String
        var description: String { "\(command) exited with status \(status): \(output)" }
    }

    /// Runs `arguments[0]` (an absolute path) with the rest as its arguments; as `user` when given
    /// (through `runuser`, which needs root). Throws ``Failure`` on a status not in `allowedStatuses`.
    @discardableResult
    static func run(
        _ arguments: [String],
        as user: String? = nil,
        allowedStatuses: Set<Int32> = [0]
    ) async throws -> (
        status: Int32, output: String
    ) {
        var argv = arguments
        if let user { argv = [runuserPath, "-u", user, "--"] + argv }
        let spawnArguments = argv
        let command = arguments.joined(separator: " ")
        let (status, output) = try await offCooperativePool { try spawnAndWait(spawnArguments) }
        guard allowedStatuses.contains(status) else { throw Failure(command: command, status: status, output: output) }
        return (status, output)
    }

    /// Output goes to an unlinked temporary file, not a pipe: `pg_ctl start` leaves a server
    /// running that would hold a pipe open forever.
    private static func spawnAndWait(_ argv: [String]) throws -> (Int32, String) {
        var template = Array((FileManager.default.temporaryDirectory.path + "/runway-subprocess-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Failure(command: argv[0], status: -1, output: "cannot create a temporary file") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        defer { close(fd) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)

        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else {
            throw Failure(command: argv[0], status: -1, output: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(command: argv[0], status: -1, output: "waitpid failed") }
        }
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)

        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        lseek(fd, 0, SEEK_SET)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            output += buffer[0..<count]
        }
        return (exitStatus, String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static var runuserPath: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/sbin/runuser"
    }
}

/// Runs blocking work (waitpid, flock) on a thread of its own, so it never holds one of the few
/// threads of Swift's cooperative pool.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

@discardableResult
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
