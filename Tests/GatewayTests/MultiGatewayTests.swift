import BinaryProtocol
import ChronosClient
import Foundation
import Synchronization
import TestSupport
import Testing

/// The exchange as separate processes, as an operator scales it: two engine shards and two
/// gateways (`chronos engine`, `chronos gateway`) over ipc, clients on different gateways trading
/// with each other. Checks that gateways share nothing yet route every report to the gateway that
/// owns the order, keep their engine order ids apart, and answer promptly when a shard dies.
@Suite(.serialized) struct MultiGatewayTests {
    /// A value behind a lock, shareable with the closures that fill it.
    final class Shared<T: Sendable>: Sendable {
        private let mutex: Mutex<T>
        init(_ value: T) { mutex = Mutex(value) }
        func withLock<R>(_ body: (inout T) -> R) -> R { mutex.withLock { body(&$0) } }
    }

    /// A `chronos` child process whose stdout is collected (to find its ready line).
    final class ChildProcess: Sendable {
        let process: Process
        private let output = Shared("")

        init(_ binary: URL, _ arguments: [String], log: URL) throws {
            process = Process()
            process.executableURL = binary
            process.arguments = arguments
            // In the test's folder: an engine's default journal (.chronos-state/journal) lands there.
            process.currentDirectoryURL = log.deletingLastPathComponent()
            let pipe = Pipe()
            process.standardOutput = pipe
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            let output = self.output
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if !data.isEmpty { output.withLock { $0 += String(decoding: data, as: UTF8.self) } }
            }
            try process.run()
        }

        /// The port after `key=127.0.0.1:` in the ready line, waiting up to `seconds`.
        func readyPort(_ key: String, within seconds: Double = 30) async -> Int? {
            guard let line = await readyLine(within: seconds), let range = line.range(of: "\(key)=127.0.0.1:") else {
                return nil
            }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }

        /// The line with `ready` in it, waiting up to `seconds`. Looks once more after the deadline:
        /// a test process whose threads were busy elsewhere may wake only after it.
        func readyLine(within seconds: Double = 30) async -> String? {
            let deadline = ContinuousClock.now + .seconds(seconds)
            func line() -> String? {
                let text = output.withLock { $0 }
                return text.split(separator: "\n").first(where: { $0.contains("ready") }).map(String.init)
            }
            while ContinuousClock.now < deadline {
                if let found = line() { return found }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return line()
        }

        /// SIGTERM, then the exit status (SIGKILL after `seconds`).
        func terminate(within seconds: Double = 10) async -> Int32 {
            guard process.isRunning else { return process.terminationStatus }
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(seconds)
            while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return process.terminationStatus
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Everything a TCP client receives, in order.
    final class Inbox: Sendable {
        let client: BinaryTCPClient
        private let messages = Shared([ServerMessage]())

        init(port: Int, username: String) async throws {
            client = try await BinaryTCPClient.connect(host: "127.0.0.1", port: port)
            _ = try await client.login(username: username, password: username, heartbeatIntervalMs: 10_000)
            let messages = self.messages
            let stream = client.messages
            Task {
                for await received in stream where received.message != .heartbeat {
                    messages.withLock { $0.append(received.message) }
                }
            }
        }

        /// The first message matching `predicate` within `seconds`.
        func first(within seconds: Double = 5, where predicate: (ServerMessage) -> Bool) async -> ServerMessage? {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if let found = messages.withLock({ $0.first(where: predicate) }) { return found }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return messages.withLock { $0.first(where: predicate) }
        }
    }

    static func configuration(dir: URL) -> String {
        var text = """
            [metrics]
            enabled = false

            [[symbols]]
            name = "AAPL"

            [[symbols]]
            name = "MSFT"

            [[gateway.binary_sessions]]
            username = "maker"
            password = "maker"
            accounts = [1]

            [[gateway.binary_sessions]]
            username = "taker"
            password = "taker"
            accounts = [2]

            """
        for shard in 0..<2 {
            text += """

                [[shards]]
                id = \(shard)
                orders = "ipc://\(dir.path)/s\(shard)-orders"
                events = "ipc://\(dir.path)/s\(shard)-events"
                replay = "ipc://\(dir.path)/s\(shard)-replay"
                symbols = ["\(shard == 0 ? "AAPL" : "MSFT")"]

                """
        }
        return text
    }

    /// A gateway's own configuration: the shared file plus its [gateway] table.
    static func gatewayConfiguration(_ shared: String, name: String, id: Int, dir: URL) -> String {
        """
        [gateway]
        name = "\(name)"
        id = \(id)
        fix_port = -1
        binary_port = 0
        udp_port = -1
        state_dir = "\(dir.path)/state-\(name)"

        """ + shared
    }

    /// Sends IOC probes (they never rest) for `symbol` until one is accepted — the shard (and,
    /// with one, the risk sidecar) is connected — or 100 attempts are refused or unanswered.
    /// Probe ids are `firstProbeID`, `firstProbeID + 1`, …
    static func waitUntilReachable(_ inbox: Inbox, account: UInt32, symbol: String, firstProbeID: UInt64)
        async throws -> Bool
    {
        for attempt in 0..<100 {
            let probe = firstProbeID + UInt64(attempt)
            try await inbox.client.send(
                .newOrder(
                    NewOrderRequest(
                        clientOrderID: probe, account: account, symbol: SymbolCode(symbol)!, side: .buy,
                        timeInForce: .immediateOrCancel, price: 1, quantity: 1)))
            let answer = await inbox.first(within: 5) {
                switch $0 {
                case .orderAccepted(let a): a.clientOrderID == probe
                case .rejected(let r): r.clientOrderID == probe
                default: false
                }
            }
            if case .orderAccepted? = answer { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    static func order(_ id: UInt64, account: UInt32, symbol: String, side: BinarySide, price: Int64 = 15_000)
        -> ClientMessage
    {
        .newOrder(
            NewOrderRequest(
                clientOrderID: id, account: account, symbol: SymbolCode(symbol)!, side: side, price: price,
                quantity: 100))
    }

    @Test func twoGatewaysShareShardsAndRouteEachReportToItsOwner() async throws {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-gw2-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The [[gateway.binary_sessions]] tables belong under [gateway]: each gateway's file starts with it.
        let shared = Self.configuration(dir: dir)
        let engineConfig = dir.appendingPathComponent("engines.toml")
        try ("[gateway]\n" + shared).write(to: engineConfig, atomically: true, encoding: .utf8)
        var children: [ChildProcess] = []
        defer { for child in children where child.process.isRunning { child.kill9() } }
        for shard in 0..<2 {
            children.append(
                try ChildProcess(
                    binary, ["engine", "--config", engineConfig.path, "--shard", "\(shard)", "--metrics-port=-1"],
                    log: dir.appendingPathComponent("engine-\(shard).log")))
        }
        var ports: [Int] = []
        for (name, id) in [("gw-a", 1), ("gw-b", 2)] {
            let path = dir.appendingPathComponent("\(name).toml")
            try Self.gatewayConfiguration(shared, name: name, id: id, dir: dir).write(
                to: path, atomically: true, encoding: .utf8)
            let gateway = try ChildProcess(
                binary, ["gateway", "--config", path.path, "--metrics-port=-1"],
                log: dir.appendingPathComponent("\(name).log"))
            children.append(gateway)
            ports.append(try #require(await gateway.readyPort("binary"), "\(name) did not get ready"))
        }

        // The maker on gateway A, the taker on gateway B, on each shard's symbol.
        let maker = try await Inbox(port: ports[0], username: "maker")
        let taker = try await Inbox(port: ports[1], username: "taker")
        var makerIDs: [UInt64] = []
        var takerIDs: [UInt64] = []
        for (i, symbol) in ["AAPL", "MSFT"].enumerated() {
            let makerOrder = UInt64(10 + i)
            let takerOrder = UInt64(20 + i)
            // The shards may still be connecting: probe with IOC orders (they never rest) until one
            // is answered by the engine rather than refused as `shard_unavailable`, through both gateways.
            for (inbox, account) in [(maker, UInt32(1)), (taker, UInt32(2))] {
                let firstProbe = UInt64(1_000 + 100 * i) + (account == 1 ? 0 : 50_000)
                let reached = try await Self.waitUntilReachable(
                    inbox, account: account, symbol: symbol, firstProbeID: firstProbe)
                #expect(reached, "\(symbol) must become reachable")
            }
            try await maker.client.send(Self.order(makerOrder, account: 1, symbol: symbol, side: .sell))
            let accepted = await maker.first(within: 10) {
                if case .orderAccepted(let a) = $0 { a.clientOrderID == makerOrder } else { false }
            }
            guard case .orderAccepted(let resting)? = accepted else {
                Issue.record("\(symbol): the resting order was never accepted")
                continue
            }
            makerIDs.append(resting.exchangeOrderID)
            try await taker.client.send(Self.order(takerOrder, account: 2, symbol: symbol, side: .buy))
            let takerFill = await taker.first(within: 10) {
                if case .fill(let f) = $0 { f.clientOrderID == takerOrder } else { false }
            }
            let makerFill = await maker.first(within: 10) {
                if case .fill(let f) = $0 { f.clientOrderID == resting.clientOrderID } else { false }
            }
            guard case .fill(let t)? = takerFill, case .fill(let m)? = makerFill else {
                Issue.record("\(symbol): each side must get its fill through its own gateway")
                continue
            }
            takerIDs.append(t.exchangeOrderID)
            #expect(t.tradeID == m.tradeID && t.quantity == 100 && m.quantity == 100 && t.price == 15_000)
            #expect(t.leavesQuantity == 0 && m.leavesQuantity == 0)
        }
        // Engine order ids carry each gateway's id in their high 16 bits: never the same id twice.
        #expect(makerIDs.allSatisfy { $0 >> 48 == 1 } && makerIDs.count == 2)
        #expect(takerIDs.allSatisfy { $0 >> 48 == 2 } && takerIDs.count == 2)

        // Shard 1 dies: MSFT is refused promptly through either gateway, AAPL still trades.
        children[1].kill9()
        try await Task.sleep(for: .milliseconds(300))
        try await taker.client.send(Self.order(30, account: 2, symbol: "MSFT", side: .buy))
        let refused = await taker.first(within: 5) {
            if case .rejected(let r) = $0 { r.clientOrderID == 30 } else { false }
        }
        if case .rejected(let r)? = refused {
            #expect(r.errorCode == .shardUnavailable || r.errorCode == .engineTimeout)
        } else {
            Issue.record("an order for a dead shard must be refused, not left hanging")
        }
        try await maker.client.send(Self.order(40, account: 1, symbol: "AAPL", side: .sell, price: 15_100))
        let stillTrading = await maker.first {
            if case .orderAccepted(let a) = $0 { a.clientOrderID == 40 } else { false }
        }
        #expect(stillTrading != nil, "the other shard keeps trading")

        await maker.client.close()
        await taker.client.close()
        // Gateways and the surviving engine stop cleanly on SIGTERM.
        for child in [children[2], children[3], children[0]] {
            #expect(await child.terminate() == 0)
        }
    }
}
