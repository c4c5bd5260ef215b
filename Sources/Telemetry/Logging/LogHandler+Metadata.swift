import Logging

extension LogHandler {
    /// One event's metadata as swift-log specifies: the handler's, then its metadata provider's,
    /// then the call's own, later ones winning.
    public func mergedMetadata(of event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        return merged
    }
}
