import Prometheus
import Testing

@testable import Telemetry

@Suite struct PipelineCountersTests {
    @Test func everyMoveKeepsTheInvariant() {
        let counters = PipelineCounters()
        counters.enqueued(10)
        #expect(counters.snapshot.buffered == 10)
        counters.sent(4)
        counters.dropped(3, reason: .bufferFull)
        counters.refused(2, reason: .tooLarge)
        let snapshot = counters.snapshot
        #expect(snapshot.enqueued == 12)
        #expect(snapshot.sent == 4)
        #expect(snapshot.buffered == 3)
        #expect(snapshot.dropped == [.bufferFull: 3, .tooLarge: 2])
        #expect(snapshot.isBalanced)
    }

    @Test func concurrentProducersAndSendersStayBalanced() async {
        let counters = PipelineCounters()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in 0..<1000 {
                        counters.enqueued()
                        if i % 3 == 0 { counters.sent(1) } else if i % 3 == 1 { counters.dropped(1, reason: DropReason("r\(worker % 2)")) }
                        #expect(counters.snapshot.isBalanced)
                    }
                }
            }
        }
        let snapshot = counters.snapshot
        #expect(snapshot.enqueued == 8000)
        #expect(snapshot.isBalanced)
        #expect(snapshot.buffered == 8 * 333)
    }

    @Test func theCountersAreExportedAsMetricsThatBalanceToo() throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        // Two pipelines of one name (two Loki tenants, say) add up.
        let first = PipelineCounters(pipeline: "logs", factory: factory)
        let second = PipelineCounters(pipeline: "logs", factory: factory)
        first.enqueued(10)
        second.enqueued(5)
        first.sent(4)
        first.dropped(3, reason: .bufferFull)
        second.dropped(2, reason: .rejected("line_too_long"))
        second.refused(1, reason: .tooLarge)
        first.exported(.delivered, duration: .milliseconds(3))
        first.exported(.retryable(retryAfter: nil), duration: .milliseconds(5))
        let text = registry.emitToString()
        let values = Dictionary(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line -> (String, Double) in
                let parts = line.split(separator: " ")
                return (String(parts[0]), Double(parts[1])!)
            },
            uniquingKeysWith: { $1 }
        )
        #expect(values[#"runway_telemetry_enqueued_total{pipeline="logs"}"#] == 16)
        #expect(values[#"runway_telemetry_sent_total{pipeline="logs"}"#] == 4)
        #expect(values[#"runway_telemetry_buffered{pipeline="logs"}"#] == 6)
        #expect(values[#"runway_telemetry_dropped_total{pipeline="logs",reason="buffer_full",class=""}"#] == 3)
        #expect(values[#"runway_telemetry_dropped_total{pipeline="logs",reason="rejected",class="line_too_long"}"#] == 2)
        #expect(values[#"runway_telemetry_dropped_total{pipeline="logs",reason="too_large",class=""}"#] == 1)
        #expect(values[#"runway_telemetry_export_requests_total{pipeline="logs",outcome="delivered"}"#] == 1)
        #expect(values[#"runway_telemetry_export_requests_total{pipeline="logs",outcome="retryable"}"#] == 1)
        #expect(values[#"runway_telemetry_export_duration_seconds_count{pipeline="logs"}"#] == 2)
        let snapshots = [first.snapshot, second.snapshot]
        #expect(snapshots.map(\.enqueued).reduce(0, +) == 16)
        #expect(snapshots.map(\.buffered).reduce(0, +) == 6)
    }
}
