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
        // Not a package-benchmark suite: one process that reports its own resident memory.
        .executableTarget(
            name: "LokiOutage",
            dependencies: [
                .product(name: "LokiPush", package: "runway"),
                .product(name: "Telemetry", package: "runway"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Sources/LokiOutage"
        ),
    ]
)
