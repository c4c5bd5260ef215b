import Telemetry

/// Span export settings: where to send and how to batch. The app reads them from these
/// variables:
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
}
