import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A private PostgreSQL cluster under Runway's data directory: created with `initdb` on first
/// use, listening on a Unix socket only (no TCP port) in a folder only the cluster's OS user can
/// open, and authenticating by peer: only that OS user and the one running Runway may connect.
///
/// Several Runway processes (a `serve` and CLI commands) share one cluster: each holds a shared
/// `flock` on `embedded.lock` while it uses it, and the last one to let go stops it. When started
/// by root the cluster runs as the unprivileged `postgres` user, since PostgreSQL refuses root.
final class EmbeddedPostgres: Sendable {
    /// The superuser that owns the schema; the service itself connects as ``appRole``.
    static let superuser = "postgres"
    static let appRole = "runway"
    static let databaseName = "runway"

    let dataDirectory: String
    let binDirectory: String
    let logger: Logger
    private let usersLock: Int32
    private let released = Mutex(false)

    var clusterDirectory: String { dataDirectory + "/postgres" }
    var socketDirectory: String { dataDirectory + "/run" }
    var logFile: String { dataDirectory + "/postgres.log" }
    var socketPath: String { socketDirectory + "/.s.PGSQL.5432" }
    /// The OS user the cluster runs as: `postgres` when we are root, else ourselves.
    var osUser: String? { getuid() == 0 ? "postgres" : nil }

    /// Creates the cluster if needed, starts it unless another Runway process already did, and
    /// registers this process as one of its users.
    /// - Parameter searchPath: where `initdb` and `pg_ctl` are looked for last (`PATH`'s folders).
    static func start(dataDirectory: String, binDirectory: String?, searchPath: [String], logger: Logger) async throws -> EmbeddedPostgres {
        let bin = try binDirectory ?? findBinDirectory(searchPath: searchPath)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let startLock = try openLockFile(dataDirectory + "/embedded-start.lock")
        defer { close(startLock) }
        let usersLock = try openLockFile(dataDirectory + "/embedded-users.lock")
        let cluster = EmbeddedPostgres(dataDirectory: dataDirectory, binDirectory: bin, logger: logger, usersLock: usersLock)
        await offCooperativePool { flock(startLock, LOCK_EX) }
        do {
            try await cluster.startIfStopped()
        } catch {
            close(usersLock)
            throw error
        }
        await offCooperativePool { flock(usersLock, LOCK_SH) }
        return cluster
    }

    private init(dataDirectory: String, binDirectory: String, logger: Logger, usersLock: Int32) {
        self.dataDirectory = dataDirectory
        self.binDirectory = binDirectory
        self.logger = logger
        self.usersLock = usersLock
    }

    /// Lets go of the cluster, stopping it when no other Runway process is using it.
    ///
    /// Two locks: `embedded-start.lock` (exclusive, while a process starts or stops the cluster)
    /// and `embedded-users.lock` (shared by every process using it). The last user is the one
    /// that can turn its shared lock into an exclusive one.
    func release() async {
        guard
            released.withLock({ wasReleased in
                defer { wasReleased = true }; return !wasReleased
            })
        else { return }
        let startLock: Int32
        do {
            startLock = try Self.openLockFile(dataDirectory + "/embedded-start.lock")
        } catch {
            logger.error("cannot open the start lock; leaving the embedded PostgreSQL running")
            close(usersLock)
            return
        }
        defer { close(startLock) }
        await offCooperativePool { flock(startLock, LOCK_EX) }
        if flock(usersLock, LOCK_EX | LOCK_NB) == 0 {
            do {
                try await Subprocess.run([binDirectory + "/pg_ctl", "stop", "-D", clusterDirectory, "-m", "fast", "-w"], as: osUser)
                logger.info("embedded PostgreSQL stopped")
            } catch {
                logger.error("embedded PostgreSQL did not stop", metadata: ["error": "\(error)"])
            }
        }
        close(usersLock)
    }

    private static func openLockFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ConfigurationError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// The endpoint for `role`, over the Unix socket.
    func endpoint(role: String) -> DatabaseEndpoint {
        DatabaseEndpoint(socketPath: socketPath, username: role, database: Self.databaseName)
    }

    private func startIfStopped() async throws {
        let fm = FileManager.default
        guard socketPath.utf8.count < 100 else {
            throw ConfigurationError(
                description: "the data directory \(dataDirectory) is too long for a Unix socket path; choose a shorter RUNWAY_DATA_DIR"
            )
        }
        if !fm.fileExists(atPath: clusterDirectory + "/PG_VERSION") {
            try await initialize()
        }
        try prepareDirectories()
        try writeAccessRules()
        let status = try await Subprocess.run(
            [binDirectory + "/pg_ctl", "status", "-D", clusterDirectory],
            as: osUser,
            allowedStatuses: [0, 3, 4]
        )
        guard status.status != 0 else {
            // Started by another Runway process, perhaps an older one: it reads the rules again.
            try await Subprocess.run([binDirectory + "/pg_ctl", "reload", "-D", clusterDirectory], as: osUser)
            return
        }
        do {
            try await Subprocess.run(
                [binDirectory + "/pg_ctl", "start", "-D", clusterDirectory, "-l", logFile, "-w", "-t", "60"],
                as: osUser
            )
        } catch {
            let tail =
                (try? String(contentsOfFile: logFile, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
            throw ConfigurationError(description: "the embedded PostgreSQL did not start (\(error)); \(logFile) ends with:\n\(tail)")
        }
        logger.info("embedded PostgreSQL started", metadata: ["socket": "\(socketDirectory)"])
    }

    private func initialize() async throws {
        logger.info("creating the embedded PostgreSQL cluster", metadata: ["directory": "\(clusterDirectory)"])
        try prepareDirectories()
        do {
            try await Subprocess.run(
                [
                    binDirectory + "/initdb", "-D", clusterDirectory, "-U", Self.superuser, "--auth=peer", "--encoding=UTF8",
                    "--locale=C", "--no-instructions",
                ],
                as: osUser
            )
        } catch let failure as Subprocess.Failure where failure.output.contains("Permission denied") && osUser != nil {
            throw ConfigurationError(
                description:
                    "initdb failed: \(failure.output.trimmingCharacters(in: .whitespacesAndNewlines))\nRunning as root, the embedded PostgreSQL runs as the 'postgres' user, which must be able to reach \(dataDirectory): every folder above it must be searchable by others (chmod o+x), or choose a RUNWAY_DATA_DIR under such folders (the default is /var/lib/runway)"
            )
        }
        let settings = """

            # Written by Runway: Unix socket only, in a folder only the cluster's user can open.
            listen_addresses = ''
            unix_socket_directories = '\(socketDirectory)'
            unix_socket_permissions = 0700
            max_connections = 100
            shared_buffers = 128MB

            """
        let conf = clusterDirectory + "/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: conf))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
    }

    /// Who may connect, rewritten at each start (so clusters made by older versions, with `trust`,
    /// change too): over the Unix socket only, by peer authentication, the cluster's OS user and
    /// the OS user running Runway, as the superuser or the service role.
    private func writeAccessRules() throws {
        let own = Self.currentUserName()
        let users = osUser.map { $0 == own ? [own] : [$0, own] } ?? [own]
        let hba = """
            # Written by Runway at each start of its embedded cluster: Unix socket only, peer
            # authentication, and only the OS users that pg_ident.conf maps.
            local all all peer map=runway

            """
        let ident =
            "# Written by Runway: the OS users that may connect, and as which roles.\n"
            + users.flatMap { user in [Self.superuser, Self.appRole].map { "runway \(user) \($0)\n" } }.joined()
        for (name, text) in [("pg_hba.conf", hba), ("pg_ident.conf", ident)] {
            let path = clusterDirectory + "/" + name
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ConfigurationError(description: "cannot write \(path)")
            }
            if let user = osUser.flatMap(SystemUser.named) { chown(path, user.uid, user.gid) }
        }
    }

    private static func currentUserName() -> String {
        SystemUser.withID(geteuid())?.name ?? String(geteuid())
    }

    /// The cluster and socket folders belong to the cluster's user with mode 0700; the data
    /// directory itself must be traversable by that user.
    private func prepareDirectories() throws {
        let fm = FileManager.default
        for path in [clusterDirectory, socketDirectory] {
            if !fm.fileExists(atPath: path) { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) }
            chmod(path, 0o700)
        }
        if !fm.fileExists(atPath: logFile) { _ = fm.createFile(atPath: logFile, contents: nil) }
        if let user = osUser.flatMap(SystemUser.named) {
            chmod(dataDirectory, 0o755)
            for path in [clusterDirectory, socketDirectory, logFile] where fm.fileExists(atPath: path) {
                chown(path, user.uid, user.gid)
            }
        } else if osUser != nil {
            throw ConfigurationError(
                description: "running as root, the embedded PostgreSQL needs the system user 'postgres' (apt-get install postgresql)"
            )
        }
    }

    /// The newest `/usr/lib/postgresql/*/bin`, else the first folder of `searchPath` with `pg_ctl`.
    static func findBinDirectory(searchPath: [String]) throws -> String {
        let fm = FileManager.default
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions {
            let bin = "/usr/lib/postgresql/\(version)/bin"
            if fm.isExecutableFile(atPath: bin + "/initdb") { return bin }
        }
        for folder in searchPath {
            if fm.isExecutableFile(atPath: "\(folder)/pg_ctl"), fm.isExecutableFile(atPath: "\(folder)/initdb") {
                return folder
            }
        }
        throw ConfigurationError(
            description:
                "no PostgreSQL server binaries found (initdb, pg_ctl): install Debian's postgresql package, set RUNWAY_POSTGRES_BIN, or set DATABASE_URL"
        )
    }
}

/// Keeps the embedded cluster for the life of a `ServiceGroup` and lets go of it at shutdown,
/// after the services that use it (it is listed before them).
struct EmbeddedPostgresService: Service {
    let cluster: EmbeddedPostgres

    func run() async throws {
        try? await gracefulShutdown()
        await cluster.release()
    }
}

/// A user of the system's password database, looked up with `getpwnam_r` and `getpwuid_r`:
/// `getpwnam` and `getpwuid` return storage that a look-up on another thread may overwrite between
/// the call and the read (`scripts/lib/getpw_race.c` shows it here). The likely cause of a CI run
/// in which PostgreSQL could not create its lock file in a socket folder chowned while other tests
/// looked up other users.
struct SystemUser: Sendable {
    let name: String
    let uid: uid_t
    let gid: gid_t

    static func named(_ name: String) -> SystemUser? {
        lookUp { getpwnam_r(name, $0, $1, $2, $3) }
    }

    static func withID(_ uid: uid_t) -> SystemUser? {
        lookUp { getpwuid_r(uid, $0, $1, $2, $3) }
    }

    private static func lookUp(
        _ call: (UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int, UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>) ->
            Int32
    ) -> SystemUser? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 16_384) { buffer in
            guard call(&entry, buffer.baseAddress!, buffer.count, &found) == 0, found != nil else { return nil }
            return SystemUser(name: String(cString: entry.pw_name), uid: entry.pw_uid, gid: entry.pw_gid)
        }
    }
}
