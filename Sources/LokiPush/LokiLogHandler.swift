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

    public func log(event: LogEvent) {
        let provided = metadataProvider?.get()
        var pairs: [(name: String, value: String)] = []
        if metadata.isEmpty && provided?.isEmpty ?? true {
            // The usual case, only the call's own metadata: no merged copy of the dictionary.
            let explicit = event.metadata ?? [:]
            pairs.reserveCapacity(explicit.count + 4)
            for (key, value) in explicit { pairs.append((key, Self.render(value))) }
        } else {
            let merged = mergedMetadata(of: event, provided: provided)
            pairs.reserveCapacity(merged.count + 4)
            for (key, value) in merged { pairs.append((key, Self.render(value))) }
        }
        // Sorted by the keys as given (they are unique), then renamed in place: one array.
        pairs.sort { $0.name < $1.name }
        for index in pairs.indices where !LokiLabels.isValidName(pairs[index].name) {
            pairs[index].name = Self.metadataName(pairs[index].name)
        }
        pairs.append(("logger", label))
        pairs.append(("source", event.source))
        pairs.append(("location", Self.location(file: event.file, line: event.line)))
        if let error = event.error { pairs.append(("error", String(describing: error))) }
        sink.write(level: event.level, message: event.message.description, metadata: pairs)
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
