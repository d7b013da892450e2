import BinaryProtocol
import Testing

/// Inline pre-trade risk in the gateway: the static limits refuse an order before it reaches the
/// engine, and the engine's events update the limits' state.
@Suite struct GatewayRiskTests {
    static let riskTOML = """
        [[risk.accounts]]
        account = "102"
        max_open_orders = 2
        """

    @Test func notionalAboveOneMillionDollarsIsRefusedAtTheBoundary() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            // $1000.00 × 1,000 shares = $1,000,000: passes; one share more is over the limit.
            try await session.send(newOrder(1, .buy, price: 100_000, quantity: 1_000))
            #expect(try await session.expectNext().accepted != nil)
            try await session.send(newOrder(2, .buy, price: 100_000, quantity: 1_001))
            #expect(
                try await session.expectNext()
                    == .rejected(RejectedReport(clientOrderID: 2, requestKind: .newOrder, errorCode: .riskRejected)))
        }
    }

    @Test func openOrderLimitFollowsTheEnginesEvents() async throws {
        try await withExchange(Self.riskTOML) { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader2")
            for id in UInt64(1)...2 {
                try await session.send(newOrder(id, .buy, price: 15_000, quantity: 10, account: 102))
                #expect(try await session.expectNext().accepted != nil)
            }
            try await session.send(newOrder(3, .buy, price: 15_000, quantity: 10, account: 102))
            #expect(try await session.expectNext().isRiskRejected, "a third open order is over max_open_orders = 2")
            // The engine's cancel frees a slot.
            try await session.send(
                .cancel(CancelRequest(requestID: 50, clientOrderID: 1, account: 102, symbol: sym("AAPL"))))
            _ = try await session.expectNext()
            try await session.send(newOrder(4, .buy, price: 15_000, quantity: 10, account: 102))
            #expect(try await session.expectNext().accepted != nil)
        }
    }
}

extension ServerMessage {
    fileprivate var isRiskRejected: Bool {
        if case .rejected(let r) = self { r.errorCode == .riskRejected } else { false }
    }
}
