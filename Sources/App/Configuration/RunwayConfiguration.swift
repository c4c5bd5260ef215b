import Foundation
import Logging

/// Every setting of a Runway process, resolved once at start-up.
///
/// Precedence: a command-line flag overrides the environment, which overrides the default.
/// Each property documents its environment variable and default; the README holds the same table.
struct RunwayConfiguration: Sendable, Equatable {
    /// Address of the public (tenant) listener. `RUNWAY_HOST`, default `127.0.0.1`.
    var host = "127.0.0.1"
    /// Port of the public listener (0 picks a free one). `RUNWAY_PORT`, default `8080`.
    var port = 8080
    /// Address of the admin listener. `RUNWAY_ADMIN_HOST`, default `127.0.0.1` (loopback only).
    var adminHost = "127.0.0.1"
    /// Port of the admin listener (0 picks a free one). `RUNWAY_ADMIN_PORT`, default `8081`.
    var adminPort = 8081
    /// Where the embedded database and the generated admin token live. `RUNWAY_DATA_DIR`,
    /// default `/var/lib/runway` for root, `$XDG_DATA_HOME/runway` (or `~/.local/share/runway`) otherwise.
    var dataDirectory: String
    /// The database the service uses, as a role without BYPASSRLS. `DATABASE_URL`; unset means
    /// the embedded PostgreSQL cluster under the data directory.
    var databaseURL: String?
    /// The database role that owns the schema and runs migrations. `RUNWAY_MIGRATION_DATABASE_URL`,
    /// default: `DATABASE_URL`.
    var migrationDatabaseURL: String?
    /// Allow a database host that is neither loopback nor a Unix socket. `RUNWAY_ALLOW_REMOTE_DB=1`.
    var allowRemoteDatabase = false
    /// Bearer token of the admin API. `RUNWAY_ADMIN_TOKEN`; unset means one is generated into
    /// `<data dir>/admin-token` (mode 0600) on first start.
    var adminToken: String?
    /// Largest accepted document body in bytes. `RUNWAY_MAX_DOCUMENT_BYTES`, default 1 MiB.
    var maxDocumentBytes = 1 << 20
    /// How long in-flight requests may take to finish after SIGTERM. `RUNWAY_SHUTDOWN_TIMEOUT`
    /// (seconds), default 25.
    var shutdownTimeoutSeconds = 25
    /// Size of the database connection pool. `RUNWAY_DB_MAX_CONNECTIONS`, default 20.
    var databaseMaxConnections = 20
    /// How often per-tenant request counts are written to the database. `RUNWAY_USAGE_FLUSH_SECONDS`,
    /// default 5.
    var usageFlushSeconds = 5
    /// Minimum log level. `RUNWAY_LOG_LEVEL`, default `info`.
    var logLevel: Logger.Level = .info
    /// Loki's base URL; unset means JSON log lines on stdout. `LOKI_URL`.
    var lokiURL: String?
    /// `X-Scope-OrgID` for Loki. `LOKI_TENANT`; unset sends none.
    var lokiTenant: String?
    /// Send metadata as Loki structured metadata (Loki 2.9+); `0` puts it in the line as logfmt.
    /// `LOKI_STRUCTURED_METADATA`, default 1.
    var lokiStructuredMetadata = true
    /// Bytes of log lines held while Loki is slow or down; the oldest are dropped past it.
    /// `RUNWAY_LOG_BUFFER_BYTES`, default 8 MiB.
    var logBufferBytes = 8 << 20
    /// The `env` label of logs. `RUNWAY_ENV`, default `dev`.
    var environmentName = "dev"
    /// The `instance` label of logs. `RUNWAY_INSTANCE`, default the host name.
    var instanceName = ProcessInfo.processInfo.hostName
    /// Folder holding `initdb` and `pg_ctl` for the embedded database. `RUNWAY_POSTGRES_BIN`,
    /// default: the newest `/usr/lib/postgresql/*/bin`, else `PATH`.
    var postgresBinDirectory: String?
    /// The cost meter's instance type, vCPUs, price and flush interval (see ``CostSettings``).
    var cost = CostSettings()

    /// The defaults, with the data directory chosen for the current user.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.dataDirectory = Self.defaultDataDirectory(environment: environment)
    }

    static func defaultDataDirectory(environment: [String: String]) -> String {
        if getuid() == 0 { return "/var/lib/runway" }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/runway" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/share/runway"
    }
}

/// A setting whose value could not be used; the CLI prints it and exits non-zero.
struct ConfigurationError: Error, CustomStringConvertible {
    let description: String
}

extension RunwayConfiguration {
    /// Applies the `RUNWAY_*`, `DATABASE_URL` variables found in `environment` over the defaults.
    mutating func apply(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let raw = environment[name], !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let raw = value(name) else { return nil }
            guard let number = Int(raw), range.contains(number) else {
                throw ConfigurationError(
                    description: "\(name)=\(raw) is not a whole number from \(range.lowerBound) to \(range.upperBound)"
                )
            }
            return number
        }
        if let v = value("RUNWAY_HOST") { host = v }
        if let v = try integer("RUNWAY_PORT", in: 0...65535) { port = v }
        if let v = value("RUNWAY_ADMIN_HOST") { adminHost = v }
        if let v = try integer("RUNWAY_ADMIN_PORT", in: 0...65535) { adminPort = v }
        if let v = value("RUNWAY_DATA_DIR") { dataDirectory = v }
        if let v = value("DATABASE_URL") { databaseURL = v }
        if let v = value("RUNWAY_MIGRATION_DATABASE_URL") { migrationDatabaseURL = v }
        if let v = value("RUNWAY_ALLOW_REMOTE_DB") {
            guard let flag = Self.parseBool(v) else {
                throw ConfigurationError(description: "RUNWAY_ALLOW_REMOTE_DB=\(v) is not one of 1, 0, true, false")
            }
            allowRemoteDatabase = flag
        }
        if let v = value("RUNWAY_ADMIN_TOKEN") { adminToken = v }
        if let v = try integer("RUNWAY_MAX_DOCUMENT_BYTES", in: 2...(64 << 20)) { maxDocumentBytes = v }
        if let v = try integer("RUNWAY_SHUTDOWN_TIMEOUT", in: 0...3600) { shutdownTimeoutSeconds = v }
        if let v = try integer("RUNWAY_DB_MAX_CONNECTIONS", in: 1...1000) { databaseMaxConnections = v }
        if let v = try integer("RUNWAY_USAGE_FLUSH_SECONDS", in: 1...3600) { usageFlushSeconds = v }
        if let v = value("RUNWAY_LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: v.lowercased()) else {
                throw ConfigurationError(
                    description: "RUNWAY_LOG_LEVEL=\(v) is not one of trace, debug, info, notice, warning, error, critical"
                )
            }
            logLevel = level
        }
        if let v = value("RUNWAY_POSTGRES_BIN") { postgresBinDirectory = v }
        if let v = value("LOKI_URL") {
            guard let url = URL(string: v), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ConfigurationError(description: "LOKI_URL=\(v) is not an http(s) base URL such as http://127.0.0.1:3100")
            }
            lokiURL = v
        }
        if let v = value("LOKI_TENANT") { lokiTenant = v }
        if let v = value("LOKI_STRUCTURED_METADATA") {
            guard let flag = Self.parseBool(v) else {
                throw ConfigurationError(description: "LOKI_STRUCTURED_METADATA=\(v) is not one of 1, 0, true, false")
            }
            lokiStructuredMetadata = flag
        }
        if let v = try integer("RUNWAY_LOG_BUFFER_BYTES", in: (64 << 10)...(1 << 30)) { logBufferBytes = v }
        if let v = value("RUNWAY_ENV") { environmentName = v }
        if let v = value("RUNWAY_INSTANCE") { instanceName = v }
        // The cost meter (issue 5).
        if let v = value("RUNWAY_INSTANCE_TYPE") { cost.instanceType = v }
        if let v = try integer("RUNWAY_VCPUS", in: 1...1024) { cost.vcpus = v }
        if let v = try integer("RUNWAY_PRICE_MICROS_PER_HOUR", in: 0...1_000_000_000) { cost.microsPerHour = Int64(v) }
        if let v = try integer("RUNWAY_COST_FLUSH_SECONDS", in: 1...60) {
            guard 60 % v == 0 else { throw ConfigurationError(description: "RUNWAY_COST_FLUSH_SECONDS=\(v) does not divide 60") }
            cost.flushSeconds = v
        }
        if let v = value("RUNWAY_COST_METER") {
            guard let flag = Self.parseBool(v) else {
                throw ConfigurationError(description: "RUNWAY_COST_METER=\(v) is not one of 1, 0, true, false")
            }
            cost.metersRequests = flag
        }
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
}
