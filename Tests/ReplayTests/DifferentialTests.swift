import Foundation
import Replay
import TestSupport
import Testing

/// `chronos replay` against an independent, deliberately naive implementation of the spec
/// (tools/reference/replay_reference.py, written without reading the engine): the same seeded
/// streams must give byte-identical output and the same final books.
@Suite(.serialized) struct DifferentialTests {
    static let root = TestSupport.repositoryRoot

    struct Stream: CustomTestStringConvertible, Sendable {
        var seed: Int
        var count: Int
        var symbols: Int
        var accounts: Int
        var malformedRate: Double
        var testDescription: String { "seed \(seed): \(count) lines, \(symbols) symbols, \(accounts) accounts" }
    }

    static let streams: [Stream] = [
        Stream(seed: 1, count: 40_000, symbols: 1, accounts: 3, malformedRate: 0.01),
        Stream(seed: 2, count: 40_000, symbols: 3, accounts: 8, malformedRate: 0.02),
        Stream(seed: 3, count: 30_000, symbols: 2, accounts: 2, malformedRate: 0.05),
    ]

    /// Runs a command, feeding `input`; returns stdout and stderr.
    static func run(_ arguments: [String], input: Data? = nil) throws -> (out: Data, err: Data, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        // Write input and read both outputs concurrently so no pipe fills up.
        let writer = Thread {
            if let input { stdin.fileHandleForWriting.write(input) }
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        nonisolated(unsafe) var err = Data()
        let errReader = Thread { err = stderr.fileHandleForReading.readDataToEndOfFile() }
        errReader.start()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while errReader.isExecuting || writer.isExecuting { usleep(1_000) }
        return (out, err, process.terminationStatus)
    }

    @Test(arguments: streams)
    func replayMatchesTheReferenceImplementation(_ stream: Stream) async throws {
        try await offThePool {
            let tools = Self.root.appendingPathComponent("tools/reference")
            let generated = try Self.run([
                "python3", tools.appendingPathComponent("gen_stream.py").path, "--seed", "\(stream.seed)",
                "--count", "\(stream.count)", "--symbols", "\(stream.symbols)", "--accounts", "\(stream.accounts)",
                "--malformed-rate", "\(stream.malformedRate)",
            ])
            try #require(
                generated.status == 0, "gen_stream.py failed: \(String(decoding: generated.err, as: UTF8.self))")
            let reference = try Self.run(
                ["python3", tools.appendingPathComponent("replay_reference.py").path, "--book-hash"],
                input: generated.out)
            try #require(reference.status == 0, "reference failed: \(String(decoding: reference.err, as: UTF8.self))")

            let session = try ReplaySession(output: .memory)
            let input = Array(generated.out)
            input.withUnsafeBufferPointer { all in
                var start = 0
                while start < all.count {
                    var end = start
                    while end < all.count && all[end] != 0x0A { end += 1 }
                    session.process(line: UnsafeBufferPointer(rebasing: all[start..<end]))
                    start = end + 1
                }
            }
            session.flush()
            let ours = String(decoding: session.collectedOutput, as: UTF8.self).split(separator: "\n")
            let theirs = String(decoding: reference.out, as: UTF8.self).split(separator: "\n")
            #expect(ours.count == theirs.count)
            #expect(ours.count > stream.count / 2, "the streams must produce events")
            if let i = zip(ours, theirs).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                Issue.record("first difference at event \(i + 1): ours \(ours[i]) reference \(theirs[i])")
            }
            let theirBooks = String(decoding: reference.err, as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)
            #expect(session.finalBooksJSON() == theirBooks)
            #expect(session.engine.invariantViolations().isEmpty)
        }
    }
}
