import Foundation

/// What several test targets need from the repository around them.
public enum TestSupport {
    /// The repository root (this file is `Tests/TestSupport/TestSupport.swift`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `chronos` executable under test: `CHRONOS_BIN` when set (relative to the repository
    /// root), else what `swift build` put in `.build`, the debug build when present, else the
    /// release build.
    public static var chronosBinary: URL? {
        if let path = ProcessInfo.processInfo.environment["CHRONOS_BIN"], !path.isEmpty {
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : repositoryRoot.appendingPathComponent(path)
            return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
        }
        let build = repositoryRoot.appendingPathComponent(".build")
        return ["debug", "release"].map { build.appendingPathComponent("\($0)/chronos") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}

/// Runs `body` — a test that blocks (sleeps, waits for processes, reads blocking sockets) — on a
/// Dispatch thread instead of one of Swift's cooperative threads, and awaits it.
///
/// Swift Testing runs every test of the process concurrently on the cooperative pool, which has
/// one thread per core (two here): a synchronous test that waits for seconds holds one of them,
/// and the async tests beside it (SwiftNIO clients awaiting answers, login timers) stall — seen
/// as timeouts in CI. The body still runs inside the test's task (a task executor preference),
/// so `#expect` and `#require` report to the test as usual.
public func offThePool<T>(_ body: () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(BlockingWorkExecutor()) { try body() }
}

/// A task executor whose jobs run on a serial Dispatch queue (Dispatch's own threads, which grow
/// when they block, unlike the cooperative pool).
final class BlockingWorkExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "chronos.tests.blocking")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
