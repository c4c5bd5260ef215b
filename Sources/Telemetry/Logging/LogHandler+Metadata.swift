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

    /// The same metadata as ``mergedMetadata(of:provided:)``, as pairs sorted by key: for a
    /// handler that writes them in order, without hashing each key into a merged dictionary.
    package func sortedMetadata(of event: LogEvent) -> [MetadataPair] {
        let provided = metadataProvider?.get()
        var pairs: [MetadataPair] = []
        pairs.reserveCapacity(metadata.count + (provided?.count ?? 0) + (event.metadata?.count ?? 0))
        for (key, value) in metadata { pairs.append(MetadataPair(key: key, value: value, source: 0)) }
        if let provided {
            for (key, value) in provided { pairs.append(MetadataPair(key: key, value: value, source: 1)) }
        }
        if let explicit = event.metadata {
            for (key, value) in explicit { pairs.append(MetadataPair(key: key, value: value, source: 2)) }
        }
        // Of equal keys, the later source sorts last: it wins.
        pairs.sort { $0.key == $1.key ? $0.source < $1.source : $0.key < $1.key }
        var kept: [MetadataPair] = []
        kept.reserveCapacity(pairs.count)
        for pair in pairs {
            if kept.last?.key == pair.key { kept[kept.count - 1] = pair } else { kept.append(pair) }
        }
        return kept
    }
}

/// One metadata entry (a struct, not a tuple: sorting tuples looks up their type at run time).
package struct MetadataPair {
    package let key: String
    package let value: Logger.MetadataValue
    /// 0 the handler's, 1 the provider's, 2 the call's.
    let source: UInt8
}
