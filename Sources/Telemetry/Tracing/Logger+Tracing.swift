import Instrumentation
import Logging

extension Logger.MetadataProvider {
    /// Adds `trace_id` and `span_id` of the current span (the task-local `ServiceContext`) to
    /// every log line written inside it, so log lines and traces link both ways.
    ///
    /// ```swift
    /// LoggingSystem.bootstrap({ label, provider in ... }, metadataProvider: .tracing)
    /// ```
    package static let tracing = Logger.MetadataProvider {
        guard let spanContext = ServiceContext.current?.spanContext else { return [:] }
        return [
            "trace_id": .string(spanContext.traceID.description),
            "span_id": .string(spanContext.spanID.description),
        ]
    }
}
