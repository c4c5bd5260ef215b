import AsyncHTTPClient
import Instrumentation
import Logging
import LokiPush
import Metrics
import ServiceLifecycle
@_spi(Benchmarks) import Telemetry
import TempoExport

/// The one entry point `main` calls. Tests never call it: they build handlers and pipelines
/// directly.
package enum TelemetrySystem {
    /// Bootstraps, once per process: swift-metrics (Prometheus); the tracer, when
    /// ``TelemetryConfiguration/tempo`` is set, with kept spans going to Tempo through the batching
    /// pipeline; and swift-log — to Loki through the batching pipeline when
    /// ``TelemetryConfiguration/loki`` is set, else JSON lines on stdout — with trace and span ids.
    ///
    /// Returns the service that runs the exporters: run it first in the app's `ServiceGroup`, so it
    /// stops last and flushes what the other services logged on their way out.
    package static func bootstrap(
        _ configuration: TelemetryConfiguration,
        metadataProvider: Logger.MetadataProvider? = nil
    ) throws(ConfigurationError) -> TelemetryService {
        // Metrics first: the pipelines' counters take their handles from the bootstrapped factory.
        let metrics = MetricsExposition()
        MetricsSystem.bootstrap(metrics.factory)
        let client = exportClient()

        // Traces: every `withSpan` in any module lands in the tracer, kept spans in the pipeline.
        var spans: BatchingPipeline<TempoExporter, ContinuousClock>? = nil
        if let tempo = configuration.tempo {
            let resource = TempoResource(
                serviceName: configuration.serviceName,
                serviceVersion: configuration.serviceVersion,
                instanceID: configuration.instance,
                environment: configuration.environment
            )
            let pipeline = BatchingPipeline(
                exporter: TempoExporter(client: client, configuration: tempo.exporter, resource: resource),
                configuration: tempo.batching
            )
            let tracer = RunwayTracer(configuration: configuration.tracer) { pipeline.enqueue($0) }
            InstrumentationSystem.bootstrap(tracer)
            metrics.addCollector { text in tracer.counters.snapshot.writeMetrics(into: &text) }
            spans = pipeline
        }

        // Logs, with trace and span ids from the current span.
        let level = configuration.logLevel
        // `multiplex` merges its providers' dictionaries on every line, even for one provider.
        let provider = metadataProvider.flatMap { Logger.MetadataProvider.multiplex([.tracing, $0]) } ?? .tracing
        var logs: LokiPipelines<ContinuousClock>? = nil
        if let loki = configuration.loki {
            let pipelines = LokiPipelines(configuration: lokiPipelines(loki), client: client)
            let sink = try lokiSink(configuration, loki: loki) { pipelines.enqueue($0) }
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = LokiLogHandler(label: label, sink: sink, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                },
                metadataProvider: provider
            )
            logs = pipelines
        } else {
            LoggingSystem.bootstrap(
                { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
                metadataProvider: provider
            )
            if let writer = JSONLineOutput.standardOutput.writer {
                metrics.addCollector { text in writer.snapshot.writeMetrics(into: &text) }
            }
        }
        return TelemetryService(
            metrics: metrics,
            logs: logs,
            spans: spans,
            client: client,
            stdoutShutdownDeadline: configuration.loki == nil ? configuration.stdoutShutdownDeadline : nil
        )
    }

    /// The HTTP client of the exporters: never traced, so telemetry's own pushes make no spans
    /// (no feedback loop), whatever tracer is bootstrapped.
    static func exportClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// The Loki pipelines' settings for `loki`.
    package static func lokiPipelines(_ loki: TelemetryConfiguration.Loki) -> LokiPipelines<ContinuousClock>.Configuration {
        var pipelines = LokiPipelines<ContinuousClock>.Configuration(baseURL: loki.url, defaultTenant: loki.tenant)
        pipelines.tenantRoutes = loki.tenantRoutes
        pipelines.batching.maximumBufferBytes = loki.bufferBytes
        pipelines.batching.flushInterval = loki.flushInterval
        pipelines.batching.shutdownDeadline = loki.shutdownDeadline
        return pipelines
    }

    /// The sink that renders the fixed stream labels and applies Loki's per-entry limits.
    package static func lokiSink(
        _ configuration: TelemetryConfiguration,
        loki: TelemetryConfiguration.Loki,
        enqueue: @escaping @Sendable (LokiRecord) -> Void
    ) throws(ConfigurationError) -> LokiSink {
        var options = LokiSink.Options(labels: [
            "service_name": configuration.serviceName, "env": configuration.environment, "instance": configuration.instance,
        ])
        options.structuredMetadata = loki.structuredMetadata
        do {
            return try LokiSink(options: options, enqueue: enqueue)
        } catch {
            throw ConfigurationError("RUNWAY_ENV and RUNWAY_INSTANCE become Loki label values: \(error)")
        }
    }
}

/// Runs the exporters' pipelines under the app's `ServiceGroup` and holds what the app serves
/// from them (`/metrics`).
package final class TelemetryService: Service, Sendable {
    package let metrics: MetricsExposition
    /// The Loki pipelines, when logs go to Loki.
    package let logs: LokiPipelines<ContinuousClock>?
    /// The span pipeline, when spans go to Tempo.
    package let spans: BatchingPipeline<TempoExporter, ContinuousClock>?
    private let client: HTTPClient
    /// With logs on standard output: how long the last lines may take to be written at shutdown.
    private let stdoutShutdownDeadline: Duration?

    init(
        metrics: MetricsExposition,
        logs: LokiPipelines<ContinuousClock>?,
        spans: BatchingPipeline<TempoExporter, ContinuousClock>?,
        client: HTTPClient,
        stdoutShutdownDeadline: Duration?
    ) {
        self.metrics = metrics
        self.logs = logs
        self.spans = spans
        self.client = client
        self.stdoutShutdownDeadline = stdoutShutdownDeadline
    }

    /// Runs the pipelines until graceful shutdown, when each makes its final flush within its
    /// deadline; then closes the exporters' HTTP client.
    package func run() async throws {
        await withDiscardingTaskGroup { group in
            if let logs { group.addTask { await logs.run() } }
            if let spans { group.addTask { await spans.run() } }
            if logs == nil && spans == nil { group.addTask { try? await gracefulShutdown() } }
        }
        try await client.shutdown()
        if let deadline = stdoutShutdownDeadline, let writer = JSONLineOutput.standardOutput.writer {
            await writer.drain(timeout: deadline)
        }
    }
}
