import Logging
import Telemetry
import TempoExport

/// What ``TelemetrySystem/bootstrap(_:metadataProvider:)`` sets up: where logs go, and how they are
/// labelled and batched. Plain values: the app reads them from the environment (its
/// `RunwayConfiguration`, which names each variable and its default).
package struct TelemetryConfiguration: Sendable, Equatable {
    /// `service_name` of every log stream (and, later, span resource). Default `runway`.
    package var serviceName = "runway"
    /// The `env` label. `RUNWAY_ENV`, default `dev`.
    package var environment = "dev"
    /// The `instance` label. `RUNWAY_INSTANCE`, default the host name.
    package var instance: String
    /// Minimum log level. `RUNWAY_LOG_LEVEL`, default `info`.
    package var logLevel: Logger.Level = .info
    /// Where logs go: Loki when set, else JSON lines on stdout.
    package var loki: Loki?
    /// Without Loki: how long the last lines on stdout may take to be written at shutdown (what is
    /// left is dropped and counted). `RUNWAY_LOG_SHUTDOWN_MS`, default 5 s, as Loki's final flush.
    package var stdoutShutdownDeadline: Duration = .seconds(5)
    /// Where spans go (`TEMPO_URL`, `TEMPO_TENANT`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_*`); unset
    /// means no tracer is installed. See ``TempoConfiguration``.
    package var tempo: TempoConfiguration?
    /// Sampling (`OTEL_TRACES_SAMPLER_ARG`, `RUNWAY_TRACE_SLOW_THRESHOLD_MS`,
    /// `RUNWAY_TRACE_KEEP_ERRORS`) and span limits (`OTEL_SPAN_*`). See ``TracerConfiguration``.
    package var tracer = TracerConfiguration()
    /// `service.version` of the span resource.
    package var serviceVersion = "0.1.0"

    package struct Loki: Sendable, Equatable {
        /// Loki's base URL. `LOKI_URL`.
        package var url: String
        /// `X-Scope-OrgID` of lines not routed to another Loki tenant. `LOKI_TENANT`; unset sends none.
        package var tenant: String?
        /// Loki tenant per Runway tenant id: `LOKI_TENANT_MAP=<tenant id>=<org id>,…`. Each Loki
        /// tenant gets its own share of the buffer and its own retries. Default none.
        package var tenantRoutes: [String: String] = [:]
        /// Metadata as Loki structured metadata (Loki 2.9+); false appends it to the line as
        /// logfmt. `LOKI_STRUCTURED_METADATA`, default 1.
        package var structuredMetadata = true
        /// Bytes of log lines held while Loki is slow or down, shared among the Loki tenants;
        /// beyond it the oldest are dropped. `RUNWAY_LOG_BUFFER_BYTES`, default 8 MiB.
        package var bufferBytes = 8 << 20
        /// Longest a line waits before its batch is sent. `RUNWAY_LOG_FLUSH_MS`, default 1000.
        package var flushInterval: Duration = .seconds(1)
        /// How long the final flush may take at shutdown. `RUNWAY_LOG_SHUTDOWN_MS`, default 5000.
        package var shutdownDeadline: Duration = .seconds(5)

        package init(url: String) { self.url = url }
    }

    package init(instance: String) { self.instance = instance }
}
