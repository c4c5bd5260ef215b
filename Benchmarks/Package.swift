// swift-tools-version: 6.1
// The benchmark suites (ordo-one/benchmark), a package of their own so that the service's build
// and CI never build them. Run them with `scripts/bench` from the repository root.
import PackageDescription

let package = Package(
    name: "RunwayBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "runway", path: ".."),
        // On Swift 6.3 Linux the default traits also pull in swift-runtime-interposer; naming the
        // traits keeps to the malloc interposer (allocation counts), which is all we use.
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The exporter to beat, measured on the same benchmark in the same run. Without its OTLP/
        // gRPC trait (1.6.0 does not build with no trait at all); its exporter is `none` here.
        .package(url: "https://github.com/swift-otel/swift-otel.git", exact: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .executableTarget(
            name: "LokiEncode",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LokiPush", package: "runway"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/LokiEncode",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "LokiLogging",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LokiPush", package: "runway"),
                .product(name: "Telemetry", package: "runway"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/LokiLogging",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SpanTracing",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Telemetry", package: "runway"),
                .product(name: "TempoExport", package: "runway"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/SpanTracing",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SpanEncode",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Telemetry", package: "runway"),
                .product(name: "TempoExport", package: "runway"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "TelemetryTesting", package: "runway"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/SpanEncode",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not package-benchmark suites: processes that report their own throughput and memory.
        .executableTarget(
            name: "SpanLoad",
            dependencies: [
                .product(name: "Telemetry", package: "runway"),
                .product(name: "TempoExport", package: "runway"),
                .product(name: "TelemetryTesting", package: "runway"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/SpanLoad"
        ),
        .executableTarget(
            name: "LokiOutage",
            dependencies: [
                .product(name: "LokiPush", package: "runway"),
                .product(name: "Telemetry", package: "runway"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TelemetryTesting", package: "runway"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Sources/LokiOutage"
        ),
    ]
)
