import FIX
import Foundation
import Testing

// Black-box tests of the gateway's FIX 4.4 side over TCP (docs/gateway.md, "FIX 4.4"): what FIX
// 4.4 and QuickFIX clients expect for FOK orders. The Python suite Tests/FIXAcceptance covers the
// rest against the binary.

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
}
