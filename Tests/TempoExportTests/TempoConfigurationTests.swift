import Telemetry
import Testing

@testable import TempoExport

@Suite struct TempoConfigurationTests {
    @Test func noTempoURLMeansNoExport() {
        #expect(TempoConfiguration(environment: [:]) == nil)
        #expect(TempoConfiguration(environment: ["TEMPO_URL": ""]) == nil)
    }

    @Test func defaultsFollowTheOTelBatchSpanProcessor() throws {
        let configuration = try #require(TempoConfiguration(environment: ["TEMPO_URL": "http://tempo:4318"]))
        #expect(configuration.exporter.tracesURL == "http://tempo:4318/v1/traces")
        #expect(configuration.exporter.tenant == nil)
        #expect(configuration.exporter.timeout == .seconds(10))
        #expect(!configuration.exporter.gzip)
        #expect(configuration.batching.maximumBufferEntries == 2048)
        #expect(configuration.batching.maximumBatchEntries == 512)
        #expect(configuration.batching.flushInterval == .seconds(5))
        #expect(configuration.batching.exportTimeout == .seconds(30))
        #expect(configuration.batching.maximumConcurrentExports == 2)
    }

    @Test func everyVariableIsRead() throws {
        let configuration = try #require(
            TempoConfiguration(environment: [
                "TEMPO_URL": "http://tempo:4318/", "TEMPO_TENANT": "runway-prod", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
                "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "500",
                "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BSP_EXPORT_TIMEOUT": "1000", "OTEL_BSP_MAX_CONCURRENT_EXPORTS": "4",
                "RUNWAY_TEMPO_MAX_QUEUE_BYTES": "1048576",
            ])
        )
        #expect(configuration.exporter.tracesURL == "http://tempo:4318/v1/traces")
        #expect(configuration.exporter.tenant == "runway-prod")
        #expect(configuration.exporter.timeout == .milliseconds(2500))
        #expect(configuration.exporter.gzip)
        #expect(configuration.batching.maximumBufferEntries == 100)
        #expect(configuration.batching.maximumBatchEntries == 100)  // never above the queue size
        #expect(configuration.batching.flushInterval == .milliseconds(200))
        #expect(configuration.batching.exportTimeout == .seconds(1))
        #expect(configuration.batching.maximumConcurrentExports == 4)
        #expect(configuration.batching.maximumBufferBytes == 1 << 20)
    }
}
