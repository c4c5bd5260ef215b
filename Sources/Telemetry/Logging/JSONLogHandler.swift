import Foundation
import Logging
import NIOCore
import Synchronization

/// One JSON object per line on stdout, for when no `LOKI_URL` is set: the same fields the Loki
/// pipeline sends (time, level, logger, message and metadata), readable by any log shipper.
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: JSONLineOutput

    package init(
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

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var line = ByteBufferAllocator().buffer(capacity: 512)
        line.writeString(#"{"time":""#)
        line.writeTimestamp(.now)
        line.writeString("\"")
        line.writeString(#","level":"#)
        line.writeJSONString(event.level.rawValue)
        line.writeString(#","logger":"#)
        line.writeJSONString(label)
        line.writeString(#","msg":"#)
        line.writeJSONString(event.message.description)
        for pair in sortedMetadata(of: event) {
            line.writeString(",")
            line.writeJSONString(pair.key)
            line.writeString(":")
            switch pair.value {
            case .string(let text): line.writeJSONString(text)
            case let other: line.writeJSONString(other.description)
            }
        }
        if let error = event.error {
            line.writeString(#","error":"#)
            line.writeJSONString(String(describing: error))
        }
        line.writeString("}\n")
        output.write(line)
    }
}

/// Where JSON lines go: standard output through a ``LineWriter`` (whole lines, never
/// interleaved; never blocking the caller), or memory (tests).
package final class JSONLineOutput: Sendable {
    /// Nil when capturing.
    package let writer: LineWriter?
    private let lines = Mutex<[String]>([])

    /// Standard output, written by a thread of its own.
    package static let standardOutput = JSONLineOutput(writer: LineWriter())

    /// `capturing: true` keeps lines in memory instead (tests); false writes to standard output
    /// through the process's one writer (each ``LineWriter`` runs a thread of its own).
    package convenience init(capturing: Bool) {
        self.init(writer: capturing ? nil : JSONLineOutput.standardOutput.writer)
    }

    package init(writer: LineWriter?) {
        self.writer = writer
    }

    package var captured: [String] { lines.withLock { $0 } }

    package func write(_ line: ByteBuffer) {
        if let writer {
            writer.write(line.readableBytesView)
        } else {
            lines.withLock { $0.append(String(buffer: line)) }
        }
    }
}

extension ByteBuffer {
    /// Writes `time` as RFC 3339 in UTC with milliseconds (`2026-12-01T22:15:03.123Z`), without
    /// Foundation's formatters (this runs for every log line).
    package mutating func writeTimestamp(_ time: Date) {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days to civil date (Howard Hinnant's algorithm, proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        writeDigits(year, 4)
        writeInteger(UInt8(ascii: "-"))
        writeDigits(month, 2)
        writeInteger(UInt8(ascii: "-"))
        writeDigits(day, 2)
        writeInteger(UInt8(ascii: "T"))
        writeDigits(secondOfDay / 3600, 2)
        writeInteger(UInt8(ascii: ":"))
        writeDigits(secondOfDay / 60 % 60, 2)
        writeInteger(UInt8(ascii: ":"))
        writeDigits(secondOfDay % 60, 2)
        writeInteger(UInt8(ascii: "."))
        writeDigits(milliseconds - seconds * 1000, 3)
        writeInteger(UInt8(ascii: "Z"))
    }

    /// `value` in decimal, zero-padded to `width` digits (its last `width` digits if longer).
    private mutating func writeDigits(_ value: Int64, _ width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            writeInteger(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
