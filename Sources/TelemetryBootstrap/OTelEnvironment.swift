/// The OpenTelemetry variables that `TempoConfiguration` and `TracerConfiguration` read. The
/// OpenTelemetry SDKs ignore a value they cannot use; Runway refuses it instead, with a message
/// naming the variable, as it does for every other setting.
enum OTelEnvironment {
    static func validate(_ environment: EnvironmentReader) throws(SettingError) {
        for name in [
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT",
            "OTEL_BSP_MAX_CONCURRENT_EXPORTS", "RUNWAY_TEMPO_MAX_QUEUE_BYTES",
        ] {
            _ = try environment.integer(name, in: 1...Int(Int32.max))
        }
        for name in ["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"] {
            _ = try environment.choice(name, ["gzip": true, "none": false])
        }
        _ = try environment.number("OTEL_TRACES_SAMPLER_ARG", in: 0...1)
        if environment.string("RUNWAY_TRACE_SLOW_THRESHOLD_MS")?.lowercased() != "off" {
            _ = try environment.integer("RUNWAY_TRACE_SLOW_THRESHOLD_MS", in: 0...3_600_000)
        }
        _ = try environment.flag("RUNWAY_TRACE_KEEP_ERRORS")
        for name in [
            "RUNWAY_TRACE_MAX_HELD_SPANS", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "OTEL_SPAN_EVENT_COUNT_LIMIT", "OTEL_SPAN_LINK_COUNT_LIMIT", "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
            "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
        ] {
            _ = try environment.integer(name, in: 0...Int(Int32.max))
        }
    }
}
