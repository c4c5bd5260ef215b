import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Log lines for a file descriptor (standard output), written by a thread of their own.
///
/// A caller copies its line into a bounded buffer under a lock and returns: no system call, and no
/// wait on the descriptor. The thread writes what has gathered every few milliseconds. While the
/// descriptor is stalled (a full pipe nobody reads) the buffer fills and further lines are dropped
/// and counted; once it is closed (`EPIPE`) or fails, every line is dropped and counted. The process
/// never blocks on its standard output, and never dies of it (`SIGPIPE` is ignored).
@_spi(Benchmarks) public final class LineWriter: @unchecked Sendable {
    // Every field below is touched only while `condition` is locked.
    private let condition = NSCondition()
    private var buffer: [UInt8] = []
    private var counts = Counts()
    private var broken = false
    private var flushRequested = false

    private let descriptor: Int32
    /// Bytes the buffer holds at most; a line that does not fit is dropped.
    package let capacity: Int
    private let interval: TimeInterval

    /// What happened to the lines so far.
    package struct Counts: Sendable, Equatable {
        package var written = 0
        /// The buffer was full (the descriptor is slow or stalled).
        package var droppedFull = 0
        /// The descriptor is closed or failed.
        package var droppedClosed = 0
        package var buffered = 0

        package init(written: Int = 0, droppedFull: Int = 0, droppedClosed: Int = 0, buffered: Int = 0) {
            self.written = written
            self.droppedFull = droppedFull
            self.droppedClosed = droppedClosed
            self.buffered = buffered
        }
    }

    /// - Parameters:
    ///   - descriptor: where lines go; default standard output.
    ///   - capacity: bytes buffered at most while the descriptor is slow; default 1 MiB.
    ///   - interval: how often the thread writes what has gathered; default 10 ms.
    public init(descriptor: Int32 = STDOUT_FILENO, capacity: Int = 1 << 20, interval: Duration = .milliseconds(10)) {
        self.descriptor = descriptor
        self.capacity = capacity
        self.interval = Double(interval.components.seconds) + Double(interval.components.attoseconds) * 1e-18
        signal(SIGPIPE, SIG_IGN)
        let thread = Thread { [self] in run() }
        thread.name = "log-writer"
        thread.start()
    }

    /// Queues one whole line (its bytes, newline included); drops and counts it if it cannot be
    /// written.
    package func write(_ line: some Collection<UInt8>) {
        condition.lock()
        defer { condition.unlock() }
        if broken {
            counts.droppedClosed += 1
        } else if buffer.count + line.count > capacity {
            counts.droppedFull += 1
        } else {
            buffer.append(contentsOf: line)
            counts.buffered += 1
        }
    }

    package var snapshot: Counts {
        condition.lock()
        defer { condition.unlock() }
        return counts
    }

    /// Writes what is buffered now, waiting at most `timeout`; true when everything was written
    /// (false when the descriptor stalled or failed, or `timeout` passed).
    @discardableResult
    package func flush(timeout: Duration = .seconds(5)) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18)
        condition.lock()
        defer { condition.unlock() }
        flushRequested = true
        condition.broadcast()
        while counts.buffered > 0 && !broken {
            guard condition.wait(until: deadline) else { break }
        }
        return counts.buffered == 0 && !broken
    }

    /// ``flush(timeout:)`` from async code: the wait happens on a thread of its own, never on the
    /// cooperative pool (the descriptor may be stalled).
    @discardableResult
    package func drain(timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.flush(timeout: timeout)) }
        }
    }

    private func run() {
        var chunk: [UInt8] = []
        while true {
            condition.lock()
            while buffer.isEmpty && !flushRequested {
                _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
            }
            flushRequested = false
            swap(&chunk, &buffer)
            let lines = counts.buffered
            condition.unlock()

            let written = writeAll(chunk)
            chunk.removeAll(keepingCapacity: true)

            condition.lock()
            counts.buffered -= lines
            if written {
                counts.written += lines
            } else {
                broken = true
                counts.droppedClosed += lines + counts.buffered
                counts.buffered = 0
                buffer.removeAll()
            }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Writes `bytes` whole, retrying after signals and short writes; false on any other failure.
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let result = systemWrite(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += result
            }
            return true
        }
    }
}

/// write(2), named apart from ``LineWriter/write(_:)``.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
