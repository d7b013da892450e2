// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets, in their own package so the fuzzing entry point (no `main`) never enters
// the product build. Build and run with `make fuzz` from the repository root:
//   swift build -c release --sanitize=fuzzer --sanitize=address -Xswiftc -parse-as-library \
//     -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
//   .build/release/ReplayFuzz -max_total_time=60 corpus/
let package = Package(
    name: "Fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "chronos"),  // a link to the main package, so its identity is "chronos"
        .package(path: "chronos/Packages/ChronosEngine"),  // the same core package the main one uses
    ],
    targets: [
        .executableTarget(
            name: "ReplayFuzz",
            dependencies: [
                .product(name: "Replay", package: "chronos"),
                .product(name: "MatchingEngine", package: "ChronosEngine"),
            ]
        ),
        // The gateway's parsers: FIX framing and session, binary TCP stream and UDP datagrams.
        .executableTarget(
            name: "GatewayFuzz",
            dependencies: [
                .product(name: "FIX", package: "chronos"),
                .product(name: "BinaryProtocol", package: "chronos"),
            ]
        ),
    ]
)
