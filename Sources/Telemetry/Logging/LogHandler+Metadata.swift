import Logging

extension LogHandler {
    /// One event's metadata as swift-log specifies: the handler's, then its metadata provider's,
    /// then the call's own, later ones winning.
    /// `provided` is the metadata provider's, when the caller has already asked it.
    package func mergedMetadata(of event: LogEvent, provided: Logger.Metadata? = nil) -> Logger.Metadata {
        var merged = metadata
        if let provided = provided ?? metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        return merged
    }
}
