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
}
