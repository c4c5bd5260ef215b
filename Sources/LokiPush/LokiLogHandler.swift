import Logging
import Telemetry

/// A swift-log `LogHandler` that sends each line to Loki through a ``LokiSink``: level filtering,
/// metadata merged as swift-log specifies (the handler's, then the metadata provider's, then the
/// call's own, later ones winning), the logger's label, source module, file, line and error as
/// structured metadata. Logging never waits on Loki.
public struct LokiLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    private let label: String
    private let sink: LokiSink

    public init(label: String, sink: LokiSink, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Takes what the line needs and hands it to the sink, which renders it (pairs sorted and
    /// named, location, Loki's limits) on the pipeline's task when it can, not on the caller's.
    public func log(event: LogEvent) {
        let provided = metadataProvider?.get()
        // The usual case, only the call's own metadata: no merged copy of the dictionary.
        let metadata =
            metadata.isEmpty && provided?.isEmpty ?? true
            ? event.metadata ?? [:] : mergedMetadata(of: event, provided: provided)
        sink.write(
            LokiSink.Line(
                level: event.level,
                message: event.message.description,
                metadata: metadata,
                logger: label,
                source: event.source,
                file: event.file,
                line: event.line,
                error: event.error.map { String(describing: $0) }
            )
        )
    }

    /// The metadata as Loki's structured metadata: sorted by the keys as given (they are unique),
    /// renamed where a key is not a valid name, then the logger, source, location and error.
    static func pairs(of line: LokiSink.Line) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        pairs.reserveCapacity(line.metadata.count + 4)
        for (key, value) in line.metadata { pairs.append((key, render(value))) }
        pairs.sort { $0.name < $1.name }
        for index in pairs.indices where !LokiLabels.isValidName(pairs[index].name) {
            pairs[index].name = metadataName(pairs[index].name)
        }
        pairs.append(("logger", line.logger))
        pairs.append(("source", line.source))
        pairs.append(("location", location(file: line.file, line: line.line)))
        if let error = line.error { pairs.append(("error", error)) }
        return pairs
    }

    /// `File.swift:42`, built in one string.
    static func location(file: String, line: UInt) -> String {
        let name = fileName(file)
        var text = ""
        text.reserveCapacity(name.utf8.count + 6)
        text += name
        text += ":"
        text += String(line)
        return text
    }

    /// Structured metadata names follow label-name rules: other characters become `_`.
    static func metadataName(_ key: String) -> String {
        if LokiLabels.isValidName(key) { return key }
        var name = String(
            key.unicodeScalars.map { scalar -> Character in
                let v = scalar.value
                let ok = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
                return ok ? Character(scalar) : "_"
            }
        )
        if name.isEmpty || name.first!.isNumber || name.hasPrefix("__") { name = "m_" + name }
        return name
    }

    static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .array, .dictionary: return value.description
        }
    }

    static func fileName(_ path: String) -> Substring {
        // The part after the last "/" (no array of parts); a path ending in "/" as before.
        if let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), path.utf8.index(after: slash) != path.endIndex {
            return path[path.utf8.index(after: slash)...]
        }
        return path.split(separator: "/").last ?? Substring(path)
    }
}
