/// One log line bound for Loki: its time (nanoseconds since the epoch), text and structured
/// metadata (request, tenant, trace and span ids, source location: never labels).
public struct LokiEntry: Sendable, Equatable {
    public var timestampNanoseconds: Int64
    public var line: String
    public var metadata: [(name: String, value: String)]

    public init(timestampNanoseconds: Int64, line: String, metadata: [(name: String, value: String)] = []) {
        self.timestampNanoseconds = timestampNanoseconds
        self.line = line
        self.metadata = metadata
    }

    public static func == (lhs: LokiEntry, rhs: LokiEntry) -> Bool {
        lhs.timestampNanoseconds == rhs.timestampNanoseconds && lhs.line == rhs.line
            && lhs.metadata.elementsEqual(rhs.metadata, by: { $0.name == $1.name && $0.value == $1.value })
    }
}

/// The entries of one stream.
@_spi(Benchmarks) public struct LokiStream: Sendable, Equatable {
    @_spi(Benchmarks) public var labels: LokiLabels
    @_spi(Benchmarks) public var entries: [LokiEntry]

    @_spi(Benchmarks) public init(labels: LokiLabels, entries: [LokiEntry]) {
        self.labels = labels
        self.entries = entries
    }
}
