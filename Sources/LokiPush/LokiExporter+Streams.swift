extension LokiExporter {
    /// Groups records into streams (in order of first appearance), sorts each stream by time, and
    /// moves equal timestamps apart by a nanosecond so no two entries of a stream share one.
    /// Deterministic: a retried batch is encoded to the same bytes, which Loki de-duplicates.
    static func streams(_ batch: [LokiRecord]) -> [LokiStream] {
        // A batch has a handful of streams (one per level, say): a linear search of them costs
        // less than hashing each record's label string, and records of one handler share the
        // label string's storage, so comparing them is cheap.
        var streams: [LokiStream] = []
        var last = -1
        for record in batch {
            if last < 0 || streams[last].labels != record.labels {
                last = streams.firstIndex { $0.labels == record.labels } ?? -1
                if last < 0 {
                    streams.append(LokiStream(labels: record.labels, entries: []))
                    last = streams.count - 1
                }
            }
            streams[last].entries.append(record.entry)
        }
        for index in streams.indices { orderTimestamps(&streams[index].entries) }
        return streams
    }

    /// Sorts entries by time, keeping arrival order among equals, then makes times strictly
    /// increasing. Entries usually arrive in order: then nothing is sorted.
    static func orderTimestamps(_ entries: inout [LokiEntry]) {
        let inOrder = zip(entries, entries.dropFirst()).allSatisfy { $0.timestampNanoseconds <= $1.timestampNanoseconds }
        if !inOrder {
            entries = entries.enumerated().sorted {
                ($0.element.timestampNanoseconds, $0.offset) < ($1.element.timestampNanoseconds, $1.offset)
            }.map(\.element)
        }
        for index in entries.indices.dropFirst() where entries[index].timestampNanoseconds <= entries[index - 1].timestampNanoseconds {
            entries[index].timestampNanoseconds = entries[index - 1].timestampNanoseconds + 1
        }
    }
}
