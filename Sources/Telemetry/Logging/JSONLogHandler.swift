import Foundation
import Logging
import NIOCore
import Synchronization

/// One JSON object per line on stdout, for when no `LOKI_URL` is set: the same fields the Loki
/// pipeline sends (time, level, logger, message and metadata), readable by any log shipper.
public struct JSONLogHandler: LogHandler {
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
        let merged = mergedMetadata(of: event)
        var line = ByteBuffer()
        line.writeString(#"{"time":"#)
        line.writeJSONString(Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
        line.writeString(#","level":"#)
        line.writeJSONString(event.level.rawValue)
        line.writeString(#","logger":"#)
        line.writeJSONString(label)
        line.writeString(#","msg":"#)
        line.writeJSONString(event.message.description)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line.writeString(",")
            line.writeJSONString(key)
            line.writeString(":")
            line.writeJSONString("\(value)")
        }
        if let error = event.error {
            line.writeString(#","error":"#)
            line.writeJSONString(String(describing: error))
        }
        line.writeString("}\n")
        output.write(line)
    }
}

/// Where JSON lines go; whole lines are written under a lock so lines never interleave.
public final class JSONLineOutput: Sendable {
    private let standardOutput = Mutex<FileHandle>(FileHandle.standardOutput)
    private let lines = Mutex<[String]>([])
    private let capturing: Bool

    public static let standardOutput = JSONLineOutput(capturing: false)

    /// `capturing: true` keeps lines in memory instead (tests).
    public init(capturing: Bool) {
        self.capturing = capturing
    }

    public var captured: [String] { lines.withLock { $0 } }

    public func write(_ line: ByteBuffer) {
        if capturing {
            lines.withLock { $0.append(String(buffer: line)) }
        } else {
            standardOutput.withLock { $0.write(Data(line.readableBytesView)) }
        }
    }
}

extension ByteBuffer {
    /// Writes `string` as a JSON string literal, escaping what RFC 8259 requires.
    public mutating func writeJSONString(_ string: String) {
        writeInteger(UInt8(ascii: "\""))
        var start = string.utf8.startIndex
        var index = start
        let utf8 = string.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                writeString(String(utf8[start..<index])!)
                switch byte {
                case UInt8(ascii: "\""): writeString("\\\"")
                case UInt8(ascii: "\\"): writeString("\\\\")
                case 0x0A: writeString("\\n")
                case 0x0D: writeString("\\r")
                case 0x09: writeString("\\t")
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
                index = utf8.index(after: index)
                start = index
            } else {
                index = utf8.index(after: index)
            }
        }
        writeString(String(utf8[start..<index])!)
        writeInteger(UInt8(ascii: "\""))
    }
}
