import Foundation
import NIOCore
@_spi(Benchmarks) import Telemetry
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Standard output's writer over real pipes: lines arrive whole and in order; a stalled or closed
/// pipe never blocks the caller, and every line is written, buffered or dropped and counted.
@Suite struct LineWriterTests {
    static func pipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        guard Glibc.pipe(&descriptors) == 0 else { throw POSIXError(.EIO) }
        return (descriptors[0], descriptors[1])
    }

    static func line(_ index: Int, width: Int = 20) -> [UInt8] {
        Array("line \(index) ".utf8) + Array(repeating: UInt8(ascii: "x"), count: width) + [0x0A]
    }

    @Test func linesArriveWholeAndInOrder() throws {
        let (readEnd, writeEnd) = try Self.pipe()
        defer { close(readEnd) }
        let writer = LineWriter(descriptor: writeEnd, capacity: 1 << 20)
        let expected = (0..<500).map { Self.line($0) }
        for line in expected { writer.write(line) }
        #expect(writer.flush(timeout: .seconds(30)))
        #expect(writer.snapshot == LineWriter.Counts(written: 500))
        close(writeEnd)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while case let count = read(readEnd, &buffer, buffer.count), count > 0 { received += buffer[0..<count] }
        #expect(received == expected.flatMap { $0 })
    }

    @Test func aStalledPipeDropsAndCountsInsteadOfBlocking() throws {
        let (readEnd, writeEnd) = try Self.pipe()
        defer {
            close(readEnd)  // unblocks the writer's thread (EPIPE) once the test is done
            close(writeEnd)
        }
        let writer = LineWriter(descriptor: writeEnd, capacity: 4096)
        // Fill the pipe nobody reads (64 KiB) until the writer's thread is stuck in write(2).
        var sent = 0
        var stalled = false
        for _ in 0..<200 where !stalled {
            for _ in 0..<15 {
                writer.write(Self.line(sent, width: 190))
                sent += 1
            }
            stalled = !writer.flush(timeout: .seconds(1))
        }
        #expect(stalled, "the pipe never filled")
        // Now the buffer (4 KiB, about 20 lines) fills and the rest is dropped; no call waits.
        let before = writer.snapshot
        for _ in 0..<100 {
            writer.write(Self.line(sent, width: 190))
            sent += 1
        }
        let after = writer.snapshot
        #expect(after.droppedFull - before.droppedFull >= 80)
        #expect(after.written + after.droppedFull + after.droppedClosed + after.buffered == sent)
    }

    @Test func aClosedPipeDropsAndCountsEveryLineAndNeverKillsTheProcess() throws {
        let (readEnd, writeEnd) = try Self.pipe()
        defer { close(writeEnd) }
        close(readEnd)
        let writer = LineWriter(descriptor: writeEnd)
        for index in 0..<10 { writer.write(Self.line(index)) }
        #expect(!writer.flush(timeout: .seconds(30)))
        for index in 10..<15 { writer.write(Self.line(index)) }
        #expect(writer.snapshot == LineWriter.Counts(droppedClosed: 15))
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_764_627_303.123_4, "2025-12-01T22:15:03.123Z"),
        (951_825_599.999, "2000-02-29T11:59:59.999Z"),
        (4_107_542_400.0, "2100-03-01T00:00:00.000Z"),
        (-1.0, "1969-12-31T23:59:59.000Z"),
    ])
    func timestampsAreRFC3339InUTCWithMilliseconds(seconds: Double, expected: String) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { memory in
            var line = LineBytes(memory)
            line.appendTimestamp(Date(timeIntervalSince1970: seconds))
            #expect(String(decoding: line.written, as: UTF8.self) == expected)
        }
    }

    /// A line longer than the memory it was lent moves to the heap whole.
    @Test func aLineLongerThanItsMemoryMovesToTheHeapWhole() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8) { memory in
            var line = LineBytes(memory)
            defer { line.deallocate() }
            line.appendJSONString("abc")
            line.appendJSONString("needs \"escapes\"\n")
            line.appendJSONString(String(repeating: "y", count: 100))
            #expect(line.count == 5 + 21 + 102)
            #expect(
                String(decoding: line.written, as: UTF8.self) == #""abc""needs \"escapes\"\n""#
                    + "\"\(String(repeating: "y", count: 100))\""
            )
        }
    }
}
