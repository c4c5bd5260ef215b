extension LokiExporter {
    /// Loki's validation reason for a 400, from its message text (`pkg/validation/validate.go`).
    static func reasonClass(of message: String) -> String {
        let text = message.lowercased()
        let classes: [(needle: String, reason: String)] = [
            ("max entry size", "line_too_long"), ("line too long", "line_too_long"),
            ("timestamp too old", "greater_than_max_sample_age"), ("timestamp too new", "too_far_in_future"),
            ("too far behind", "too_far_behind"), ("out of order", "out_of_order"),
            ("structured metadata", "structured_metadata"), ("label names", "max_label_names_per_series"),
            ("error parsing labels", "invalid_labels"), ("invalid label", "invalid_labels"),
            ("duplicate label", "duplicate_label_names"), ("missing labels", "missing_labels"),
        ]
        return classes.first { text.contains($0.needle) }?.reason ?? "other"
    }
}
