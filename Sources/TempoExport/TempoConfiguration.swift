import Telemetry

/// Span export settings read from the environment: where to send and how to batch.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `TEMPO_URL` | OTLP/HTTP base URL; unset means no span export | — |
/// | `TEMPO_TENANT` | `X-Scope-OrgID` | none |
/// | `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT` | one request, ms | 10000 |
/// | `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION` | `gzip` or `none` | none |
/// | `OTEL_BSP_MAX_QUEUE_SIZE` | spans buffered; the oldest are dropped past it | 2048 |
/// | `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | spans per request; a full batch leaves at once | 512 |
/// | `OTEL_BSP_SCHEDULE_DELAY` | longest wait before a partial batch leaves, ms | 5000 |
/// | `OTEL_BSP_EXPORT_TIMEOUT` | one batch, retries included, ms | 30000 |
/// | `OTEL_BSP_MAX_CONCURRENT_EXPORTS` | requests in flight | 2 |
/// | `RUNWAY_TEMPO_MAX_QUEUE_BYTES` | bytes buffered (a second bound) | 64 MiB |
///
/// Batches are also capped at 16 MiB of encoded spans (under the 20 MiB body limit of Tempo's
/// OTLP receiver) and requests at 64 MiB.
public struct TempoConfiguration: Sendable, Equatable {
    public var exporter: TempoExporter.Configuration
    public var batching: BatchingConfiguration

    public init(exporter: TempoExporter.Configuration, batching: BatchingConfiguration = TempoConfiguration.defaultBatching) {
        self.exporter = exporter
        self.batching = batching
    }

    /// The OTel batch span processor's defaults, bounded in bytes as well.
    public static var defaultBatching: BatchingConfiguration {
        var batching = BatchingConfiguration()
        batching.maximumBufferEntries = 2048
        batching.maximumBatchEntries = 512
        batching.flushInterval = .milliseconds(5000)
        batching.exportTimeout = .milliseconds(30000)
        batching.maximumConcurrentExports = 2
        batching.maximumBufferBytes = 64 << 20
        batching.maximumBatchBytes = 16 << 20
        return batching
    }

    /// Reads the variables in the table above; nil when `TEMPO_URL` is unset or empty.
    /// Unparsable numbers keep their defaults.
    public init?(environment: [String: String]) {
        guard let url = environment["TEMPO_URL"], !url.isEmpty else { return nil }
        func milliseconds(_ names: String...) -> Duration? {
            for name in names {
                if let value = environment[name].flatMap({ Int64($0) }), value > 0 { return .milliseconds(value) }
            }
            return nil
        }
        func count(_ name: String) -> Int? {
            environment[name].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        }
        let tenant = environment["TEMPO_TENANT"].flatMap { $0.isEmpty ? nil : $0 }
        var exporter = TempoExporter.Configuration(baseURL: url, tenant: tenant)
        if let timeout = milliseconds("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT") {
            exporter.timeout = timeout
        }
        let compression =
            environment["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"] ?? environment["OTEL_EXPORTER_OTLP_COMPRESSION"]
        exporter.gzip = compression?.lowercased() == "gzip"
        var batching = Self.defaultBatching
        if let value = count("OTEL_BSP_MAX_QUEUE_SIZE") { batching.maximumBufferEntries = value }
        if let value = count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") { batching.maximumBatchEntries = value }
        // The spec: the batch size may not exceed the queue size.
        batching.maximumBatchEntries = min(batching.maximumBatchEntries ?? 512, batching.maximumBufferEntries ?? 2048)
        if let value = milliseconds("OTEL_BSP_SCHEDULE_DELAY") { batching.flushInterval = value }
        if let value = milliseconds("OTEL_BSP_EXPORT_TIMEOUT") { batching.exportTimeout = value }
        if let value = count("OTEL_BSP_MAX_CONCURRENT_EXPORTS") { batching.maximumConcurrentExports = value }
        if let value = count("RUNWAY_TEMPO_MAX_QUEUE_BYTES") { batching.maximumBufferBytes = value }
        self.init(exporter: exporter, batching: batching)
    }
}
