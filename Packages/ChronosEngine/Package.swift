// swift-tools-version: 6.1
import PackageDescription

// The embeddable core of Chronos: the domain types and the matching engine, with no dependency
// beyond the Swift toolchain (no I/O, no clock, no Foundation). The exchange's services (the
// package at the repository's root) depend on it by path; an application that only wants the
// order books depends on this package alone and resolves nothing else (Examples/EmbeddedBook).
let package = Package(
    name: "ChronosEngine",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FencedCollections", targets: ["FencedCollections"]),
        .library(name: "ChronosCore", targets: ["ChronosCore"]),
        .library(name: "MatchingEngine", targets: ["MatchingEngine"]),
    ],
    targets: [
        // The fenced unsafe code: preallocated pools, id tables and byte views over raw memory, each
        // type with its invariants in a header comment and exhaustive tests (under AddressSanitizer
        // in `make test-collections`). Used by the engine, the risk engine and both wire formats.
        .target(name: "FencedCollections"),
        // Domain value types, commands, events, symbol configuration and the internal wire format.
        .target(name: "ChronosCore", dependencies: ["FencedCollections"]),
        // The limit order book and the multi-symbol engine.
        .target(name: "MatchingEngine", dependencies: ["ChronosCore", "FencedCollections"]),
        .testTarget(name: "FencedCollectionsTests", dependencies: ["FencedCollections"]),
    ]
)
