import Testing

@testable import Telemetry

@Suite struct BoundedBufferTests {
    @Test func theOldestEntriesMakeRoomAndBytesStayWithinCapacity() {
        var buffer = BoundedBuffer<Int>(capacityBytes: 100)
        for i in 0..<10 { #expect(buffer.append(i, size: 10) == 0) }
        #expect(buffer.bytes == 100)
        #expect(buffer.append(10, size: 25) == 3)
        #expect(buffer.bytes == 95)
        #expect(buffer.removeFirstBatch()?.entries == [3, 4, 5, 6, 7, 8, 9, 10])
        #expect(buffer.isEmpty && buffer.bytes == 0)
    }

    @Test func anEntryLargerThanTheBufferIsRefusedWithoutDroppingOthers() {
        var buffer = BoundedBuffer<String>(capacityBytes: 10)
        _ = buffer.append("a", size: 5)
        #expect(buffer.append("huge", size: 11) == nil)
        #expect(buffer.count == 1)
    }

    @Test func batchesAreCutAsEntriesArriveWithinTheirByteLimitAndAlwaysTakeOneEntry() {
        var buffer = BoundedBuffer<Int>(capacityBytes: 1000, batchBytes: 70)
        for (i, size) in [30, 30, 30, 200, 10].enumerated() { _ = buffer.append(i, size: size) }
        #expect(buffer.hasFullBatch)
        #expect(buffer.removeFirstBatch(onlyFull: true)?.entries == [0, 1])
        #expect(buffer.removeFirstBatch(onlyFull: true)?.entries == [2])
        #expect(buffer.removeFirstBatch(onlyFull: true)?.entries == [3])
        // The last batch is open and not full: only a flush takes it.
        #expect(!buffer.hasFullBatch)
        #expect(buffer.removeFirstBatch(onlyFull: true) == nil)
        #expect(buffer.removeAll() == [4])
    }

    @Test func aBatchIsFullAtItsEntryLimitAndTheNextEntryOpensAnother() {
        var buffer = BoundedBuffer<Int>(capacityBytes: 1000, batchEntries: 2)
        _ = buffer.append(0, size: 1)
        #expect(!buffer.hasFullBatch)
        _ = buffer.append(1, size: 1)
        #expect(buffer.hasFullBatch)
        _ = buffer.append(2, size: 1)
        #expect(buffer.removeFirstBatch()?.entries == [0, 1])
        #expect(buffer.removeFirstBatch()?.entries == [2])
        #expect(buffer.removeFirstBatch() == nil)
    }

    @Test func droppingTheOldestEmptiesBatchesFromTheFrontAndKeepsCountsExact() {
        var buffer = BoundedBuffer<Int>(capacityBytes: 5, batchEntries: 2)
        for i in 0..<5 { #expect(buffer.append(i, size: 1) == 0) }
        #expect(buffer.append(5, size: 3) == 3)  // 0, 1 (a whole batch), then 2
        #expect(buffer.count == 3 && buffer.bytes == 5)
        #expect(buffer.removeFirstBatch()?.entries == [3])
        #expect(buffer.removeFirstBatch()?.entries == [4, 5])
        #expect(buffer.isEmpty && buffer.bytes == 0)
    }

    @Test func batchesPutBackComeOutFirstInTheirOrderWithTheirSizes() {
        var buffer = BoundedBuffer<Int>(capacityBytes: 1000, batchEntries: 2)
        for i in 0..<3 { _ = buffer.append(i, size: 10) }
        let first = buffer.removeFirstBatch()!
        _ = buffer.append(3, size: 10)
        buffer.prepend([BoundedBuffer.Batch(entries: [9], sizes: [7]), first])
        #expect(buffer.count == 5 && buffer.bytes == 47)
        #expect(buffer.removeFirstBatch()?.entries == [9])
        #expect(buffer.removeFirstBatch()?.entries == [0, 1])
        #expect(buffer.removeFirstBatch()?.entries == [2, 3])
    }
}
