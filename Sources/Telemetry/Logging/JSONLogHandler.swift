import Foundation
import Logging
import Synchronization

/// One JSON object per line on stdout, for when no `LOKI_URL` is set: the same fields the Loki
/// pipeline sends (time, level, logger, message and metadata), readable by any log shipper.
@_spi(Benchmarks) public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: JSONLineOutput

    public init(
        label: String,
        level: Logger.Level,
        output: JSONLineOutput = .standardOutput,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = level
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Most lines fit in 1 KiB of the stack (an access line is about 400 bytes); a longer one
        // moves to the heap as it grows.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { memory in
            var line = LineBytes(memory)
            defer { line.deallocate() }
            line.append(#"{"time":""#)
            line.appendTimestamp(.now)
            line.append(#"","level":"#)
            line.appendJSONString(event.level.rawValue)
            line.append(#","logger":"#)
            line.appendJSONString(label)
            line.append(#","msg":"#)
            line.appendJSONString(event.message.description)
            forEachSortedMetadata(of: event) { key, value in
                line.append(UInt8(ascii: ","))
                line.appendJSONString(key)
                line.append(UInt8(ascii: ":"))
                switch value {
                case .string(let text): line.appendJSONString(text)
                case let other: line.appendJSONString(other.description)
                }
            }
            if let error = event.error {
                line.append(#","error":"#)
                line.appendJSONString(String(describing: error))
            }
            line.append("}\n")
            output.write(line.written)
        }
    }
}

/// Where JSON lines go: standard output through a ``LineWriter`` (whole lines, never
/// interleaved; never blocking the caller), or memory (tests).
@_spi(Benchmarks) public final class JSONLineOutput: Sendable {
    /// Nil when capturing.
    package let writer: LineWriter?
    private let lines = Mutex<[String]>([])

    /// Standard output, written by a thread of its own.
    public static let standardOutput = JSONLineOutput(writer: LineWriter())

    /// `capturing: true` keeps lines in memory instead (tests); false writes to standard output
    /// through the process's one writer (each ``LineWriter`` runs a thread of its own).
    package convenience init(capturing: Bool) {
        self.init(writer: capturing ? nil : JSONLineOutput.standardOutput.writer)
    }

    public init(writer: LineWriter?) {
        self.writer = writer
    }

    package var captured: [String] { lines.withLock { $0 } }

    package func write(_ line: UnsafeRawBufferPointer) {
        if let writer {
            writer.write(line)
        } else {
            lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
        }
    }
}
