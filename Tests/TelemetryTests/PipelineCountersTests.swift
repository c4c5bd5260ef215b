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
}
