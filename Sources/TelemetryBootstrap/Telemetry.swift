import AsyncHTTPClient
import Logging
import LokiPush
import Metrics
import ServiceLifecycle
import Telemetry

/// The one entry point `main` calls. Tests never call it: they build handlers and pipelines
/// directly.
public enum Telemetry {
    /// Bootstraps swift-metrics (Prometheus) and swift-log — to Loki through the batching pipeline
    /// when ``TelemetryConfiguration/loki`` is set, else JSON lines on stdout — once per process.
    ///
    /// Returns the service that runs the exporters: run it first in the app's `ServiceGroup`, so it
    /// stops last and flushes what the other services logged on their way out.
    public static func bootstrap(
        _ configuration: TelemetryConfiguration,
        metadataProvider: Logger.MetadataProvider? = nil
    ) throws(SettingError) -> TelemetryService {
        // Metrics first: the pipelines' counters take their handles from the bootstrapped factory.
        let metrics = MetricsExposition()
        MetricsSystem.bootstrap(metrics.factory)
        let level = configuration.logLevel
        guard let loki = configuration.loki else {
            LoggingSystem.bootstrap(
                { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
                metadataProvider: metadataProvider
            )
            return TelemetryService(metrics: metrics, logs: nil, client: nil)
        }
        let client = exportClient()
        let pipelines = LokiPipelines(configuration: lokiPipelines(loki), client: client)
        let sink = try lokiSink(configuration, loki: loki) { pipelines.enqueue($0) }
        LoggingSystem.bootstrap(
            { label, provider in
                var handler = LokiLogHandler(label: label, sink: sink, metadataProvider: provider)
                handler.logLevel = level
                return handler
            },
            metadataProvider: metadataProvider
        )
        return TelemetryService(metrics: metrics, logs: pipelines, client: client)
    }

    /// The HTTP client of the exporters: never traced, so telemetry's own pushes make no spans
    /// (no feedback loop), whatever tracer is bootstrapped.
    static func exportClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// The Loki pipelines' settings for `loki`.
    public static func lokiPipelines(_ loki: TelemetryConfiguration.Loki) -> LokiPipelines<ContinuousClock>.Configuration {
        var pipelines = LokiPipelines<ContinuousClock>.Configuration(baseURL: loki.url, defaultTenant: loki.tenant)
        pipelines.tenantRoutes = loki.tenantRoutes
        pipelines.batching.maximumBufferBytes = loki.bufferBytes
        pipelines.batching.flushInterval = loki.flushInterval
        pipelines.batching.shutdownDeadline = loki.shutdownDeadline
        return pipelines
    }

    /// The sink that renders the fixed stream labels and applies Loki's per-entry limits.
    public static func lokiSink(
        _ configuration: TelemetryConfiguration,
        loki: TelemetryConfiguration.Loki,
        enqueue: @escaping @Sendable (LokiRecord) -> Void
    ) throws(SettingError) -> LokiSink {
        var options = LokiSink.Options(labels: [
            "service_name": configuration.serviceName, "env": configuration.environment, "instance": configuration.instance,
        ])
        options.structuredMetadata = loki.structuredMetadata
        do {
            return try LokiSink(options: options, enqueue: enqueue)
        } catch {
            throw SettingError("RUNWAY_ENV and RUNWAY_INSTANCE become Loki label values: \(error)")
        }
    }
}

/// Runs the exporters' pipelines under the app's `ServiceGroup` and holds what the app serves
/// from them (`/metrics`).
public final class TelemetryService: Service, Sendable {
    public let metrics: MetricsExposition
    /// The Loki pipelines, when logs go to Loki.
    public let logs: LokiPipelines<ContinuousClock>?
    private let client: HTTPClient?

    init(metrics: MetricsExposition, logs: LokiPipelines<ContinuousClock>?, client: HTTPClient?) {
        self.metrics = metrics
        self.logs = logs
        self.client = client
    }

    public func run() async throws {
        if let logs {
            await logs.run()
        } else {
            try? await gracefulShutdown()
        }
        try await client?.shutdown()
    }
}
