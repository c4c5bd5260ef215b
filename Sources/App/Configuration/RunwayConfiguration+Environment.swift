import Foundation
import TelemetryBootstrap

extension RunwayConfiguration {
    /// The process's environment. The one place Runway reads it: everything else receives the
    /// configuration as values.
    static var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }

    /// The defaults with `variables` applied over them.
    static func read(environment variables: [String: String] = processEnvironment) throws(ConfigurationError) -> RunwayConfiguration {
        let environment = Environment(variables)
        var configuration = RunwayConfiguration(environment)
        try configuration.apply(environment)
        return configuration
    }

    /// Applies the variables found in `variables` over the current values.
    mutating func apply(environment variables: [String: String]) throws(ConfigurationError) {
        try apply(Environment(variables))
    }

    /// Reads every variable of ``variables`` from `environment`, with the reader's one set of rules.
    mutating func apply(_ environment: Environment) throws(ConfigurationError) {
        if let v = environment.string("RUNWAY_HOST") { host = v }
        if let v = try environment.integer("RUNWAY_PORT", in: 0...65535) { port = v }
        if let v = environment.string("RUNWAY_ADMIN_HOST") { adminHost = v }
        if let v = try environment.integer("RUNWAY_ADMIN_PORT", in: 0...65535) { adminPort = v }
        if let v = environment.string("RUNWAY_DATA_DIR") { dataDirectory = v }
        if let v = environment.string("DATABASE_URL") { databaseURL = v }
        if let v = environment.string("RUNWAY_MIGRATION_DATABASE_URL") { migrationDatabaseURL = v }
        if let v = try environment.flag("RUNWAY_ALLOW_REMOTE_DB") { allowRemoteDatabase = v }
        if let v = environment.string("RUNWAY_ADMIN_TOKEN") { adminToken = v }
        if let v = try environment.integer("RUNWAY_MAX_DOCUMENT_BYTES", in: 2...(64 << 20)) { maxDocumentBytes = v }
        if let v = try environment.integer("RUNWAY_MAX_PAGE_BYTES", in: 1024...(1 << 30)) { maxPageBytes = v }
        if let v = try environment.integer("RUNWAY_SHUTDOWN_TIMEOUT", in: 0...3600) { shutdownTimeoutSeconds = v }
        if let v = try environment.integer("RUNWAY_DB_MAX_CONNECTIONS", in: 1...1000) { databaseMaxConnections = v }
        if let v = try environment.integer("RUNWAY_DB_TIMEOUT_MS", in: 1...600_000) { databaseTimeoutMilliseconds = v }
        if let v = try environment.integer("RUNWAY_MAX_CONNECTIONS", in: 1...1_000_000) { connections.maxConnections = v }
        if let v = try environment.milliseconds("RUNWAY_HEADER_TIMEOUT_MS", in: 1...3_600_000) { connections.headerTimeout = v }
        if let v = try environment.milliseconds("RUNWAY_IDLE_TIMEOUT_MS", in: 1...3_600_000) { connections.idleTimeout = v }
        if let v = try environment.milliseconds("RUNWAY_BODY_TIMEOUT_MS", in: 1...3_600_000) { connections.bodyTimeout = v }
        if let v = try environment.integer("RUNWAY_KEY_LOOKUPS_PER_SECOND", in: 1...1_000_000) { keyLookupsPerSecond = v }
        if let v = try environment.integer("RUNWAY_USAGE_FLUSH_SECONDS", in: 1...3600) { usageFlushSeconds = v }
        if let v = environment.string("RUNWAY_POSTGRES_BIN") { postgresBinDirectory = v }
        if let v = try environment.flag("RUNWAY_METRICS_EXEMPLARS") { metricsExemplars = v }
        try cost.apply(environment)
        try telemetry.apply(environment)
    }
}

extension CostSettings {
    /// `RUNWAY_INSTANCE_TYPE`, `RUNWAY_VCPUS`, `RUNWAY_PRICE_MICROS_PER_HOUR`, `RUNWAY_COST_FLUSH_SECONDS`, `RUNWAY_COST_METER`.
    mutating func apply(_ environment: Environment) throws(ConfigurationError) {
        if let v = environment.string("RUNWAY_INSTANCE_TYPE") { instanceType = v }
        if let v = try environment.integer("RUNWAY_VCPUS", in: 1...1024) { vcpus = v }
        if let v = try environment.integer("RUNWAY_PRICE_MICROS_PER_HOUR", in: 0...1_000_000_000) { microsPerHour = Int64(v) }
        if let v = try environment.integer("RUNWAY_COST_FLUSH_SECONDS", in: 1...60) {
            guard 60 % v == 0 else { throw Environment.refusal("RUNWAY_COST_FLUSH_SECONDS", "\(v)", "a whole number that divides 60") }
            flushSeconds = v
        }
        if let v = try environment.flag("RUNWAY_COST_METER") { metersRequests = v }
    }
}
