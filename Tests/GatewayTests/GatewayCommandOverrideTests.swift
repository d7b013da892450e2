import Foundation
import TestSupport
import Testing

/// `chronos gateway --name/--id/--fix-port/--binary-port/--udp-port`: several gateways over one
/// shared configuration file, as the deployment runs them (deploy/compose.yaml, deploy/k8s).
@Suite(.serialized) struct GatewayCommandOverrideTests {
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-gwflags-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func flagsOverrideTheSharedGatewayTable() async throws {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("shared.toml")
        // The shared file puts FIX and UDP on fixed ports and binary off; the flags turn that around.
        try """
        [metrics]
        enabled = false

        [gateway]
        name = "from-the-file"
        fix_port = 1
        binary_port = -1
        udp_port = 2
        state_dir = "\(dir.path)/state"

        [[shards]]
        id = 0
        orders = "ipc://\(dir.path)/s0-orders"
        events = "ipc://\(dir.path)/s0-events"
        replay = "ipc://\(dir.path)/s0-replay"
        """.write(to: config, atomically: true, encoding: .utf8)
        let gateway = try MultiGatewayTests.ChildProcess(
            binary,
            [
                "gateway", "--config", config.path, "--name", "gw-flags", "--id", "7", "--fix-port=-1",
                "--binary-port=0", "--udp-port=-1",
            ],
            log: dir.appendingPathComponent("gateway.log"))
        defer { if gateway.process.isRunning { gateway.kill9() } }
        let ready = try #require(await gateway.readyLine(), "the gateway did not get ready")
        // FIX and UDP off, binary on a free port: the flags, not the file's fixed ports.
        #expect(ready.contains("fix=off"), "\(ready)")
        #expect(ready.contains("udp=off"), "\(ready)")
        #expect(ready.contains("binary=127.0.0.1:") && !ready.contains("binary=off"), "\(ready)")
        #expect(await gateway.terminate() == 0)
    }

    @Test func invalidOverridesAreUsageErrors() throws {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        for (arguments, message) in [
            (["--id", "0"], "--id must be in 1...65535 (got 0)"),
            (["--fix-port=70000"], "--fix-port must be in -1...65535 (got 70000)"),
            (["--name", ""], "--name must be 1…255 bytes"),
        ] {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["gateway"] + arguments
            let error = Pipe()
            process.standardError = error
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 64, "\(arguments)")  // ArgumentParser's usage error
            #expect(text.contains(message), "\(arguments): \(text)")
        }
    }
}
