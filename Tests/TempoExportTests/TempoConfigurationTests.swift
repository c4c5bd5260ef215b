import Telemetry
import Testing

@testable import TempoExport

@Suite struct TempoConfigurationTests {
    @Test func defaultsFollowTheOTelBatchSpanProcessor() throws {
        // The variables are read by the app (AppTests.ConfigurationTests): these are the values it
        // starts from.
        let configuration = TempoConfiguration(exporter: .init(baseURL: "http://tempo:4318"))
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
}
