// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so the harness never enters the product build.
// Run from this folder: `swift package benchmark` (see ../README.md, Performance).
let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `chronos` is a link to the main package, so its identity is "chronos" wherever the clone lives.
        .package(path: "chronos"),
        // ChronosCore and MatchingEngine: the core package the main one depends on.
        .package(path: "chronos/Packages/ChronosEngine"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "EngineBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ChronosCore", package: "ChronosEngine"),
                .product(name: "MatchingEngine", package: "ChronosEngine"),
                .product(name: "Replay", package: "chronos"),
                .product(name: "Workload", package: "chronos"),
            ],
            path: "Benchmarks/EngineBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "GatewayBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FIX", package: "chronos"),
                .product(name: "BinaryProtocol", package: "chronos"),
            ],
            path: "Benchmarks/GatewayBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RiskBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ChronosCore", package: "ChronosEngine"),
                .product(name: "MatchingEngine", package: "ChronosEngine"),
                .product(name: "RiskEngine", package: "chronos"),
                .product(name: "SpoofingModel", package: "chronos"),
                .product(name: "Workload", package: "chronos"),
            ],
            path: "Benchmarks/RiskBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
