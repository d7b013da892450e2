import Foundation

/// What several test targets need from the repository around them.
public enum TestSupport {
    /// The repository root (this file is `Tests/TestSupport/TestSupport.swift`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `chronos` executable that `swift build` (which `make test` runs first) put in `.build`:
    /// the debug build when present, else the release build.
    public static var chronosBinary: URL? {
        let build = repositoryRoot.appendingPathComponent(".build")
        return ["debug", "release"].map { build.appendingPathComponent("\($0)/chronos") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
