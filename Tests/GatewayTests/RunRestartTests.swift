import BinaryProtocol
import ChronosClient
import Foundation
import TestSupport
import Testing

/// `chronos run` stopped and started again on its state folder: what clients rely on across the
/// restart besides the recovered books.
@Suite(.serialized) struct RunRestartTests {
    typealias ChildProcess = MultiGatewayTests.ChildProcess
    typealias Inbox = MultiGatewayTests.Inbox

    static func configuration(dir: URL) -> String {
        """
        [metrics]
        enabled = false

        [persistence]
        enabled = false

        [gateway]
        fix_port = -1
        binary_port = 0
        udp_port = -1
        state_dir = "\(dir.path)/state"

        [[gateway.binary_sessions]]
        username = "maker"
        password = "maker"
        accounts = [1]

        [[gateway.binary_sessions]]
        username = "taker"
        password = "taker"
        accounts = [2]

        [[symbols]]
        name = "AAPL"
        """
    }

    static func order(
        _ id: UInt64, account: UInt32, side: BinarySide, type: BinaryOrderType = .limit, price: Int64,
        quantity: Int64
    ) -> ClientMessage {
        .newOrder(
            NewOrderRequest(
                clientOrderID: id, account: account, symbol: SymbolCode("AAPL")!, side: side, orderType: type,
                price: price, quantity: quantity))
    }

    @Test func marketOrdersKeepTheirReferencePriceAcrossARestart() async throws {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-restart-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("chronos.toml")
        try Self.configuration(dir: dir).write(to: config, atomically: false, encoding: .utf8)

        // First run: a trade at 150.00 (a resting sell of 10, a buy of 4), and a market order works.
        let first = try ChildProcess(
            binary, ["run", "--config", config.path], log: dir.appendingPathComponent("run-1.log"))
        defer { if first.process.isRunning { first.kill9() } }
        let port = try #require(await first.readyPort("binary"), "the first run did not get ready")
        let maker = try await Inbox(port: port, username: "maker")
        let taker = try await Inbox(port: port, username: "taker")
        try await maker.client.send(Self.order(1, account: 1, side: .sell, price: 15_000, quantity: 10))
        #expect(await maker.first { if case .orderAccepted(let a) = $0 { a.clientOrderID == 1 } else { false } } != nil)
        try await taker.client.send(Self.order(1, account: 2, side: .buy, price: 15_000, quantity: 4))
        #expect(await taker.first { if case .fill(let f) = $0 { f.clientOrderID == 1 } else { false } } != nil)
        try await taker.client.send(Self.order(2, account: 2, side: .buy, type: .market, price: 0, quantity: 1))
        let before = await taker.first { Self.answers($0, 2) }
        #expect(before.map(Self.isFill) == true, "a market order before the restart: \(String(describing: before))")
        await maker.client.close()
        await taker.client.close()
        #expect(await first.terminate() == 0)

        // Second run on the same state: the book is back (5 left at 150.00) and so is the
        // reference price, so a market order is priced and trades instead of being refused
        // `risk_no_reference_price`.
        let second = try ChildProcess(
            binary, ["run", "--config", config.path], log: dir.appendingPathComponent("run-2.log"))
        defer { if second.process.isRunning { second.kill9() } }
        let port2 = try #require(await second.readyPort("binary"), "the second run did not get ready")
        let again = try await Inbox(port: port2, username: "taker")
        try await again.client.send(Self.order(3, account: 2, side: .buy, type: .market, price: 0, quantity: 2))
        let after = await again.first { Self.answers($0, 3) }
        #expect(after.map(Self.isFill) == true, "a market order after the restart: \(String(describing: after))")
        await again.client.close()
        #expect(await second.terminate() == 0)
    }

    /// Whether `message` is the first telling answer to order `id`: a fill or a reject.
    static func answers(_ message: ServerMessage, _ id: UInt64) -> Bool {
        switch message {
        case .fill(let f): f.clientOrderID == id
        case .rejected(let r): r.clientOrderID == id
        default: false
        }
    }

    static func isFill(_ message: ServerMessage) -> Bool {
        if case .fill = message { true } else { false }
    }
}
