import ArgumentParser
import CostMeter
import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import TelemetryBootstrap
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the tenant API and the admin API until SIGTERM or SIGINT."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Address of the public listener (RUNWAY_HOST).") var host: String?
    @Option(help: "Port of the public listener, 0 for any (RUNWAY_PORT).") var port: Int?
    @Option(name: .customLong("admin-host"), help: "Address of the admin listener (RUNWAY_ADMIN_HOST).") var adminHost: String?
    @Option(name: .customLong("admin-port"), help: "Port of the admin listener, 0 for any (RUNWAY_ADMIN_PORT).") var adminPort: Int?
    @Option(name: .customLong("max-document-bytes"), help: "Largest document body (RUNWAY_MAX_DOCUMENT_BYTES).")
    var maxDocumentBytes: Int?
    @Option(name: .customLong("shutdown-timeout"), help: "Seconds in-flight requests get after SIGTERM (RUNWAY_SHUTDOWN_TIMEOUT).")
    var shutdownTimeout: Int?

    func configuration() throws -> RunwayConfiguration {
        var configuration = try common.configuration()
        if let host { configuration.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ConfigurationError(description: "--port \(port) is not a port") }
            configuration.port = port
        }
        if let adminHost { configuration.adminHost = adminHost }
        if let adminPort {
            guard (0...65535).contains(adminPort) else { throw ConfigurationError(description: "--admin-port \(adminPort) is not a port") }
            configuration.adminPort = adminPort
        }
        if let maxDocumentBytes {
            guard maxDocumentBytes >= 2 else { throw ConfigurationError(description: "--max-document-bytes must be at least 2") }
            configuration.maxDocumentBytes = maxDocumentBytes
        }
        if let shutdownTimeout {
            guard shutdownTimeout >= 0 else { throw ConfigurationError(description: "--shutdown-timeout must not be negative") }
            configuration.shutdownTimeoutSeconds = shutdownTimeout
        }
        return configuration
    }

    func run() async throws {
        try await runCommand {
            let configuration = try configuration()
            let telemetry = try TelemetrySystem.bootstrap(configuration.telemetry)
            try await serve(configuration: configuration, logger: Logger(label: "runway"), telemetry: telemetry)
        }
    }
}
