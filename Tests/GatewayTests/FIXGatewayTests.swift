import FIX
import Foundation
import Testing

// Black-box tests of the gateway's FIX 4.4 side over TCP (docs/gateway.md, "FIX 4.4"): what FIX
// 4.4 and QuickFIX clients expect for FOK orders, Account (1) names, ResetOnLogon and
// OrderStatusRequest. The Python suite Tests/FIXAcceptance covers the rest against the binary.

/// Two FIX sessions: CLIENT1 trades the named account ACC1 and accounts 7 and 8; CLIENT2 trades
/// ACC2 and resets its sequence numbers on every Logon.
private let fixTOML = """
    [gateway.account_ids]
    ACC1 = 1001
    ACC2 = 1002

    [[gateway.fix_sessions]]
    sender_comp_id = "CHRONOS"
    target_comp_id = "CLIENT1"
    accounts = ["ACC1", 7, "8"]

    [[gateway.fix_sessions]]
    sender_comp_id = "CHRONOS"
    target_comp_id = "CLIENT2"
    accounts = ["ACC2"]
    reset_on_logon = true
    """

/// A logged-on FIX client of `exchange` for `compID`.
private func loggedOn(_ exchange: ExchangeHarness, _ compID: String) async throws -> FIXTestClient {
    let client = try FIXTestClient(port: exchange.fixPort, senderCompID: compID)
    _ = try await client.logon()
    return client
}

@Suite("FIX gateway", .serialized)
struct FIXGatewayTests {
    // MARK: Fill or kill

    @Test func aFillOrKillThatCannotFillGetsNewThenCanceledAndTradesNothing() async throws {
        try await withExchange { exchange in
            let maker = try await loggedOn(exchange, "CLIENT1")
            let taker = try await loggedOn(exchange, "CLIENT2")
            await maker.newOrder("S1", side: "2", quantity: 10, price: "150.00")
            #expect(try await maker.expect().string(150) == "0")
            await taker.newOrder("FOK1", side: "1", quantity: 11, price: "150.00", [(59, "4")])
            let new = try await taker.expect(within: 3, "the FOK's New")
            #expect(new.msgType == "8")
            #expect(new.string(150) == "0" && new.string(39) == "0", "first a New: \(new.text)")
            #expect(new.string(11) == "FOK1" && new.string(151) == "11" && new.string(14) == "0", "\(new.text)")
            #expect(new.string(59) == "4")
            let killed = try await taker.expect(within: 3, "the FOK's Canceled")
            #expect(killed.string(150) == "4" && killed.string(39) == "4", "then Canceled: \(killed.text)")
            #expect(killed.string(11) == "FOK1" && killed.string(41) == nil)
            #expect(killed.string(151) == "0" && killed.string(14) == "0" && killed.string(38) == "11")
            #expect(killed.string(58)?.hasPrefix("fok_unfillable") == true, "\(killed.text)")
            #expect(killed.string(37) == new.string(37), "one order id for both reports")
            #expect(killed.string(17) != new.string(17), "two executions")
            #expect(await taker.collect(for: 0.3).isEmpty, "no fill and no reject")
            #expect(await maker.collect(for: 0.1).isEmpty, "the resting sell did not trade")
        }
    }

    // MARK: Account names

    @Test func accountNamesAndNumbersTradeAndAreEchoedAsSent() async throws {
        try await withExchange(fixTOML) { exchange in
            let client = try await loggedOn(exchange, "CLIENT1")
            let cases: [(clOrdID: String, account: String?, echoed: String)] = [
                ("N1", "ACC1", "ACC1"),
                ("N2", "1001", "1001"),  // a numeric string is its number: the same account, as sent
                ("N3", nil, "ACC1"),  // no tag 1: the session's first account, by its name
                ("N4", "7", "7"),
                ("N5", "8", "8"),
            ]
            for (i, c) in cases.enumerated() {
                await client.newOrder(
                    c.clOrdID, quantity: 1, price: "140.0\(i)", c.account.map { [(1, $0)] } ?? [])
                let report = try await client.expect(within: 3, "the answer to \(c.clOrdID)")
                #expect(report.string(150) == "0", "\(c.clOrdID): \(report.text)")
                #expect(report.string(1) == c.echoed, "\(c.clOrdID): \(report.text)")
            }
            // A cancel's report names the account as the order did.
            await client.send(
                "F",
                [(41, "N2"), (11, "C2"), (1, "ACC1"), (55, "AAPL"), (54, "1"), (60, FIXTimestamp.string(nowNs()))])
            let canceled = try await client.expect(within: 3, "the cancel of N2")
            #expect(canceled.string(150) == "4" && canceled.string(1) == "1001", "\(canceled.text)")
        }
    }

    @Test func unknownAndForeignAccountNamesAreRejectedWithAClearText() async throws {
        try await withExchange(fixTOML) { exchange in
            let client = try await loggedOn(exchange, "CLIENT1")
            await client.newOrder("U1", quantity: 1, price: "140.00", [(1, "NOPE")])
            let unknown = try await client.expect()
            #expect(unknown.string(150) == "8" && unknown.string(39) == "8" && unknown.string(103) == "15")
            #expect(unknown.string(58)?.hasPrefix("unknown_account: NOPE") == true, "\(unknown.text)")
            #expect(unknown.string(1) == "NOPE", "echoed as sent")
            await client.newOrder("U2", quantity: 1, price: "140.00", [(1, "ACC2")])
            let foreign = try await client.expect()
            #expect(foreign.string(150) == "8" && foreign.string(103) == "15")
            #expect(foreign.string(58)?.hasPrefix("account_not_permitted: ACC2") == true, "\(foreign.text)")
            await client.newOrder("U3", quantity: 1, price: "140.00", [(1, "1002")])
            #expect(try await client.expect().string(58)?.hasPrefix("account_not_permitted") == true)
        }
    }

    @Test func aNameAndItsNumberAreOneAccountForTheEngine() async throws {
        try await withExchange(fixTOML) { exchange in
            let client = try await loggedOn(exchange, "CLIENT1")
            await client.newOrder("S1", side: "2", quantity: 5, price: "150.00", [(1, "ACC1")])
            #expect(try await client.expect().string(150) == "0")
            // Account 1001 meets its own sell: self-trade prevention cancels it instead of a fill.
            await client.newOrder("B1", side: "1", quantity: 5, price: "150.00", [(1, "1001"), (59, "3")])
            let answers = await client.collect(for: 0.5)
            #expect(answers.map { $0.string(150) } == ["0", "4"], "\(answers.map(\.text))")
            #expect(answers.last?.string(58) == "self_trade_prevention", "\(answers.map(\.text))")
        }
    }

    // MARK: Reset on logon

    @Test func resetOnLogonStartsEveryLogonAtSequenceOne() async throws {
        try await withExchange(fixTOML) { exchange in
            for round in 1...2 {
                let client = try FIXTestClient(port: exchange.fixPort, senderCompID: "CLIENT2")
                let logon = try await client.logon()
                #expect(logon.msgSeqNum == 1, "round \(round): \(logon.text)")
                #expect(logon.string(141) == nil, "no 141=Y was asked for")
                await client.send("5", [])
                let logout = try await client.expect(within: 3, "the Logout answer")
                #expect(logout.msgType == "5" && logout.msgSeqNum == 2, "round \(round): \(logout.text)")
                #expect(await client.next(within: 3) == nil && client.sawEOF, "the gateway closes")
            }
        }
    }

    @Test func withoutResetOnLogonALogonAtSequenceOneIsTooLow() async throws {
        try await withExchange(fixTOML) { exchange in
            let first = try await loggedOn(exchange, "CLIENT1")
            await first.send("5", [])
            _ = try await first.expect(within: 3, "the Logout answer")
            _ = await first.next(within: 3)
            let second = try FIXTestClient(port: exchange.fixPort, senderCompID: "CLIENT1")
            await second.send("A", [(98, "0"), (108, "30")])
            let answer = try await second.expect(within: 5, "the answer to a Logon at 1")
            #expect(answer.msgType == "5", "\(answer.text)")
            #expect(answer.string(58)?.hasPrefix("MsgSeqNum too low") == true)
        }
    }

    // MARK: Order status

    @Test func orderStatusRequestIsAnsweredWithTheOrdersStatus() async throws {
        try await withExchange(fixTOML) { exchange in
            let client = try await loggedOn(exchange, "CLIENT1")
            let other = try await loggedOn(exchange, "CLIENT2")
            await client.newOrder("B1", side: "1", quantity: 10, price: "149.00", [(1, "1001")])
            let new = try await client.expect()
            let orderID = try #require(new.string(37))
            func status(_ fields: [(Int, String)]) async throws -> FIXMessage {
                await client.send("H", fields + [(55, "AAPL"), (54, "1")])
                let report = try await client.expect(within: 3, "the status report")
                try #require(report.msgType == "8", "\(report.text)")
                #expect(report.string(150) == "I", "\(report.text)")
                return report
            }
            let resting = try await status([(11, "B1"), (790, "REQ1")])
            #expect(resting.string(39) == "0" && resting.string(790) == "REQ1", "\(resting.text)")
            #expect(resting.string(37) == orderID && resting.string(11) == "B1")
            #expect(resting.string(151) == "10" && resting.string(14) == "0" && resting.string(6) == "0")
            #expect(resting.string(1) == "1001", "the order's account as the client sent it")
            // A partial fill.
            await other.newOrder("S1", side: "2", quantity: 4, price: "149.00")
            #expect(try await client.expect(within: 3, "the fill").string(150) == "F")
            let partial = try await status([(11, "B1")])
            #expect(partial.string(39) == "1" && partial.string(151) == "6" && partial.string(14) == "4")
            #expect(partial.string(6).flatMap(Double.init) == 149, "\(partial.text)")
            #expect(partial.string(790) == nil, "790 only when the request had one")
            // Canceled: still known by ClOrdID, and by OrderID alone.
            await client.send(
                "F", [(41, "B1"), (11, "C1"), (55, "AAPL"), (54, "1"), (60, FIXTimestamp.string(nowNs()))])
            #expect(try await client.expect(within: 3, "the cancel").string(150) == "4")
            let done = try await status([(11, "C1"), (790, "REQ2")])
            #expect(done.string(39) == "4" && done.string(151) == "0" && done.string(14) == "4", "\(done.text)")
            #expect(done.string(11) == "C1" && done.string(790) == "REQ2")
            let byOrderID = try await status([(37, orderID), (11, "whatever")])
            #expect(byOrderID.string(39) == "4" && byOrderID.string(37) == orderID, "\(byOrderID.text)")
        }
    }

    @Test func orderStatusOfAnUnknownOrderIsRejectedStatusWithText() async throws {
        try await withExchange(fixTOML) { exchange in
            let client = try await loggedOn(exchange, "CLIENT1")
            await client.send("H", [(11, "NOPE"), (790, "REQ9"), (55, "AAPL"), (54, "2")])
            let report = try await client.expect(within: 3, "the status report")
            #expect(report.msgType == "8", "an ExecutionReport, not a reject: \(report.text)")
            #expect(report.string(150) == "I" && report.string(39) == "8", "\(report.text)")
            #expect(report.string(11) == "NOPE" && report.string(790) == "REQ9" && report.string(37) == "NONE")
            #expect(report.string(55) == "AAPL" && report.string(54) == "2")
            #expect(report.string(151) == "0" && report.string(14) == "0" && report.string(6) == "0")
            #expect(report.string(58)?.hasPrefix("unknown_order") == true, "\(report.text)")
        }
    }
}

/// Nanoseconds since the Unix epoch.
private func nowNs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }
