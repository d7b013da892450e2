import Foundation
import Messaging
import TestSupport
import Testing

/// `chronos status`, the deployment's health check (deploy/Dockerfile HEALTHCHECK), against a real
/// `chronos engine` process and against a port where nothing listens.
@Suite(.serialized) struct StatusCommandTests {
    /// Runs `chronos status` with `arguments`: exit status, standard output, standard error.
    static func status(_ binary: URL, _ arguments: [String]) throws -> (code: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["status"] + arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test func upWhileTheEngineServesMetricsAndDownOnceItStops() async throws {
        try await offThePool {
            let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
            let context = try ZMQContext()
            let port = try MultiProcessTests.freePort(context)
            // The embedded default (one inproc shard) with the metrics endpoint on a free loopback port.
            let engine = try MultiProcessTests.EngineProcess(
                binary: binary, config: nil, shard: 0, metricsPort: port)
            var stopped = false
            defer { if !stopped { _ = engine.terminate() } }

            // Up: once the engine listens (starting takes a moment), exit 0 with the engine's counters.
            var answer = try Self.status(binary, ["--port", "\(port)"])
            for _ in 0..<100 where answer.code != 0 {
                usleep(100_000)
                answer = try Self.status(binary, ["--port", "\(port)"])
            }
            #expect(answer.code == 0, "chronos status: \(answer.error)")
            #expect(answer.output.hasPrefix("chronos status: http://127.0.0.1:\(port)/metrics up (200 OK"))
            #expect(answer.output.contains("chronos_engine_commands_total{shard=\"0\"}"))
            #expect(answer.error.isEmpty)

            // Down: the engine stopped, so the same port refuses; exit 1 and say so.
            #expect(engine.terminate() == 0)
            stopped = true
            let down = try Self.status(binary, ["--port", "\(port)"])
            #expect(down.code == 1)
            #expect(down.output.isEmpty)
            #expect(down.error.contains("http://127.0.0.1:\(port)/metrics is down"))
            #expect(down.error.contains("Connection refused"))
        }
    }

    @Test func aClosedPortOrABadArgumentIsNotHealthy() async throws {
        try await offThePool {
            let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
            let port = try MultiProcessTests.freePort(try ZMQContext())
            let closed = try Self.status(binary, ["--port", "\(port)", "--timeout", "2"])
            #expect(closed.code == 1)
            #expect(closed.error.contains("is down: connect: Connection refused"))
            // ArgumentParser's usage error: non-zero as well, never a false "up".
            let invalid = try Self.status(binary, ["--port", "0"])
            #expect(invalid.code != 0)
            #expect(invalid.error.contains("--port must be in 1...65535"))
        }
    }
}
