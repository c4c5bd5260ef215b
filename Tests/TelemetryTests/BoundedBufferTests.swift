import Testing

@testable import Telemetry

@Suite struct BoundedBufferTests {
    @Test func theOldestEntriesMakeRoomAndBytesStayWithinCapacity() {
        var buffer = BoundedBuffer<Int>(capacityBytes: 100)
        for i in 0..<10 { #expect(buffer.append(i, size: 10) == 0) }
        #expect(buffer.bytes == 100)
        #expect(buffer.append(10, size: 25) == 3)
        #expect(buffer.bytes == 95)
        #expect(buffer.removeBatch(maxBytes: 1000) == [3, 4, 5, 6, 7, 8, 9, 10])
        #expect(buffer.isEmpty && buffer.bytes == 0)
    }

    @Test func anEntryLargerThanTheBufferIsRefusedWithoutDroppingOthers() {
        var buffer = BoundedBuffer<String>(capacityBytes: 10)
        _ = buffer.append("a", size: 5)
        #expect(buffer.append("huge", size: 11) == nil)
        #expect(buffer.count == 1)
    }

    @Test func batchesRespectTheirByteLimitButAlwaysTakeOneEntry() {
        var buffer = BoundedBuffer<Int>(capacityBytes: 1000)
        for (i, size) in [30, 30, 30, 200, 10].enumerated() { _ = buffer.append(i, size: size) }
        #expect(buffer.removeBatch(maxBytes: 70) == [0, 1])
        #expect(buffer.removeBatch(maxBytes: 70) == [2])
        #expect(buffer.removeBatch(maxBytes: 70) == [3])
        #expect(buffer.removeAll() == [4])
    }
}
