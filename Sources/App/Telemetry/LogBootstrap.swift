import AsyncHTTPClient
import Foundation
import Logging
import LokiPush
import ServiceLifecycle
import Telemetry

/// Sets up swift-log for `runway serve`, once per process: to Loki through the batching
/// pipeline when `LOKI_URL` is set, else as JSON lines on stdout.
enum LogBootstrap {
    /// Returns the service that drains the Loki pipeline (run it first in the `ServiceGroup`, so
    /// it stops last and flushes what the others logged), or nil when logs go to stdout.
    static func bootstrap(configuration: RunwayConfiguration) throws -> (any Service)? {
        let level = configuration.logLevel
        guard let url = configuration.lokiURL else {
            LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
            return nil
        }
        let sink: LokiSink
        let pipeline = makeLokiPipeline(configuration: configuration, url: url)
        var options = LokiSink.Options(labels: [
            "service_name": "runway", "env": configuration.environmentName, "instance": configuration.instanceName,
        ])
        options.structuredMetadata = configuration.lokiStructuredMetadata
        do {
            sink = try LokiSink(options: options) { record in pipeline.enqueue(record, size: record.size) }
        } catch {
            throw ConfigurationError(description: "RUNWAY_ENV and RUNWAY_INSTANCE become Loki label values: \(error)")
        }
        LoggingSystem.bootstrap { label in
            var handler = LokiLogHandler(label: label, sink: sink)
            handler.logLevel = level
            return handler
        }
        return pipeline
    }

    static func makeLokiPipeline(configuration: RunwayConfiguration, url: String) -> BatchingPipeline<LokiExporter, ContinuousClock> {
        let exporter = LokiExporter(client: .shared, configuration: .init(baseURL: url, tenant: configuration.lokiTenant))
        var batching = BatchingConfiguration()
        batching.maximumBufferBytes = configuration.logBufferBytes
        return BatchingPipeline(exporter: exporter, configuration: batching)
    }
}
