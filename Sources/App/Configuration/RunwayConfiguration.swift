import Foundation
import Logging
import TelemetryBootstrap

/// Every setting of a Runway process, resolved once at start-up.
///
/// Precedence: a command-line flag overrides the environment, which overrides the default. The
/// environment is read in one place, ``read(environment:)``, and every module gets its part of
/// this tree as values. Each property documents its environment variable and default;
/// ``variables`` lists them all, and the README's configuration table holds the same (a test
/// checks it).
struct RunwayConfiguration: Sendable, Equatable {
    /// Address of the public (tenant) listener. `RUNWAY_HOST`, default `127.0.0.1`. The name
    /// `localhost` means 127.0.0.1 (see `bindAddress(_:)`).
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
    /// The most document text one page of a listing or a search returns (a page stops before the
    /// document that would start past it; its first document always comes).
    /// `RUNWAY_MAX_PAGE_BYTES`, default 4 MiB.
    var maxPageBytes = 4 << 20
    /// How long in-flight requests may take to finish after SIGTERM. `RUNWAY_SHUTDOWN_TIMEOUT`
    /// (seconds), default 25.
    var shutdownTimeoutSeconds = 25
    /// Size of the database connection pool. `RUNWAY_DB_MAX_CONNECTIONS`, default twice the
    /// cores (the database is co-located: more backends than that only queue for the same cores).
    var databaseMaxConnections = 2 * ProcessInfo.processInfo.activeProcessorCount
    /// Longest wait for a database connection and the work on it before a request gets a 503.
    /// `RUNWAY_DB_TIMEOUT_MS`, default 5000.
    var databaseTimeoutMilliseconds = 5000
    /// Connection cap and client timeouts of both listeners (`RUNWAY_MAX_CONNECTIONS`,
    /// `RUNWAY_HEADER_TIMEOUT_MS`, `RUNWAY_IDLE_TIMEOUT_MS`, `RUNWAY_BODY_TIMEOUT_MS`; see
    /// ``ConnectionLimits``).
    var connections = ConnectionLimits()
    /// Look-ups per second of API keys this instance has not cached (requests with made-up keys
    /// reach the database no faster). `RUNWAY_KEY_LOOKUPS_PER_SECOND`, default 200.
    var keyLookupsPerSecond = 200
    /// How often per-tenant request counts are written to the database. `RUNWAY_USAGE_FLUSH_SECONDS`,
    /// default 5.
    var usageFlushSeconds = 5
    /// Whether the latency histogram keeps the trace id of a kept request per bucket (OpenMetrics
    /// exemplars). `RUNWAY_METRICS_EXEMPLARS`, default 1.
    var metricsExemplars = true
    /// Logs and metrics: log level, `env` and `instance` labels, Loki (`RUNWAY_LOG_LEVEL`,
    /// `RUNWAY_ENV`, `RUNWAY_INSTANCE`, `LOKI_*`, `RUNWAY_LOG_*`; see ``TelemetryConfiguration``).
    var telemetry: TelemetryConfiguration
    /// The cost meter's instance type, vCPUs, price and flush interval (see ``CostSettings``).
    var cost = CostSettings()
    /// Folder holding `initdb` and `pg_ctl` for the embedded database. `RUNWAY_POSTGRES_BIN`,
    /// default: the newest `/usr/lib/postgresql/*/bin`, else ``executableSearchPath``.
    var postgresBinDirectory: String?
    /// Where the embedded database's binaries are looked for last: the folders of `PATH`.
    var executableSearchPath: [String]

    /// The defaults, with the data directory chosen for the current user (`HOME`,
    /// `XDG_DATA_HOME`) and `PATH` taken from `environment`. No other variable is applied.
    init(environment variables: [String: String]) {
        self.init(Environment(variables))
    }

    init(_ environment: Environment) {
        self.dataDirectory = Self.defaultDataDirectory(environment)
        self.executableSearchPath = (environment.string("PATH") ?? "").split(separator: ":").map(String.init)
        self.telemetry = TelemetryConfiguration(instance: ProcessInfo.processInfo.hostName)
    }

    static func defaultDataDirectory(_ environment: Environment) -> String {
        if getuid() == 0 { return "/var/lib/runway" }
        if let xdg = environment.string("XDG_DATA_HOME") { return xdg + "/runway" }
        let home = environment.string("HOME") ?? NSHomeDirectory()
        return home + "/.local/share/runway"
    }
}

extension RunwayConfiguration {
    /// Minimum log level (`RUNWAY_LOG_LEVEL`, `--log-level`).
    var logLevel: Logger.Level {
        get { telemetry.logLevel }
        set { telemetry.logLevel = newValue }
    }

    /// The address a listener binds for `host`. The name `localhost` binds 127.0.0.1, not the
    /// first address the name resolves to (`::1` on a stock Debian 12, 127.0.0.1 elsewhere), so
    /// that where Runway listens does not depend on the machine's `/etc/hosts`, and the URL it
    /// prints works for clients that connect to either.
    static func bindAddress(_ host: String) -> String {
        host.lowercased() == "localhost" ? "127.0.0.1" : host
    }
}
