// swift-tools-version: 6.1
import PackageDescription

// An application that embeds Chronos's order books: it depends on the core package alone, so
// building it resolves no remote dependency (`make example` builds and runs it).
let package = Package(
    name: "EmbeddedBook",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../../Packages/ChronosEngine")],
    targets: [
        .executableTarget(
            name: "EmbeddedBook",
            dependencies: [
                .product(name: "ChronosCore", package: "ChronosEngine"),
                .product(name: "MatchingEngine", package: "ChronosEngine"),
            ]
        )
    ]
)
