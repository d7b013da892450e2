// swift-tools-version: 6.1
import PackageDescription

let core: Target.Dependency = .product(name: "ChronosCore", package: "ChronosEngine")
let engine: Target.Dependency = .product(name: "MatchingEngine", package: "ChronosEngine")
let collections: Target.Dependency = .product(name: "FencedCollections", package: "ChronosEngine")

let package = Package(
    name: "chronos",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Journal", targets: ["Journal"]),
        .library(name: "RiskEngine", targets: ["RiskEngine"]),
        .library(name: "SpoofingModel", targets: ["SpoofingModel"]),
        .library(name: "Replay", targets: ["Replay"]),
        .library(name: "Workload", targets: ["Workload"]),
        .library(name: "MarketSimulation", targets: ["MarketSimulation"]),
        .library(name: "MarketData", targets: ["MarketData"]),
        .library(name: "MarketDataService", targets: ["MarketDataService"]),
        .library(name: "MarketDataClient", targets: ["MarketDataClient"]),
        .library(name: "Messaging", targets: ["Messaging"]),
        .library(name: "FIX", targets: ["FIX"]),
        .library(name: "BinaryProtocol", targets: ["BinaryProtocol"]),
        .library(name: "ChronosClient", targets: ["ChronosClient"]),
        .library(name: "Persistence", targets: ["Persistence"]),
        .executable(name: "chronos", targets: ["chronos"]),
    ],
    dependencies: [
        // ChronosCore and MatchingEngine: a package of their own, so that embedding the engine
        // resolves no remote dependency.
        .package(path: "Packages/ChronosEngine"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Pre-trade risk checks (static limits; the spoofing model later). No I/O, no clock, no Foundation.
        .target(name: "RiskEngine", dependencies: [core, collections], path: "Sources/Risk/RiskEngine"),
        // ONNX Runtime's C API: the library and header scripts/install-onnxruntime.sh puts in /usr/local.
        .systemLibrary(name: "COnnxRuntime", path: "Sources/Risk/COnnxRuntime", pkgConfig: "libonnxruntime"),
        // The spoofing classifier (an ONNX model) behind RiskEngine's SpoofingScorer, via COnnxRuntime.
        .target(
            name: "SpoofingModel", dependencies: ["COnnxRuntime", "RiskEngine", "Runtime"],
            path: "Sources/Risk/SpoofingModel"),
        // The TOML configuration file: engine capacities and symbols (later: shards, gateways, risk).
        .target(
            name: "ChronosConfig",
            dependencies: [
                core, engine, "RiskEngine", "Journal", .product(name: "TOMLKit", package: "TOMLKit"),
            ], path: "Sources/Core/ChronosConfig"
        ),
        // JSON Lines edge of the engine: `chronos replay` (parsing and printing, no matching logic).
        .target(
            name: "Replay", dependencies: [core, engine, "RiskEngine", "ChronosConfig"],
            path: "Sources/Tools/Replay"),
        // The engine's journal: memory-mapped, preallocated segment files with one record per event,
        // snapshots, and recovery from both. Files only: no threads, no sockets.
        .target(
            name: "Journal", dependencies: [core, engine, "Runtime"], path: "Sources/Engine/Journal"),
        // ZeroMQ (Debian's libzmq3-dev) and its safe Swift wrapper.
        .systemLibrary(name: "CZeroMQ", path: "Sources/Core/CZeroMQ"),
        .target(name: "Messaging", dependencies: ["CZeroMQ"], path: "Sources/Core/Messaging"),
        // Linux thread affinity (pthread_setaffinity_np), for pinning engine threads.
        .target(name: "CChronosSystem", path: "Sources/Core/CChronosSystem"),
        // What every service runs on: the one clock (SystemClock), service threads, unbuffered
        // output. No dependency, so that the journal and the model link nothing more for a clock.
        .target(name: "Runtime", path: "Sources/Core/Runtime"),
        // Metrics of every service: the Prometheus registry behind swift-metrics, its HTTP
        // endpoint, and the probe `chronos status` reads it with.
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ], path: "Sources/Core/MetricsEndpoint"
        ),
        // An engine shard as a service: its thread, journal, snapshots, replay server and reports.
        .target(
            name: "EngineService",
            dependencies: [
                core, engine, "ChronosConfig", "Messaging", "CChronosSystem", "Journal", "Runtime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ], path: "Sources/Engine/EngineService"
        ),
        // The clients of the engine shards and the risk sidecar over ZeroMQ: orders in
        // (ExchangeClient), events out (EventSubscriber), risk verdicts (RiskSidecarClient). What a
        // gateway links instead of the services themselves (no ONNX Runtime, no engine).
        .target(
            name: "ShardClient",
            dependencies: [core, "ChronosConfig", "Messaging", "Runtime"], path: "Sources/Engine/ShardClient"
        ),
        // FIX 4.4: framing, parsing, the data dictionary, encoding and the acceptor session layer.
        // Pure logic: bytes and times in, messages and actions out; the file store is its only I/O.
        .target(name: "FIX", dependencies: [core], path: "Sources/Gateway/FIX"),
        // The compact binary order-entry protocol (TCP and UDP), docs/protocol.md. No I/O.
        .target(name: "BinaryProtocol", dependencies: [collections], path: "Sources/Gateway/BinaryProtocol"),
        // A client of the binary protocol over TCP and UDP (SwiftNIO), shared by tests, loadgen and users.
        .target(
            name: "ChronosClient",
            dependencies: [
                "BinaryProtocol", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ], path: "Sources/Gateway/ChronosClient"
        ),
        // The gateway: SwiftNIO servers for FIX and the binary protocol, sessions, auth, routing.
        .target(
            name: "Gateway",
            dependencies: [
                core, "ChronosConfig", "ShardClient", "Runtime", "Messaging", "FIX", "BinaryProtocol",
                "CChronosSystem", "RiskEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ], path: "Sources/Gateway/Gateway"
        ),
        // The risk engine as a service (`chronos risk`): ZeroMQ sidecar server and its client.
        .target(
            name: "RiskService",
            dependencies: [
                core, "ChronosConfig", "ShardClient", "Runtime", "Messaging", "RiskEngine", "CChronosSystem",
                "SpoofingModel", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ], path: "Sources/Risk/RiskService"
        ),
        // The persistence service (`chronos persist`): event stores (SQLite via GRDB, PostgreSQL via
        // postgres-nio) with one schema, and the writer that follows every shard's events into one.
        .target(
            name: "Persistence",
            dependencies: [
                core, "ChronosConfig", "ShardClient", "Runtime", "Messaging",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ], path: "Sources/Store/Persistence"
        ),
        // The whole exchange in one process, stage by stage (`chronos run` and the tests' ExchangeHarness).
        .target(
            name: "ExchangeAssembly",
            dependencies: [
                core, "ChronosConfig", "EngineService", "Gateway", "Journal", "Messaging", "Persistence",
                "MarketDataService", "RiskEngine", "RiskService", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Sources/Exchange/ExchangeAssembly"
        ),
        // The load generator behind `chronos loadgen`: binary TCP/UDP and FIX sessions at a fixed
        // window, a loopback echo floor, a spawned `chronos run`, latency histograms.
        .target(
            name: "LoadGenerator",
            dependencies: [
                core, "ChronosConfig", "BinaryProtocol", "Runtime",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ], path: "Sources/Tools/LoadGenerator"
        ),
        // `chronos bench`: measurements of the engine, journal, messaging, persister and risk checks
        // that need no benchmark harness. It lives with the package-benchmark suite in Benchmarks/;
        // the executable only lists the command.
        .target(
            name: "ChronosBench",
            dependencies: [
                core, engine, "ChronosConfig", "EngineService", "ShardClient", "Runtime", "Journal", "Messaging",
                "CChronosSystem", "Persistence", "RiskEngine", "RiskService", "SpoofingModel", "Workload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ], path: "Benchmarks/Sources/ChronosBench"
        ),
        // Seeded realistic order flow for benchmarks, load generation and property tests.
        .target(name: "Workload", dependencies: [core, engine], path: "Sources/Tools/Workload"),
        // Agent-based market simulation through the real engine: labeled spoofing feature rows. No I/O.
        .target(
            name: "MarketSimulation", dependencies: [core, engine, "RiskEngine", "Workload"],
            path: "Sources/Tools/MarketSimulation"),
        // Market data: engine events in; per-symbol L2 updates, trades, top of book, snapshots out; a replica.
        .target(name: "MarketData", dependencies: [core, collections], path: "Sources/MarketData/MarketData"),
        // The market-data service: per shard, a thread that follows the shard's events into a
        // MarketDataBook and publishes updates, heartbeats and snapshots on ZeroMQ (PUB + ROUTER).
        .target(
            name: "MarketDataService",
            dependencies: [
                "MarketData", core, "ChronosConfig", "ShardClient", "Messaging", "Runtime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Sources/MarketData/MarketDataService"
        ),
        // The market-data consumer: subscribes to a shard's feed, keeps a MarketDataReplica per
        // symbol and recovers gaps by snapshot (what `chronos marketdata` and later transports use).
        .target(
            name: "MarketDataClient", dependencies: ["MarketData", core, "ChronosConfig", "Messaging"],
            path: "Sources/MarketData/MarketDataClient"),
        .executableTarget(
            name: "chronos",
            dependencies: [
                core, engine, "ChronosConfig", "Replay", "Workload", "Journal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                "EngineService", "ShardClient", "Runtime", "MetricsEndpoint", "Messaging", "CChronosSystem", "Gateway",
                "ExchangeAssembly",
                "LoadGenerator", "ChronosBench",
                "ChronosClient",
                "BinaryProtocol",
                "RiskEngine", "RiskService", "SpoofingModel", "MarketSimulation", "Persistence",
                "MarketData", "MarketDataClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Test-only malloc counter (defines malloc & co. in the test executable).
        .target(name: "AllocCounter", path: "Tests/AllocCounter"),
        // Test-only helpers shared by test targets (repository root, the built chronos binary).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ChronosCoreTests", dependencies: [core, "AllocCounter"]),
        .testTarget(name: "ChronosConfigTests", dependencies: [core, "ChronosConfig"]),
        .testTarget(
            name: "LoadGeneratorTests",
            dependencies: [
                "LoadGenerator", "ChronosConfig", "TestSupport", .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "MetricsEndpointTests",
            dependencies: [
                "MetricsEndpoint", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The `chronos` executable as separate processes: engines over ipc and tcp, `chronos status`.
        .testTarget(
            name: "CLITests", dependencies: [core, "ChronosConfig", "Messaging", "ShardClient", "TestSupport"]),
        .testTarget(
            name: "MatchingEngineTests", dependencies: [engine, core, collections, "Workload", "AllocCounter"]
        ),
        .testTarget(
            name: "RiskEngineTests",
            dependencies: ["RiskEngine", core, engine, "Workload", "AllocCounter"]
        ),
        .testTarget(
            name: "SpoofingModelTests",
            dependencies: ["SpoofingModel", "RiskEngine", "AllocCounter", "TestSupport", "Workload"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "MessagingTests", dependencies: ["Messaging", "AllocCounter"]),
        .testTarget(
            name: "EngineServiceTests",
            dependencies: [
                "EngineService", "ShardClient", "Runtime", "ChronosConfig", "Journal", core, engine, "Messaging",
                "Workload",
                "AllocCounter", "TestSupport",
            ]
        ),
        .testTarget(name: "FIXTests", dependencies: ["FIX", "AllocCounter"]),
        .testTarget(name: "BinaryProtocolTests", dependencies: ["BinaryProtocol", "ChronosClient", "AllocCounter"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "FIX", "BinaryProtocol", "ChronosClient", "ChronosConfig", core,
                "EngineService", "ShardClient", "ExchangeAssembly", "Messaging", "AllocCounter", "TestSupport",
            ]
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: [
                "Replay", engine, core, "ChronosConfig", "Workload", "AllocCounter", "TestSupport",
                "RiskEngine",
            ],
            exclude: ["Scenarios", "RiskScenarios"]
        ),
        .testTarget(
            name: "PersistenceTests",
            dependencies: [
                "Persistence", "EngineService", "ShardClient", "Runtime", "ChronosConfig", core, engine, "Messaging",
                "Journal", "TestSupport",
                "Workload", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "JournalTests",
            dependencies: ["Journal", engine, core, "Workload", "AllocCounter"]
        ),
        .testTarget(
            name: "MarketSimulationTests",
            dependencies: ["MarketSimulation", engine, core, "RiskEngine", "Replay"]
        ),
        // Market-data book and replica: scenarios, zero allocation, and consistency with the engine.
        .testTarget(
            name: "MarketDataTests",
            dependencies: ["MarketData", core, engine, "Workload", "AllocCounter", "TestSupport"]
        ),
        // The market-data service and its consumer over real ZeroMQ sockets and real engine shards.
        .testTarget(
            name: "MarketDataServiceTests",
            dependencies: [
                "MarketDataService", "MarketDataClient", "MarketData", "EngineService", "ShardClient",
                "ExchangeAssembly", "ChronosConfig", "Messaging", "Journal", core, engine, "Workload",
                "AllocCounter", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
