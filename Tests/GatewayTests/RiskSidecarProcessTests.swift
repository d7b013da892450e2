import BinaryProtocol
import ChronosClient
import Foundation
import TestSupport
import Testing

/// The risk engine as a sidecar (`chronos risk`) in front of two gateways, all separate processes
/// over ipc: the sidecar follows both shards' events, so an account's limits hold across gateways;
/// when the sidecar is gone, orders are refused (fail closed) rather than sent unchecked.
@Suite(.serialized) struct RiskSidecarProcessTests {
    typealias Child = MultiGatewayTests.ChildProcess
    typealias Inbox = MultiGatewayTests.Inbox

    enum Answer: Equatable {
        case accepted
        case rejected(ErrorCode)
    }

    /// Waits for an answer to `id`: accepted or rejected (with its error code); nil: none in time.
    /// The last lines of every child's log in `dir`, for a failure's message.
    static func logs(_ dir: URL) -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".log") }.sorted().map { name in
            let text = (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return "--- \(name)\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    static func answer(_ inbox: Inbox, _ id: UInt64) async -> Answer? {
        let message = await inbox.first(within: 10) {
            switch $0 {
            case .orderAccepted(let a): a.clientOrderID == id
            case .rejected(let r): r.clientOrderID == id
            default: false
            }
        }
        switch message {
        case .orderAccepted?: return .accepted
        case .rejected(let r)?: return .rejected(r.errorCode)
        default: return nil
        }
    }

    @Test func limitsHoldAcrossGatewaysAndALostSidecarFailsClosed() async throws {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-risk-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The maker also trades for account 3, which the probes below use: account 1's
        // max_open_orders must count only the orders under test, not IOC probes whose cancel the
        // sidecar may not have followed yet (seen once under a full run's load).
        let makerWithProbeAccount = MultiGatewayTests.configuration(dir: dir).replacingOccurrences(
            of: "password = \"maker\"\naccounts = [1]", with: "password = \"maker\"\naccounts = [1, 3]")
        try #require(makerWithProbeAccount.contains("accounts = [1, 3]"))
        let shared =
            makerWithProbeAccount + """

                [risk]
                placement = "sidecar"
                sidecar = "ipc://\(dir.path)/risk.ipc"
                sidecar_timeout_us = 300000

                [[risk.accounts]]
                account = "1"
                max_open_orders = 2

                [risk.model]
                mode = "off"

                """
        let commonConfig = dir.appendingPathComponent("common.toml")
        try ("[gateway]\n" + shared).write(to: commonConfig, atomically: true, encoding: .utf8)
        var children: [Child] = []
        defer { for child in children where child.process.isRunning { child.kill9() } }
        for shard in 0..<2 {
            children.append(
                try Child(
                    binary, ["engine", "--config", commonConfig.path, "--shard", "\(shard)", "--metrics-port=-1"],
                    log: dir.appendingPathComponent("engine-\(shard).log")))
        }
        let sidecar = try Child(
            binary, ["risk", "--config", commonConfig.path, "--metrics-port=-1"],
            log: dir.appendingPathComponent("risk.log"))
        children.append(sidecar)
        var ports: [Int] = []
        for (name, id) in [("gw-a", 1), ("gw-b", 2)] {
            let path = dir.appendingPathComponent("\(name).toml")
            try MultiGatewayTests.gatewayConfiguration(shared, name: name, id: id, dir: dir).write(
                to: path, atomically: true, encoding: .utf8)
            let gateway = try Child(
                binary, ["gateway", "--config", path.path, "--metrics-port=-1"],
                log: dir.appendingPathComponent("\(name).log"))
            children.append(gateway)
            ports.append(try #require(await gateway.readyPort("binary"), "\(name) did not get ready"))
        }
        let viaA = try await Inbox(port: ports[0], username: "maker")
        let viaB = try await Inbox(port: ports[1], username: "maker")
        // Until the shards and the sidecar are connected, probe with IOC orders (they never rest), for
        // account 3.
        for (inbox, symbol, base) in [(viaA, "AAPL", UInt64(1_000)), (viaB, "MSFT", UInt64(2_000))] {
            let reached = try await MultiGatewayTests.waitUntilReachable(
                inbox, account: 3, symbol: symbol, firstProbeID: base)
            try #require(reached, "\(symbol) must become reachable through the sidecar")
        }
        // Two resting orders of account 1, one through each gateway: both pass.
        try await viaA.client.send(MultiGatewayTests.order(10, account: 1, symbol: "AAPL", side: .sell))
        let first = await Self.answer(viaA, 10)
        #expect(first == .accepted, "order 10: \(String(describing: first))\n\(Self.logs(dir))")
        try await viaB.client.send(MultiGatewayTests.order(11, account: 1, symbol: "MSFT", side: .sell))
        let second = await Self.answer(viaB, 11)
        #expect(second == .accepted, "order 11: \(String(describing: second))")
        // The third, through either gateway, is over max_open_orders = 2 account-wide: refused.
        try await viaA.client.send(MultiGatewayTests.order(12, account: 1, symbol: "AAPL", side: .sell, price: 15_100))
        let third = await Self.answer(viaA, 12)
        #expect(third == .rejected(.riskRejected), "order 12: \(String(describing: third))\n\(Self.logs(dir))")
        // Canceling one frees a slot (the sidecar followed the cancel on the shard's event stream).
        try await viaB.client.send(
            .cancel(CancelRequest(requestID: 13, clientOrderID: 11, account: 1, symbol: SymbolCode("MSFT")!)))
        _ = await viaB.first(within: 10) {
            if case .canceled(let c) = $0 { c.clientOrderID == 11 } else { false }
        }
        var freed = false
        for attempt in 0..<50 where !freed {
            let id = UInt64(20 + attempt)
            try await viaA.client.send(
                MultiGatewayTests.order(id, account: 1, symbol: "AAPL", side: .sell, price: 15_200))
            if case .accepted? = await Self.answer(viaA, id) {
                freed = true
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(freed, "a canceled order no longer counts against the account")

        // The sidecar dies: orders are refused (risk unavailable), not sent unchecked.
        sidecar.kill9()
        try await viaB.client.send(MultiGatewayTests.order(90, account: 1, symbol: "MSFT", side: .buy, price: 14_000))
        let lost = await Self.answer(viaB, 90)
        #expect(lost == .rejected(.riskRejected), "\(String(describing: lost))")
        await viaA.client.close()
        await viaB.client.close()
        for child in children where child.process.isRunning { #expect(await child.terminate() == 0) }
    }
}

/// The operator's kill switch at run time: edit `[[risk.accounts]] killed`, send SIGHUP.
@Suite(.serialized) struct KillSwitchReloadTests {
    static func configuration(dir: URL, killed: Bool) -> String {
        """
        [metrics]
        enabled = false

        [gateway]
        fix_port = -1
        binary_port = 0
        udp_port = -1
        state_dir = "\(dir.path)/state"

        [[gateway.binary_sessions]]
        username = "trader1"
        password = "trader1"
        accounts = [101]

        [[risk.accounts]]
        account = "101"
        killed = \(killed)

        [risk.model]
        mode = "off"

        """
    }

    @Test func sighupAppliesAReloadedKillSwitch() async throws {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-kill-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("chronos.toml")
        try Self.configuration(dir: dir, killed: false).write(to: path, atomically: true, encoding: .utf8)
        let exchange = try MultiGatewayTests.ChildProcess(
            binary, ["run", "--config", path.path], log: dir.appendingPathComponent("run.log"))
        defer { if exchange.process.isRunning { exchange.kill9() } }
        let port = try #require(await exchange.readyPort("binary"), "chronos run did not get ready")
        let trader = try await MultiGatewayTests.Inbox(port: port, username: "trader1")
        try await trader.client.send(MultiGatewayTests.order(1, account: 101, symbol: "AAPL", side: .buy))
        #expect(await RiskSidecarProcessTests.answer(trader, 1) == .accepted)

        // The operator kills account 101: new orders are refused, cancels still pass.
        try Self.configuration(dir: dir, killed: true).write(to: path, atomically: true, encoding: .utf8)
        kill(exchange.process.processIdentifier, SIGHUP)
        var refused = false
        for attempt in 0..<100 where !refused {
            let id = UInt64(10 + attempt)
            try await trader.client.send(
                MultiGatewayTests.order(id, account: 101, symbol: "AAPL", side: .buy, price: 14_000))
            if await RiskSidecarProcessTests.answer(trader, id) == .rejected(.riskRejected) {
                refused = true
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(refused, "a reloaded kill switch refuses the account's new orders")
        try await trader.client.send(
            .cancel(CancelRequest(requestID: 500, clientOrderID: 1, account: 101, symbol: SymbolCode("AAPL")!)))
        let canceled = await trader.first(within: 10) {
            if case .canceled(let c) = $0 { c.clientOrderID == 1 } else { false }
        }
        #expect(canceled != nil, "a killed account can still cancel")

        // A file that no longer parses changes nothing (the switch stays on).
        try "[risk\nbroken".write(to: path, atomically: true, encoding: .utf8)
        kill(exchange.process.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(200))
        try await trader.client.send(
            MultiGatewayTests.order(900, account: 101, symbol: "AAPL", side: .buy, price: 14_000))
        #expect(await RiskSidecarProcessTests.answer(trader, 900) == .rejected(.riskRejected))
        await trader.client.close()
        #expect(await exchange.terminate() == 0)
    }
}
