import HTTPServerTesting
import Hummingbird
import ServiceLifecycle
import Telemetry
import TelemetryTesting
import Testing

@testable import LokiPush

/// One pipeline per Loki tenant: its own share of the buffer, its own retries.
@Suite struct LokiPipelinesTests {
    static func record(_ line: String, tenant: String?) throws -> LokiRecord {
        LokiRecord(
            labels: try LokiLabels(["service_name": "runway", "level": "info"]),
            entry: LokiEntry(
                timestampNanoseconds: 1_764_158_400_000_000_000,
                line: line,
                metadata: tenant.map { [("tenant", $0)] } ?? []
            )
        )
    }

    static func configuration(port: Int = 9) -> LokiPipelines<TestClock>.Configuration {
        var configuration = LokiPipelines<TestClock>.Configuration(baseURL: "http://127.0.0.1:\(port)", defaultTenant: "shared")
        configuration.tenantRoutes = ["t-slow": "org-slow", "t-fast": "org-fast", "t-fast-too": "org-fast"]
        configuration.batching.maximumBufferBytes = 3 * share  // three Loki tenants
        configuration.batching.maximumBatchBytes = 1 << 20
        configuration.batching.flushInterval = .seconds(3600)
        return configuration
    }

    @Test func recordsGoToTheirLokiTenantEachWithAShareOfTheBuffer() throws {
        let pipelines = LokiPipelines(configuration: Self.configuration(), clock: TestClock())
        #expect(pipelines.pipelines.map(\.tenant) == ["shared", "org-fast", "org-slow"])
        let byTenant = Dictionary(uniqueKeysWithValues: pipelines.pipelines.map { ($0.tenant, $0.pipeline) })
        #expect(pipelines.pipeline(for: try Self.record("a", tenant: "t-slow")) === byTenant["org-slow"])
        #expect(pipelines.pipeline(for: try Self.record("b", tenant: "t-fast-too")) === byTenant["org-fast"])
        #expect(pipelines.pipeline(for: try Self.record("c", tenant: "someone-else")) === byTenant["shared"])
        #expect(pipelines.pipeline(for: try Self.record("d", tenant: nil)) === byTenant["shared"])
    }

    @Test func aRateLimitedLokiTenantNeitherDelaysNorDropsAnothersLines() async throws {
        // org-slow is rate-limited for an hour; the others are accepted.
        let loki = MisbehavingLoki(byTenant: ["org-slow": .init(status: 429, retryAfter: "3600")])
        let clock = TestClock()
        let app = Application(router: loki.router)
        let pipelines = try await withLoopbackServer(app) { port in
            var configuration = Self.configuration(port: port)
            configuration.batching.maximumBatchBytes = 10 * Self.recordSize  // ten records a batch
            let pipelines = LokiPipelines(configuration: configuration, clock: clock)
            let fastPipeline = try #require(pipelines.pipelines.first { $0.tenant == "org-fast" }).pipeline
            try await withRunningService(pipelines) {
                // Ten lines for the slow tenant: one batch, answered 429, then waiting an hour.
                for i in 0..<10 { pipelines.enqueue(try Self.record(Self.line("s", i), tenant: "t-slow")) }
                try await #expect(loki.pushes.next().status == 429)
                // It keeps logging, far beyond its share: its oldest lines are dropped.
                for i in 10..<60 { pipelines.enqueue(try Self.record(Self.line("s", i), tenant: "t-slow")) }
                // Meanwhile the fast tenant's lines go out at once, batch after batch (a batch is
                // ten records; the flush timer never fires here).
                for batch in 0..<3 {
                    for i in 0..<10 { pipelines.enqueue(try Self.record(Self.line("f", batch * 10 + i), tenant: "t-fast")) }
                    try await waitUntil("batch \(batch + 1) of the fast tenant to be sent") {
                        fastPipeline.counters.snapshot.sent >= (batch + 1) * 10
                    }
                }
            }
            return pipelines
        }
        let byTenant = Dictionary(uniqueKeysWithValues: pipelines.pipelines.map { ($0.tenant, $0.pipeline.counters.snapshot) })
        let fast = try #require(byTenant["org-fast"])
        #expect(fast == .init(enqueued: 30, sent: 30, buffered: 0, dropped: [:]))
        let delivered = loki.all.filter { $0.tenant == "org-fast" }.flatMap(\.lines)
        #expect(delivered == (0..<30).map { Self.line("f", $0) })
        let slow = try #require(byTenant["org-slow"])
        #expect(slow.enqueued == 60 && slow.sent == 0 && slow.isBalanced)
        // 50 lines arrived while ten were in flight; its share of the buffer holds ten.
        #expect(slow.dropped[.bufferFull] == 40)
        // At shutdown the in-flight ten and the buffered ten cannot wait an hour: `shutdown`.
        #expect(slow.dropped[.shutdown] == 20)
        #expect(pipelines.snapshot.isBalanced)
        #expect(loki.all.allSatisfy { $0.tenant != "shared" })
    }

    /// A record's size as the buffer counts it (the memory it holds): all records here have a
    /// 7-byte line and one `tenant` metadata pair of 5 or 6 bytes.
    static let recordSize = try! record(line("s", 0), tenant: "t-slow").bufferedBytes

    /// Each Loki tenant's share of the buffer: room for ten records, not eleven.
    static let share = 10 * recordSize + recordSize / 2

    /// Seven bytes (`s-00001`), so the byte arithmetic is exact.
    static func line(_ prefix: String, _ index: Int) -> String {
        let digits = String(index)
        return prefix + "-" + String(repeating: "0", count: 5 - digits.count) + digits
    }
}
