import Foundation
import Logging
import Telemetry
import TelemetryBootstrap
import TempoExport

extension TelemetryConfiguration {
    /// Logs (`RUNWAY_ENV`, `RUNWAY_INSTANCE`, `RUNWAY_LOG_*`, `LOKI_*`), spans (``TempoConfiguration``)
    /// and sampling (``TracerConfiguration``).
    mutating func apply(_ reader: Environment) throws(ConfigurationError) {
        if let v = reader.string("RUNWAY_ENV") { environment = v }
        if let v = reader.string("RUNWAY_INSTANCE") { instance = v }
        let levels = Dictionary(uniqueKeysWithValues: Logger.Level.allCases.map { ($0.rawValue, $0) })
        if let v = try reader.choice("RUNWAY_LOG_LEVEL", levels) { logLevel = v }
        if let v = try TempoConfiguration.read(reader) { tempo = v }
        try tracer.apply(reader)
        let shutdown = try reader.milliseconds("RUNWAY_LOG_SHUTDOWN_MS", in: 0...300_000)
        if let shutdown { stdoutShutdownDeadline = shutdown }
        if let url = try reader.baseURL("LOKI_URL", example: "http://127.0.0.1:3100") { loki = Loki(url: url) }
        guard var loki else { return }
        if let v = reader.string("LOKI_TENANT") { loki.tenant = v }
        if let v = reader.string("LOKI_TENANT_MAP") { loki.tenantRoutes = try Self.parseRoutes(v) }
        if let v = try reader.flag("LOKI_STRUCTURED_METADATA") { loki.structuredMetadata = v }
        if let v = try reader.integer("RUNWAY_LOG_BUFFER_BYTES", in: (64 << 10)...(1 << 30)) { loki.bufferBytes = v }
        if let v = try reader.milliseconds("RUNWAY_LOG_FLUSH_MS", in: 10...60_000) { loki.flushInterval = v }
        if let shutdown { loki.shutdownDeadline = shutdown }
        self.loki = loki
    }

    /// `a=x,b=y` → `["a": "x", "b": "y"]`.
    static func parseRoutes(_ text: String) throws(ConfigurationError) -> [String: String] {
        var routes: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, routes[parts[0]] == nil else {
                throw Environment.refusal("LOKI_TENANT_MAP", text, "<tenant id>=<Loki tenant>,… with each tenant once")
            }
            routes[parts[0]] = parts[1]
        }
        return routes
    }
}

extension TempoConfiguration {
    /// The span export settings; nil when `TEMPO_URL` is unset. The other variables are checked
    /// either way. Counts and milliseconds are whole numbers in 1...Int32.max, as the
    /// OpenTelemetry SDKs take them.
    static func read(_ reader: Environment) throws(ConfigurationError) -> TempoConfiguration? {
        let positive = 1...Int(Int32.max)
        let url = try reader.baseURL("TEMPO_URL", example: "http://127.0.0.1:4318")
        let tenant = reader.string("TEMPO_TENANT")
        // The traces-specific variable wins over the general one; both are checked.
        let tracesTimeout = try reader.milliseconds("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", in: positive)
        let timeout = try reader.milliseconds("OTEL_EXPORTER_OTLP_TIMEOUT", in: positive)
        let compressions = ["gzip": true, "none": false]
        let tracesGzip = try reader.choice("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", compressions)
        let gzip = try reader.choice("OTEL_EXPORTER_OTLP_COMPRESSION", compressions)
        var batching = defaultBatching
        batching.name = "spans"
        if let v = try reader.integer("OTEL_BSP_MAX_QUEUE_SIZE", in: positive) { batching.maximumBufferEntries = v }
        if let v = try reader.integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", in: positive) { batching.maximumBatchEntries = v }
        // The specification: the batch size may not exceed the queue size.
        batching.maximumBatchEntries = min(batching.maximumBatchEntries ?? 512, batching.maximumBufferEntries ?? 2048)
        if let v = try reader.milliseconds("OTEL_BSP_SCHEDULE_DELAY", in: positive) { batching.flushInterval = v }
        if let v = try reader.milliseconds("OTEL_BSP_EXPORT_TIMEOUT", in: positive) { batching.exportTimeout = v }
        if let v = try reader.integer("OTEL_BSP_MAX_CONCURRENT_EXPORTS", in: positive) { batching.maximumConcurrentExports = v }
        if let v = try reader.integer("RUNWAY_TEMPO_MAX_QUEUE_BYTES", in: positive) { batching.maximumBufferBytes = v }
        guard let url else { return nil }
        var exporter = TempoExporter.Configuration(baseURL: url, tenant: tenant)
        if let v = tracesTimeout ?? timeout { exporter.timeout = v }
        exporter.gzip = tracesGzip ?? gzip ?? false
        return TempoConfiguration(exporter: exporter, batching: batching)
    }
}

extension TracerConfiguration {
    /// Sampling (`OTEL_TRACES_SAMPLER_ARG`, `RUNWAY_TRACE_*`) and span limits (`OTEL_*_LIMIT`).
    mutating func apply(_ reader: Environment) throws(ConfigurationError) {
        if let v = try reader.number("OTEL_TRACES_SAMPLER_ARG", in: 0...1) { sampleRatio = v }
        let slow = "RUNWAY_TRACE_SLOW_THRESHOLD_MS"
        if let raw = reader.string(slow) {
            if raw.lowercased() == "off" {
                slowThreshold = nil
            } else if let milliseconds = Int(raw), (0...3_600_000).contains(milliseconds) {
                slowThreshold = .milliseconds(milliseconds)
            } else {
                throw Environment.refusal(slow, raw, "a whole number in 0...3600000, or off")
            }
        }
        if let v = try reader.flag("RUNWAY_TRACE_KEEP_ERRORS") { keepErrors = v }
        let count = 0...Int(Int32.max)
        if let v = try reader.integer("RUNWAY_TRACE_MAX_HELD_SPANS", in: count) { maximumHeldSpans = v }
        if let v = try reader.integer("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", in: count) { limits.attributeCount = v }
        if let v = try reader.integer("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", in: count) { limits.attributeValueLength = v }
        if let v = try reader.integer("OTEL_SPAN_EVENT_COUNT_LIMIT", in: count) { limits.eventCount = v }
        if let v = try reader.integer("OTEL_SPAN_LINK_COUNT_LIMIT", in: count) { limits.linkCount = v }
        if let v = try reader.integer("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", in: count) { limits.attributesPerEvent = v }
        if let v = try reader.integer("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", in: count) { limits.attributesPerLink = v }
    }
}
