import ChronosConfig
import ChronosCore
import Foundation
import Messaging
import ShardClient
import TestSupport
import Testing

/// The built `chronos` binary as separate engine processes, reached over ipc and tcp.
@Suite(.serialized) struct MultiProcessTests {
    static var chronosBinary: URL? { TestSupport.chronosBinary }

    enum Transport: String, CaseIterable, Sendable { case ipc, tcp }

    /// A free loopback port (bound by ZeroMQ, then released).
    static func freePort(_ context: ZMQContext) throws -> Int {
        let probe = try ZMQSocket(context, .pull)
        defer { probe.close() }
        try probe.bind("tcp://127.0.0.1:*")
        return Int(try probe.lastEndpoint().split(separator: ":").last!)!
    }

    static func configuration(_ transport: Transport, _ context: ZMQContext, dir: URL) throws -> String {
        var shards = ""
        for id in 0..<2 {
            func endpoint(_ role: String) throws -> String {
                switch transport {
                case .ipc: "ipc://\(dir.path)/shard-\(id)-\(role)"
                case .tcp: "tcp://127.0.0.1:\(try freePort(context))"
                }
            }
            shards += """

                [[shards]]
                id = \(id)
                orders = "\(try endpoint("orders"))"
                events = "\(try endpoint("events"))"
                replay = "\(try endpoint("replay"))"
                symbols = ["\(id == 0 ? "AAPL" : "MSFT")"]

                """
        }
        return """
            [engine]
            order_capacity = 10000

            [[symbols]]
            name = "AAPL"
            [[symbols]]
            name = "MSFT"
            \(shards)
            """
    }

    final class EngineProcess {
        let process = Process()

        /// `config` nil: the embedded default (one inproc shard).
        init(binary: URL, config: String?, shard: Int, metricsPort: Int = -1) throws {
            process.executableURL = binary
            // In the configuration's folder (or a fresh one): the engine's default journal
            // (.chronos-state/journal) lands there, never in a folder another test or run uses.
            let directory =
                config.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("chronos-engine-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            process.currentDirectoryURL = directory
            process.arguments =
                ["engine"] + (config.map { ["--config", $0] } ?? []) + [
                    "--shard", "\(shard)", "--metrics-port=\(metricsPort)",
                ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// SIGTERM and the exit status (a hang guard kills it after 30 s).
        func terminate() -> Int32 {
            process.terminate()
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill9() }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// A plain HTTP/1.0 GET on loopback; the whole response as text.
    static func httpGet(port: Int, path: String) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }

    /// Retries `body` until it returns true or a hang guard of ~10 s passes.
    func eventually(_ body: () -> Bool) -> Bool {
        for _ in 0..<1_000 {
            if body() { return true }
            usleep(10_000)
        }
        return false
    }

    func order(_ id: UInt64, _ account: UInt32, _ symbol: UInt32, _ side: Side, _ price: Int64) -> EngineCommand {
        .new(
            NewOrder(
                id: OrderID(id), account: AccountID(account), symbol: SymbolID(symbol), side: side, price: price,
                quantity: 10))
    }

    /// Reports until one matches, within a hang guard.
    func awaitReport(_ client: ExchangeClient, _ matches: (WireFrame) -> Bool) -> WireFrame? {
        for _ in 0..<100 {
            if let frame = client.receive(timeoutMilliseconds: 100), matches(frame) { return frame }
        }
        return nil
    }

    @Test(arguments: Transport.allCases)
    func shardsTradeApartSurviveEachOthersDeathAndResumeAfterRestart(_ transport: Transport) async throws {
        try await offThePool {
            let binary = try #require(Self.chronosBinary, "build the chronos executable first (swift build)")
            let context = try ZMQContext()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
                "chronos-mp-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let configPath = dir.appendingPathComponent("chronos.toml").path
            try Self.configuration(transport, context, dir: dir).write(
                toFile: configPath, atomically: true, encoding: .utf8)
            let exchange = try ExchangeConfiguration.load(path: configPath)

            let metricsPort = try Self.freePort(context)
            var shard0 = try EngineProcess(binary: binary, config: configPath, shard: 0, metricsPort: metricsPort)
            var shard1 = try EngineProcess(binary: binary, config: configPath, shard: 1)
            defer {
                _ = shard0.terminate()
                _ = shard1.terminate()
            }
            let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw-test")
            var nextID: UInt64 = 1
            func trade(_ symbol: UInt32) -> WireFrame? {
                let maker = nextID, taker = nextID + 1
                nextID += 2
                guard case .sent = client.submit(order(maker, 1, symbol, .sell, 100)) else { return nil }
                guard case .sent = client.submit(order(taker, 2, symbol, .buy, 100)) else { return nil }
                return awaitReport(client) {
                    if case .event(.fill(let fill), _) = $0.message { fill.takerID == OrderID(taker) } else { false }
                }
            }

            // Both shards up: each symbol trades in its own shard.
            #expect(
                eventually { if case .sent = client.submit(order(1_000_000, 9, 0, .buy, 1)) { true } else { false } })
            #expect(
                eventually { if case .sent = client.submit(order(1_000_001, 9, 1, .buy, 1)) { true } else { false } })
            let aapl = try #require(trade(0), "AAPL must trade")
            #expect(aapl.shard == 0)
            let msft = try #require(trade(1), "MSFT must trade")
            #expect(msft.shard == 1)

            // Shard 0's Prometheus endpoint counts what it did.
            let metrics = try #require(Self.httpGet(port: metricsPort, path: "/metrics"))
            #expect(metrics.hasPrefix("HTTP/1.0 200 OK"))
            let commandsLine = metrics.split(separator: "\n").first {
                $0.hasPrefix("chronos_engine_commands_total{shard=\"0\"}")
            }
            let commands = commandsLine.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            #expect(commands >= 3)  // the probe and one trade's two orders at least
            #expect(metrics.contains("chronos_engine_command_seconds_bucket{shard=\"0\",le=\"0.00001\"}"))
            // The histogram is recorded once the reports are out, so it may trail the counter by one command.
            let countLine = metrics.split(separator: "\n").first {
                $0.hasPrefix("chronos_engine_command_seconds_count{shard=\"0\"}")
            }
            let timed = countLine.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
            #expect(timed >= commands - 1 && timed <= commands)
            #expect(try #require(Self.httpGet(port: metricsPort, path: "/nope")).hasPrefix("HTTP/1.0 404"))

            // Shard 1 is killed: its symbol is refused at once, shard 0 keeps trading.
            shard1.kill9()
            #expect(eventually { client.submit(order(2_000_000, 9, 1, .buy, 1)) == .shardUnavailable(shard: 1) })
            #expect(trade(0)?.shard == 0)

            // Restarted: shard 1 recovers its book from its journal and trading resumes.
            shard1 = try EngineProcess(binary: binary, config: configPath, shard: 1)
            #expect(
                eventually { if case .sent = client.submit(order(3_000_000, 9, 1, .buy, 1)) { true } else { false } })
            #expect(trade(1)?.shard == 1)

            // A graceful stop exits 0.
            #expect(shard0.terminate() == 0)
            #expect(shard1.terminate() == 0)
            shard0 = try EngineProcess(binary: binary, config: configPath, shard: 0)  // for the deferred cleanup
        }
    }
}
