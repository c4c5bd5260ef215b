import Foundation
import Logging
import Telemetry
import TempoExport

/// What ``TelemetrySystem/bootstrap(_:metadataProvider:)`` sets up: where logs go, and how they are
/// labelled and batched. Every setting has a documented default and an environment variable.
package struct TelemetryConfiguration: Sendable, Equatable {
    /// `service_name` of every log stream (and, later, span resource). Default `runway`.
    package var serviceName = "runway"
    /// The `env` label. `RUNWAY_ENV`, default `dev`.
    package var environment = "dev"
    /// The `instance` label. `RUNWAY_INSTANCE`, default the host name.
    package var instance = ProcessInfo.processInfo.hostName
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

    package init() {}

    /// The defaults with the environment's settings applied.
    package init(environment: [String: String]) throws(SettingError) {
        try apply(environment: environment)
    }

    package mutating func apply(environment variables: [String: String]) throws(SettingError) {
        let environment = EnvironmentReader(variables)
        if let v = environment.string("RUNWAY_ENV") { self.environment = v }
        if let v = environment.string("RUNWAY_INSTANCE") { instance = v }
        if let v = try environment.choice(
            "RUNWAY_LOG_LEVEL",
            Dictionary(uniqueKeysWithValues: Logger.Level.allCases.map { ($0.rawValue, $0) })
        ) {
            logLevel = v
        }
        try OTelEnvironment.validate(environment)
        if try environment.baseURL("TEMPO_URL", example: "http://127.0.0.1:4318") != nil {
            tempo = TempoConfiguration(environment: variables)
            tempo?.batching.name = "spans"
        }
        tracer = TracerConfiguration(environment: variables)
        let shutdown = try environment.integer("RUNWAY_LOG_SHUTDOWN_MS", in: 0...300_000).map { Duration.milliseconds($0) }
        if let shutdown { stdoutShutdownDeadline = shutdown }
        if let url = try environment.baseURL("LOKI_URL", example: "http://127.0.0.1:3100") { loki = Loki(url: url) }
        guard var loki else { return }
        if let v = environment.string("LOKI_TENANT") { loki.tenant = v }
        if let v = environment.string("LOKI_TENANT_MAP") { loki.tenantRoutes = try Self.parseRoutes(v) }
        if let v = try environment.flag("LOKI_STRUCTURED_METADATA") { loki.structuredMetadata = v }
        if let v = try environment.integer("RUNWAY_LOG_BUFFER_BYTES", in: (64 << 10)...(1 << 30)) { loki.bufferBytes = v }
        if let v = try environment.integer("RUNWAY_LOG_FLUSH_MS", in: 10...60_000) { loki.flushInterval = .milliseconds(v) }
        if let shutdown { loki.shutdownDeadline = shutdown }
        self.loki = loki
    }

    /// `a=x,b=y` → `["a": "x", "b": "y"]`.
    static func parseRoutes(_ text: String) throws(SettingError) -> [String: String] {
        var routes: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, routes[parts[0]] == nil else {
                throw SettingError("LOKI_TENANT_MAP=\(text) is not a list of <tenant id>=<Loki tenant> pairs, each tenant once")
            }
            routes[parts[0]] = parts[1]
        }
        return routes
    }
}
