import Foundation
import Logging
import Telemetry
import TelemetryBootstrap
import TempoExport
import Testing

@testable import App

@Suite struct ConfigurationTests {
    @Test func environmentOverridesDefaults() throws {
        var configuration = RunwayConfiguration(environment: [:])
        #expect(configuration.port == 8080)
        #expect(configuration.adminPort == 8081)
        #expect(configuration.adminHost == "127.0.0.1")
        #expect(configuration.maxDocumentBytes == 1 << 20)
        try configuration.apply(environment: [
            "RUNWAY_PORT": "9000", "RUNWAY_ADMIN_PORT": "9001", "RUNWAY_DATA_DIR": "/tmp/x", "DATABASE_URL": "postgres://a@localhost/b",
            "RUNWAY_ALLOW_REMOTE_DB": "1", "RUNWAY_LOG_LEVEL": "DEBUG", "RUNWAY_MAX_DOCUMENT_BYTES": "4096",
        ])
        #expect(configuration.port == 9000)
        #expect(configuration.adminPort == 9001)
        #expect(configuration.dataDirectory == "/tmp/x")
        #expect(configuration.databaseURL == "postgres://a@localhost/b")
        #expect(configuration.allowRemoteDatabase)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.maxDocumentBytes == 4096)
    }

    /// `localhost` binds 127.0.0.1 whatever `/etc/hosts` says (a stock Debian 12 resolves it to ::1
    /// first), so the printed URL and clients that connect to 127.0.0.1 agree; addresses bind as given.
    @Test func theNameLocalhostBindsTheIPv4Loopback() {
        #expect(RunwayConfiguration.bindAddress("localhost") == "127.0.0.1")
        #expect(RunwayConfiguration.bindAddress("LocalHost") == "127.0.0.1")
        for address in ["127.0.0.1", "::1", "0.0.0.0", "10.1.2.3", "runway.internal"] {
            #expect(RunwayConfiguration.bindAddress(address) == address)
        }
    }

    @Test(arguments: [
        ["RUNWAY_PORT": "http"], ["RUNWAY_PORT": "70000"], ["RUNWAY_ALLOW_REMOTE_DB": "maybe"], ["RUNWAY_LOG_LEVEL": "loud"],
        ["RUNWAY_MAX_DOCUMENT_BYTES": "-1"], ["LOKI_URL": "ftp://loki"], ["LOKI_URL": "127.0.0.1:3100"],
        ["TEMPO_URL": "localhost:4318"], ["OTEL_BSP_MAX_QUEUE_SIZE": "lots"], ["OTEL_TRACES_SAMPLER_ARG": "1.5"],
        ["RUNWAY_TRACE_SLOW_THRESHOLD_MS": "slow"], ["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "zstd"],
    ])
    func invalidValuesAreRefusedWithTheirName(environment: [String: String]) {
        var configuration = RunwayConfiguration(environment: [:])
        do {
            try configuration.apply(environment: environment)
            Issue.record("accepted \(environment)")
        } catch {
            #expect("\(error)".contains(environment.keys.first!))
        }
    }

    @Test func telemetrySettingsComeFromTheEnvironment() throws {
        var configuration = RunwayConfiguration(environment: [:])
        #expect(configuration.telemetry.loki == nil)
        try configuration.apply(environment: [
            "LOKI_URL": "http://127.0.0.1:3100", "LOKI_TENANT": "ops", "LOKI_TENANT_MAP": "t1=org-a, t2=org-b",
            "LOKI_STRUCTURED_METADATA": "0", "RUNWAY_LOG_BUFFER_BYTES": "1048576", "RUNWAY_LOG_FLUSH_MS": "250", "RUNWAY_ENV": "prod",
        ])
        let loki = try #require(configuration.telemetry.loki)
        #expect(loki.url == "http://127.0.0.1:3100")
        #expect(loki.tenant == "ops")
        #expect(loki.tenantRoutes == ["t1": "org-a", "t2": "org-b"])
        #expect(!loki.structuredMetadata)
        #expect(loki.bufferBytes == 1 << 20)
        #expect(loki.flushInterval == .milliseconds(250))
        #expect(configuration.telemetry.environment == "prod")
        #expect(configuration.telemetry.tempo == nil)
        try configuration.apply(environment: [
            "TEMPO_URL": "http://127.0.0.1:4318", "TEMPO_TENANT": "ops", "OTEL_TRACES_SAMPLER_ARG": "0.25",
            "RUNWAY_TRACE_SLOW_THRESHOLD_MS": "off",
        ])
        let tempo = try #require(configuration.telemetry.tempo)
        #expect(tempo.exporter.baseURL == "http://127.0.0.1:4318" && tempo.exporter.tenant == "ops")
        #expect(tempo.batching.name == "spans")
        #expect(configuration.telemetry.tracer.sampleRatio == 0.25)
        #expect(configuration.telemetry.tracer.slowThreshold == nil)
        for (name, value) in [("LOKI_TENANT_MAP", "t1"), ("LOKI_TENANT_MAP", "t1=a,t1=b"), ("RUNWAY_LOG_FLUSH_MS", "0")] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") {
                try configuration.apply(environment: ["LOKI_URL": "http://loki:3100", name: value])
            }
        }
    }

    /// The one reader refuses what it cannot use in one wording, naming the variable and its value.
    @Test(arguments: [
        ("RUNWAY_PORT", "http"), ("OTEL_SPAN_EVENT_COUNT_LIMIT", "nonsense"), ("RUNWAY_TRACE_MAX_HELD_SPANS", "-1"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"), ("RUNWAY_TEMPO_MAX_QUEUE_BYTES", "many"), ("RUNWAY_COST_FLUSH_SECONDS", "7"),
        ("LOKI_TENANT_MAP", "t1"),
    ])
    func refusalsShareOneWording(name: String, value: String) {
        var configuration = RunwayConfiguration(environment: [:])
        #expect {
            try configuration.apply(environment: ["LOKI_URL": "http://127.0.0.1:3100", name: value])
        } throws: { error in
            "\(error)".hasPrefix("\(name)=\(value): expected ")
        }
    }

    @Test func everySpanVariableIsRead() throws {
        let configuration = try RunwayConfiguration.read(environment: [
            "TEMPO_URL": "http://tempo:4318/", "TEMPO_TENANT": "runway-prod", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "500",
            "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BSP_EXPORT_TIMEOUT": "1000", "OTEL_BSP_MAX_CONCURRENT_EXPORTS": "4",
            "RUNWAY_TEMPO_MAX_QUEUE_BYTES": "1048576",
        ])
        let tempo = try #require(configuration.telemetry.tempo)
        #expect(tempo.exporter.baseURL == "http://tempo:4318/")
        #expect(tempo.exporter.tenant == "runway-prod")
        #expect(tempo.exporter.timeout == .milliseconds(2500))
        #expect(tempo.exporter.gzip)
        #expect(tempo.batching.maximumBufferEntries == 100)
        #expect(tempo.batching.maximumBatchEntries == 100)  // never above the queue size
        #expect(tempo.batching.flushInterval == .milliseconds(200))
        #expect(tempo.batching.exportTimeout == .seconds(1))
        #expect(tempo.batching.maximumConcurrentExports == 4)
        #expect(tempo.batching.maximumBufferBytes == 1 << 20)
        let traces = try RunwayConfiguration.read(environment: [
            "TEMPO_URL": "http://tempo:4318", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "700", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "none", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        ])
        #expect(traces.telemetry.tempo?.exporter.timeout == .milliseconds(700))
        #expect(traces.telemetry.tempo?.exporter.gzip == false)
        #expect(try RunwayConfiguration.read(environment: ["TEMPO_URL": ""]).telemetry.tempo == nil)
    }

    @Test func samplingAndSpanLimitsComeFromTheEnvironment() throws {
        let tracer = try RunwayConfiguration.read(environment: [
            "OTEL_TRACES_SAMPLER_ARG": "0.25", "RUNWAY_TRACE_SLOW_THRESHOLD_MS": "750", "RUNWAY_TRACE_KEEP_ERRORS": "false",
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "64", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "100", "OTEL_SPAN_EVENT_COUNT_LIMIT": "5",
            "OTEL_SPAN_LINK_COUNT_LIMIT": "6", "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": "7", "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": "8",
            "RUNWAY_TRACE_MAX_HELD_SPANS": "10",
        ]).telemetry.tracer
        #expect(tracer.sampleRatio == 0.25)
        #expect(tracer.slowThreshold == .milliseconds(750))
        #expect(!tracer.keepErrors)
        #expect(tracer.limits.attributeCount == 64 && tracer.limits.attributeValueLength == 100)
        #expect(tracer.limits.eventCount == 5 && tracer.limits.linkCount == 6)
        #expect(tracer.limits.attributesPerEvent == 7 && tracer.limits.attributesPerLink == 8)
        #expect(tracer.maximumHeldSpans == 10)
        #expect(try RunwayConfiguration.read(environment: [:]).telemetry.tracer == TracerConfiguration())
        for off in ["off", "OFF"] {
            #expect(
                try RunwayConfiguration.read(environment: ["RUNWAY_TRACE_SLOW_THRESHOLD_MS": off]).telemetry.tracer.slowThreshold == nil
            )
        }
    }

    /// Every variable the configuration reads is declared in `RunwayConfiguration.variables`
    /// (with LOKI_URL and TEMPO_URL set, every variable is read).
    @Test func everyVariableReadIsDeclared() throws {
        let environment = Environment(["LOKI_URL": "http://127.0.0.1:3100", "TEMPO_URL": "http://127.0.0.1:4318"])
        var configuration = RunwayConfiguration(environment)
        try configuration.apply(environment)
        let declared = RunwayConfiguration.variables.map(\.name)
        #expect(Set(declared).count == declared.count, "a variable is declared twice")
        #expect(environment.namesRead.subtracting(RunwayConfiguration.systemVariables) == Set(declared))
    }

    /// The README's configuration table lists exactly the declared variables, each with its flag
    /// and its default.
    @Test func theREADMEListsEveryVariableWithItsFlagAndDefault() throws {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
            try #require(folder.pathComponents.count > 1, "no Package.swift above \(#filePath)")
            folder.deleteLastPathComponent()
        }
        let readme = try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## Configuration\n").dropFirst().first)
            .components(separatedBy: "\n## ")[0]
        // | flag | environment | default | meaning |, one or more `NAME`s in the environment cell.
        var rows: [String: (flag: String, defaults: String)] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.dropFirst().split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count >= 4, cells[1] != "environment" else { continue }
            for name in cells[1].split(separator: ",") {
                let name = name.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`"))
                #expect(rows[name] == nil, "\(name) is in the README twice")
                rows[name] = (cells[0], cells[2])
            }
        }
        #expect(Set(rows.keys) == Set(RunwayConfiguration.variables.map(\.name)))
        for variable in RunwayConfiguration.variables {
            guard let row = rows[variable.name] else { continue }
            #expect(row.flag == (variable.flag.map { "`\($0)`" } ?? ""), "\(variable.name)'s flag")
            #expect(row.defaults.contains(variable.defaultValue), "\(variable.name)'s default is \(variable.defaultValue)")
        }
    }

    @Test func databaseURLsAreParsed() throws {
        let tcp = try DatabaseEndpoint(url: "postgres://app:s3cret@127.0.0.1:6543/runway?sslmode=disable")
        #expect(tcp.address == .tcp(host: "127.0.0.1", port: 6543))
        #expect(tcp.username == "app")
        #expect(tcp.password == "s3cret")
        #expect(tcp.database == "runway")
        #expect(tcp.tls == .disable)
        #expect(tcp.isLocal)
        let socket = try DatabaseEndpoint(url: "postgresql://app@/runway?host=/run/postgresql")
        #expect(socket.address == .unixSocket(path: "/run/postgresql/.s.PGSQL.5432"))
        #expect(socket.isLocal)
    }

    @Test func remoteDatabasesAreRefusedUnlessAllowed() throws {
        let remote = try DatabaseEndpoint(url: "postgres://app:pw@db.example.com/runway")
        #expect(!remote.isLocal)
        #expect(throws: ConfigurationError.self) { try remote.checkLocality(allowRemote: false) }
        try remote.checkLocality(allowRemote: true)
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            #expect(try DatabaseEndpoint(url: "postgres://a@\(host)/b").isLocal, "\(host)")
        }
        #expect(!(try DatabaseEndpoint(url: "postgres://a@10.0.0.5/b").isLocal))
    }

    @Test(arguments: ["mysql://a@localhost/b", "postgres://localhost/b", "not a url", "postgres://a@localhost/b?sslmode=sometimes"])
    func malformedDatabaseURLsAreRefusedWithoutEchoingSecrets(url: String) {
        #expect(throws: ConfigurationError.self) { try DatabaseEndpoint(url: url) }
    }
}
