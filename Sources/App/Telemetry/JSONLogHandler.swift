import Foundation
import Logging
import NIOCore
import Synchronization

/// One JSON object per line on stdout, for when no `LOKI_URL` is set: the same fields the Loki
/// pipeline sends (time, level, logger, message and metadata), readable by any log shipper.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: JSONLineOutput

    init(label: String, level: Logger.Level, output: JSONLineOutput = .standardOutput, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.output = output
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
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
final class JSONLineOutput: Sendable {
    private let standardOutput = Mutex<FileHandle>(FileHandle.standardOutput)
    private let lines = Mutex<[String]>([])
    private let capturing: Bool

    static let standardOutput = JSONLineOutput(capturing: false)

    /// `capturing: true` keeps lines in memory instead (tests).
    init(capturing: Bool) {
        self.capturing = capturing
    }

    var captured: [String] { lines.withLock { $0 } }

    func write(_ line: ByteBuffer) {
        if capturing {
            lines.withLock { $0.append(String(buffer: line)) }
        } else {
            standardOutput.withLock { $0.write(Data(line.readableBytesView)) }
        }
    }
}
