/// One environment variable of Runway's configuration: its command-line flag, if any, its default
/// as the README's configuration table words it, and what it sets.
struct ConfigurationVariable: Sendable, Equatable {
    let name: String
    let flag: String?
    let defaultValue: String
    let meaning: String

    init(_ name: String, flag: String? = nil, _ defaultValue: String, _ meaning: String) {
        self.name = name
        self.flag = flag
        self.defaultValue = defaultValue
        self.meaning = meaning
    }
}

extension RunwayConfiguration {
    /// Every variable ``apply(_:)`` reads, in the order of the README's configuration table, which
    /// lists exactly these, each with this default (`ConfigurationTests` checks both ways).
    static let variables: [ConfigurationVariable] = [
        .init("RUNWAY_HOST", flag: "--host", "`127.0.0.1`", "address of the tenant API listener"),
        .init("RUNWAY_PORT", flag: "--port", "`8080`", "port of the tenant API (0: any free port)"),
        .init("RUNWAY_ADMIN_HOST", flag: "--admin-host", "`127.0.0.1`", "address of the admin listener"),
        .init("RUNWAY_ADMIN_PORT", flag: "--admin-port", "`8081`", "port of the admin API (0: any free port)"),
        .init("RUNWAY_DATA_DIR", flag: "--data-dir", "`/var/lib/runway` as root", "embedded database and generated admin token"),
        .init("DATABASE_URL", flag: "--database-url", "unset: embedded PostgreSQL", "the service role's PostgreSQL URL"),
        .init("RUNWAY_MIGRATION_DATABASE_URL", "unset", "the schema owner's URL, for migrations"),
        .init("RUNWAY_ALLOW_REMOTE_DB", "`0`", "allow a database host that is not loopback or a Unix socket"),
        .init("RUNWAY_ADMIN_TOKEN", "generated into `<data dir>/admin-token`", "bearer token of the admin API"),
        .init("RUNWAY_MAX_DOCUMENT_BYTES", flag: "--max-document-bytes", "`1048576`", "largest document body"),
        .init("RUNWAY_MAX_PAGE_BYTES", "`4194304`", "most document text in one page of a listing or search"),
        .init("RUNWAY_SHUTDOWN_TIMEOUT", flag: "--shutdown-timeout", "`25`", "seconds a graceful stop may take"),
        .init("RUNWAY_DB_MAX_CONNECTIONS", "twice the cores", "database connections, split among the event loops"),
        .init("RUNWAY_DB_TIMEOUT_MS", "`5000`", "longest wait for the database before a 503"),
        .init("RUNWAY_MAX_CONNECTIONS", "`4096`", "open connections per listener"),
        .init("RUNWAY_HEADER_TIMEOUT_MS", "`10000`", "time for a new connection's first request head"),
        .init("RUNWAY_IDLE_TIMEOUT_MS", "`60000`", "time for a kept-alive connection's next request head"),
        .init("RUNWAY_BODY_TIMEOUT_MS", "`30000`", "time for a request's body after its head"),
        .init("RUNWAY_KEY_LOOKUPS_PER_SECOND", "`200`", "database look-ups a second of uncached API keys"),
        .init("RUNWAY_USAGE_FLUSH_SECONDS", "`5`", "how often per-tenant request counts are written"),
        .init("RUNWAY_INSTANCE_TYPE", "`c7g.large`", "instance type the cost meter prices"),
        .init("RUNWAY_VCPUS", "the type's (2)", "vCPUs of this deployment"),
        .init("RUNWAY_PRICE_MICROS_PER_HOUR", "the type's", "instance price in micro-dollars per hour"),
        .init("RUNWAY_COST_METER", "`1`", "`0` meters nothing: only to measure the meter's own cost"),
        .init("RUNWAY_COST_FLUSH_SECONDS", "`10`", "how often cost ledger buckets are written (divides 60)"),
        .init("RUNWAY_LOG_LEVEL", flag: "--log-level", "`info`", "minimum log level"),
        .init("RUNWAY_POSTGRES_BIN", "newest `/usr/lib/postgresql/*/bin`", "where `initdb` and `pg_ctl` are"),
        .init("LOKI_URL", "unset: JSON lines on stdout", "Loki's base URL"),
        .init("LOKI_TENANT", "unset: no header", "`X-Scope-OrgID` sent to Loki"),
        .init("LOKI_TENANT_MAP", "unset", "a Runway tenant's lines go to its own Loki tenant"),
        .init("LOKI_STRUCTURED_METADATA", "`1`", "`0` for Loki before 2.9: metadata as logfmt in the line"),
        .init("RUNWAY_LOG_BUFFER_BYTES", "`8388608`", "memory held by log lines while Loki is slow or down"),
        .init("RUNWAY_LOG_FLUSH_MS", "`1000`", "longest a log line waits before its batch is pushed"),
        .init("RUNWAY_LOG_SHUTDOWN_MS", "`5000`", "time for the final log flush at shutdown"),
        .init("TEMPO_URL", "unset: no tracer", "OTLP/HTTP base URL for spans"),
        .init("TEMPO_TENANT", "unset: no header", "`X-Scope-OrgID` sent to Tempo"),
        .init("OTEL_TRACES_SAMPLER_ARG", "`1`", "head-sampling ratio for new traces"),
        .init("RUNWAY_TRACE_SLOW_THRESHOLD_MS", "`500`", "a trace whose local root is this slow is kept"),
        .init("RUNWAY_TRACE_KEEP_ERRORS", "`1`", "a trace with an error span is kept"),
        .init("RUNWAY_TRACE_MAX_HELD_SPANS", "`8192`", "ended spans of undecided traces held in memory"),
        .init("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "`128`", "attributes per span"),
        .init("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "`2048`", "bytes of a string attribute value"),
        .init("OTEL_SPAN_EVENT_COUNT_LIMIT", "`128`", "events per span"),
        .init("OTEL_SPAN_LINK_COUNT_LIMIT", "`128`", "links per span"),
        .init("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "`128`", "attributes per span event"),
        .init("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "`128`", "attributes per span link"),
        .init("RUNWAY_METRICS_EXEMPLARS", "`1`", "latency exemplars with trace ids on `/metrics`"),
        .init("OTEL_BSP_MAX_QUEUE_SIZE", "`2048`", "spans held for export"),
        .init("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "`512`", "spans per export request"),
        .init("OTEL_BSP_SCHEDULE_DELAY", "`5000`", "longest wait in milliseconds before a partial batch leaves"),
        .init("OTEL_BSP_EXPORT_TIMEOUT", "`30000`", "milliseconds one batch may take, retries included"),
        .init("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "`2`", "span requests in flight"),
        .init("RUNWAY_TEMPO_MAX_QUEUE_BYTES", "`67108864`", "bytes of spans held for export"),
        .init("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "`10000`", "milliseconds one span request may take"),
        .init("OTEL_EXPORTER_OTLP_TIMEOUT", "`10000`", "the same, when the former is unset"),
        .init("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "`none`", "`gzip` compresses span requests"),
        .init("OTEL_EXPORTER_OTLP_COMPRESSION", "`none`", "the same, when the former is unset"),
        .init("RUNWAY_ENV", "`dev`", "the `env` label of log streams"),
        .init("RUNWAY_INSTANCE", "the host name", "this instance's name in logs and the cost ledger"),
    ]

    /// Variables of the system read only for defaults, not settings of Runway's own: `HOME` and
    /// `XDG_DATA_HOME` (the data directory), `PATH` (the embedded database's binaries).
    static let systemVariables: Set<String> = ["HOME", "XDG_DATA_HOME", "PATH"]
}
