import Logging

extension LogHandler {
    /// One event's metadata as swift-log specifies: the handler's, then its metadata provider's,
    /// then the call's own, later ones winning.
    /// `provided` is the metadata provider's, when the caller has already asked it.
    package func mergedMetadata(of event: LogEvent, provided: Logger.Metadata? = nil) -> Logger.Metadata {
        // Assigned one by one: `Dictionary.merge` is generic over the sequence merged in, and its
        // unspecialised path looks up type metadata at run time on every access line.
        var merged = metadata
        let provided = provided ?? metadataProvider?.get()
        // Room for all at once: growing twice rehashes twice.
        merged.reserveCapacity(metadata.count + (provided?.count ?? 0) + (event.metadata?.count ?? 0))
        if let provided {
            for (key, value) in provided { merged[key] = value }
        }
        if let explicit = event.metadata {
            for (key, value) in explicit { merged[key] = value }
        }
        return merged
    }

    /// The same metadata as ``mergedMetadata(of:provided:)``, each key once with the value that
    /// wins, handed to `body` in key order: for a handler that writes it in order, without hashing
    /// each key into a merged dictionary.
    package func forEachSortedMetadata(of event: LogEvent, _ body: (String, Logger.MetadataValue) -> Void) {
        let provided = metadataProvider?.get()
        let count = metadata.count + (provided?.count ?? 0) + (event.metadata?.count ?? 0)
        // On the stack for the usual few dozen pairs: no array per line.
        withUnsafeTemporaryAllocation(of: MetadataPair.self, capacity: count) { pairs in
            var filled = 0
            defer { _ = pairs[..<filled].deinitialize() }
            func add(_ source: Logger.Metadata?) {
                for (key, value) in source ?? [:] {
                    pairs.initializeElement(at: filled, to: MetadataPair(key: key, value: value))
                    filled += 1
                }
            }
            // In swift-log's order of precedence, so that of equal keys the later one wins.
            add(metadata)
            add(provided)
            add(event.metadata)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { order in
                // A stable insertion sort of the pairs' positions: a few dozen at most, and
                // no pair copied.
                for next in 0..<count {
                    var slot = next
                    while slot > 0, pairs[next].key < pairs[order[slot - 1]].key {
                        order[slot] = order[slot - 1]
                        slot -= 1
                    }
                    order[slot] = next
                }
                for position in 0..<count {
                    let pair = pairs[order[position]]
                    // Of equal keys, the last (the winner) is the one written.
                    if position + 1 < count, pairs[order[position + 1]].key == pair.key { continue }
                    body(pair.key, pair.value)
                }
            }
        }
    }
}

/// One metadata entry (a struct, not a tuple: sorting tuples looks up their type at run time).
struct MetadataPair {
    let key: String
    let value: Logger.MetadataValue
}
