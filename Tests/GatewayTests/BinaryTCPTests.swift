import BinaryProtocol
import ChronosClient
import Foundation
import Testing

// Black-box tests of the gateway's binary protocol over TCP, from docs/protocol.md and the
// gateway's configuration contract: an in-process exchange (ExchangeHarness), the client library
// and raw sockets. Prices are in price units (15_000 = 150.00 with 2 decimals).

/// AAPL on a tick of 5 and MSFT in lots of 10 (default sessions), for the engine's checks.
let tickOfFiveTOML = """
    [[symbols]]
    name = "AAPL"
    tick_size = 5
    lot_size = 1
    min_qty = 1
    max_qty = 1000000
    min_price = 5
    max_price = 100000000
    price_decimals = 2

    [[symbols]]
    name = "MSFT"
    tick_size = 1
    lot_size = 10
    min_qty = 10
    max_qty = 1000000
    min_price = 1
    max_price = 100000000
    price_decimals = 2
    """

@Suite("Binary TCP: login and sessions", .serialized)
struct BinaryTCPLoginTests {
    @Test func loginOpensASessionThatTrades() async throws {
        try await withExchange { exchange in
            let (session, accepted) = try await TCPTestSession.login(exchange, "trader1", heartbeatIntervalMs: 5_000)
            #expect(accepted.sessionID != 0, "a session id is never 0")
            #expect(accepted.sessionToken == 0, "over TCP the session token is 0")
            #expect(accepted.heartbeatIntervalMs > 0)
            try await session.send(newOrder(1, .buy, price: 15_000, quantity: 10))
            let answer = try await session.expectNext(within: 3, "orderAccepted")
            let report = try #require(answer.accepted, "got \(answer)")
            #expect(report.clientOrderID == 1)
            #expect(report.exchangeOrderID != 0)
            #expect(report.price == 15_000)
            #expect(report.quantity == 10)
            await session.close()
        }
    }

    @Test func twoSessionsGetDistinctSessionIDs() async throws {
        try await withExchange { exchange in
            let (one, first) = try await TCPTestSession.login(exchange, "trader1")
            let (two, second) = try await TCPTestSession.login(exchange, "trader2")
            #expect(first.sessionID != second.sessionID)
            await one.close()
            await two.close()
        }
    }

    @Test(arguments: [("trader1", "wrong"), ("nobody", "trader1"), ("trader1", "")])
    func badCredentialsAreRejectedAndTheConnectionCloses(username: String, password: String) async throws {
        try await withExchange { exchange in
            let session = try await TCPTestSession.connect(exchange)
            do {
                _ = try await session.login(username, password: password)
                Issue.record("login of \(username) with a wrong password was accepted")
            } catch BinaryClientError.loginRejected(let code) {
                #expect(code == .badCredentials)
            }
            #expect(await session.waitClosed(within: 2), "the gateway closes the connection after loginRejected")
        }
    }

    @Test func aRejectedLoginClosesTheConnection() async throws {
        try await withExchange { exchange in
            let raw = try RawTCPConnection(port: exchange.binaryPort)
            #expect(await raw.login("trader1", password: "wrong") == .loginRejected(.badCredentials))
            let (closed, after) = await raw.readUntilClosed(within: 2)
            #expect(closed, "over TCP the gateway closes the connection after loginRejected")
            #expect(after.isEmpty, "nothing follows loginRejected: \(after)")
        }
    }

    @Test func aUserLoggedInOverTCPCannotAlsoLogInOverUDP() async throws {
        try await withExchange { exchange in
            let (tcp, _) = try await TCPTestSession.login(exchange, "trader1")
            let udp = try await UDPTestSession.connect(exchange)
            await #expect(throws: BinaryClientError.loginRejected(.alreadyLoggedIn)) {
                _ = try await udp.client.login(username: "trader1", password: "trader1", timeout: .seconds(3))
            }
            await tcp.close()
        }
    }

    @Test func configuredSessionsReplaceTheDefaults() async throws {
        let toml = """
            [[gateway.binary_sessions]]
            username = "alice"
            password = "s3cret pass"
            accounts = [7, 8]
            """
        try await withExchange(toml) { exchange in
            let defaultUser = try await TCPTestSession.connect(exchange)
            await #expect(throws: BinaryClientError.loginRejected(.badCredentials)) {
                _ = try await defaultUser.login("trader1", password: "trader1")
            }
            let alice = try await TCPTestSession.connect(exchange)
            _ = try await alice.login("alice", password: "s3cret pass")
            try await alice.send(newOrder(1, .buy, price: 100, quantity: 1, account: 7))
            try await alice.send(newOrder(2, .buy, price: 100, quantity: 1, account: 8))
            try await alice.send(newOrder(3, .buy, price: 100, quantity: 1, account: 101))
            // Answers of different orders may come in any order (a gateway reject needs no engine).
            let answers = await alice.collect(count: 3)
            #expect(answers.count == 3, "\(answers)")
            #expect(Set(answers.compactMap(\.accepted).map(\.clientOrderID)) == [1, 2], "accounts 7 and 8: \(answers)")
            #expect(
                answers.compactMap(\.rejection)
                    == [RejectedReport(clientOrderID: 3, requestKind: .newOrder, errorCode: .accountNotPermitted)])
            await alice.close()
        }
    }

    @Test func aSecondSimultaneousLoginOfTheSameUserIsRejected() async throws {
        try await withExchange { exchange in
            let (first, _) = try await TCPTestSession.login(exchange, "trader1")
            let second = try await TCPTestSession.connect(exchange)
            await #expect(throws: BinaryClientError.loginRejected(.alreadyLoggedIn)) {
                _ = try await second.login("trader1", password: "trader1")
            }
            #expect(await second.waitClosed(), "the gateway closes the connection after loginRejected")
            // The first session is not disturbed.
            try await first.send(newOrder(1, .sell, price: 15_000, quantity: 5))
            #expect(try await first.expectNext().accepted?.clientOrderID == 1)
            await first.close()
        }
    }

    @Test func aSecondLoginOnTheSameConnectionIsAnsweredAlreadyLoggedIn() async throws {
        try await withExchange { exchange in
            let raw = try RawTCPConnection(port: exchange.binaryPort)
            let first = await raw.login("trader1")
            guard case .loginAccepted = first else {
                Issue.record("first login answered \(String(describing: first))")
                return
            }
            let second = await raw.login("trader2")
            switch second {
            case .loginRejected(let code): #expect(code == .alreadyLoggedIn)
            case .rejected(let report): #expect(report.errorCode == .alreadyLoggedIn)
            default: Issue.record("a second login answered \(String(describing: second))")
            }
        }
    }

    @Test func requestsBeforeLoginAreRejectedNotLoggedIn() async throws {
        try await withExchange { exchange in
            let raw = try RawTCPConnection(port: exchange.binaryPort)
            // Each answer names the request it refuses.
            #expect(await raw.send(encoded(newOrder(1, .buy, price: 15_000, quantity: 10))))
            #expect(
                await raw.next()
                    == .rejected(
                        RejectedReport(clientOrderID: 1, requestID: 0, requestKind: .newOrder, errorCode: .notLoggedIn))
            )
            let cancel = ClientMessage.cancel(
                CancelRequest(requestID: 9, clientOrderID: 1, account: 101, symbol: sym("AAPL")))
            #expect(await raw.send(encoded(cancel)))
            #expect(
                await raw.next()
                    == .rejected(
                        RejectedReport(clientOrderID: 1, requestID: 9, requestKind: .cancel, errorCode: .notLoggedIn)))
            // The connection stays open: a login now works and the early order was never entered.
            guard case .loginAccepted = await raw.login("trader1") else {
                Issue.record("login after rejected requests failed")
                return
            }
            #expect(await raw.send(encoded(newOrder(1, .buy, price: 15_000, quantity: 10))))
            #expect(await raw.next()?.accepted?.clientOrderID == 1, "clientOrderID 1 was never used")
        }
    }

    @Test func logoutIsAnsweredClosesAndFreesTheUser() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(.logout)
            #expect(try await session.expectNext().logoutReason == .requested)
            #expect(await session.waitClosed(), "logout closes the TCP connection")
            let (again, _) = try await TCPTestSession.login(exchange, "trader1")
            await again.close()
        }
    }

    @Test func aDroppedConnectionFreesTheUser() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            await session.close()
            var loggedIn = false
            let deadline = ContinuousClock.now + .seconds(3)
            while !loggedIn && ContinuousClock.now < deadline {
                let retry = try await TCPTestSession.connect(exchange)
                do {
                    _ = try await retry.login("trader1", password: "trader1")
                    loggedIn = true
                } catch BinaryClientError.loginRejected(.alreadyLoggedIn) {
                    try await Task.sleep(for: .milliseconds(50))
                }
                await retry.close()
            }
            #expect(loggedIn, "after its connection closed, trader1 can log in again")
        }
    }
}

@Suite("Binary TCP: orders", .serialized)
struct BinaryTCPOrderTests {
    @Test func anAccountTheSessionMayNotTradeIsRejected() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(5, .buy, price: 15_000, quantity: 10, account: 102))
            #expect(
                try await session.expectNext()
                    == .rejected(
                        RejectedReport(clientOrderID: 5, requestKind: .newOrder, errorCode: .accountNotPermitted))
            )
            // Nothing was entered for account 102: trader2's sell does not trade.
            let (other, _) = try await TCPTestSession.login(exchange, "trader2")
            try await other.send(
                newOrder(1, .sell, price: 15_000, quantity: 10, account: 102, timeInForce: .immediateOrCancel))
            let answers = await other.collect(count: 2)
            #expect(answers.first?.accepted?.clientOrderID == 1)
            #expect(answers.last?.cancelReport?.reason == .immediateOrCancelRemainder, "\(answers)")
            #expect(!answers.contains { $0.fillReport != nil })
            await session.close()
            await other.close()
        }
    }

    @Test func aCancelOrReplaceOfAnotherAccountIsRejected() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(1, .buy, price: 15_000, quantity: 10))
            _ = try #require(try await session.expectNext().accepted)
            try await session.send(
                .cancel(CancelRequest(requestID: 70, clientOrderID: 1, account: 102, symbol: sym("AAPL"))))
            let answer = try await session.expectNext()
            #expect(answer.rejection?.errorCode == .accountNotPermitted, "\(answer)")
            #expect(answer.rejection?.requestKind == .cancel)
            #expect(answer.rejection?.requestID == 70)
        }
    }

    @Test func aDuplicateClientOrderIDIsRejectedAndTheOriginalStays() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(42, .buy, price: 15_000, quantity: 10))
            _ = try #require(try await session.expectNext().accepted)
            try await session.send(newOrder(42, .buy, price: 14_000, quantity: 3))
            #expect(
                try await session.expectNext()
                    == .rejected(
                        RejectedReport(clientOrderID: 42, requestKind: .newOrder, errorCode: .duplicateClientOrderID)))
            try await session.send(
                .cancel(CancelRequest(requestID: 1, clientOrderID: 42, account: 101, symbol: sym("AAPL"))))
            let canceled = try #require(try await session.expectNext().cancelReport)
            #expect(canceled.canceledQuantity == 10, "the original order is untouched")
            // A done order's id stays used.
            try await session.send(newOrder(42, .buy, price: 15_000, quantity: 10))
            #expect(try await session.expectNext().rejection?.errorCode == .duplicateClientOrderID)
        }
    }

    @Test func anUnknownSymbolIsRejected() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(3, .buy, price: 15_000, quantity: 10, symbol: "ZZZZ"))
            #expect(
                try await session.expectNext()
                    == .rejected(RejectedReport(clientOrderID: 3, requestKind: .newOrder, errorCode: .unknownSymbol)))
            // Space padding names the same symbol as zero padding.
            var bytes = encoded(newOrder(4, .buy, price: 15_000, quantity: 10, symbol: "AAPL"))
            for i in 20..<24 { bytes[i] = 0x20 }
            try await session.sendRaw(bytes)
            #expect(try await session.expectNext().accepted?.clientOrderID == 4)
        }
    }

    @Test func cancelAnswersCanceledWithTheRequestID() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(1, .sell, price: 15_100, quantity: 25))
            _ = try #require(try await session.expectNext().accepted)
            try await session.send(
                .cancel(CancelRequest(requestID: 900, clientOrderID: 1, account: 101, symbol: sym("AAPL"))))
            #expect(
                try await session.expectNext()
                    == .canceled(
                        CanceledReport(clientOrderID: 1, requestID: 900, canceledQuantity: 25, reason: .requested)))
            // Canceling it again: the order is done.
            try await session.send(
                .cancel(CancelRequest(requestID: 901, clientOrderID: 1, account: 101, symbol: sym("AAPL"))))
            let again = try #require(try await session.expectNext().rejection)
            #expect([.unknownOrder, .unknownClientOrderID].contains(again.errorCode), "\(again)")
            #expect(again.requestKind == .cancel)
            #expect(again.requestID == 901)
            #expect(again.clientOrderID == 1)
        }
    }

    @Test func cancelAndReplaceOfAnUnknownClientOrderIDAreRejected() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(
                .cancel(CancelRequest(requestID: 11, clientOrderID: 777, account: 101, symbol: sym("AAPL"))))
            #expect(
                try await session.expectNext()
                    == .rejected(
                        RejectedReport(
                            clientOrderID: 777, requestID: 11, requestKind: .cancel, errorCode: .unknownClientOrderID)))
            try await session.send(
                .replace(
                    ReplaceRequest(
                        requestID: 12, clientOrderID: 778, account: 101, symbol: sym("AAPL"), newPrice: 15_000,
                        newQuantity: 0)))
            #expect(
                try await session.expectNext()
                    == .rejected(
                        RejectedReport(
                            clientOrderID: 778, requestID: 12, requestKind: .replace, errorCode: .unknownClientOrderID))
            )
        }
    }

    @Test func sessionsNeverSeeEachOthersOrders() async throws {
        try await withExchange { exchange in
            let (one, _) = try await TCPTestSession.login(exchange, "trader1")
            let (two, _) = try await TCPTestSession.login(exchange, "trader2")
            try await one.send(newOrder(1, .buy, price: 15_000, quantity: 10, account: 101))
            _ = try #require(try await one.expectNext().accepted)
            // trader2 names trader1's clientOrderID: unknown to its session.
            try await two.send(
                .cancel(CancelRequest(requestID: 5, clientOrderID: 1, account: 102, symbol: sym("AAPL"))))
            #expect(
                try await two.expectNext()
                    == .rejected(
                        RejectedReport(
                            clientOrderID: 1, requestID: 5, requestKind: .cancel, errorCode: .unknownClientOrderID)))
            try await two.send(
                .replace(
                    ReplaceRequest(
                        requestID: 6, clientOrderID: 1, account: 102, symbol: sym("AAPL"), newPrice: 14_000,
                        newQuantity: 0)))
            #expect(
                try await two.expectNext()
                    == .rejected(
                        RejectedReport(
                            clientOrderID: 1, requestID: 6, requestKind: .replace, errorCode: .unknownClientOrderID)))
            // …and may use the same clientOrderID for an order of its own.
            try await two.send(newOrder(1, .buy, price: 14_000, quantity: 4, account: 102))
            #expect(try await two.expectNext().accepted?.clientOrderID == 1)
            // trader1 saw nothing of it, and its order is intact.
            #expect(await one.collect(for: 0.2).isEmpty)
            try await one.send(
                .cancel(CancelRequest(requestID: 2, clientOrderID: 1, account: 101, symbol: sym("AAPL"))))
            #expect(try await one.expectNext().cancelReport?.canceledQuantity == 10)
            #expect(await two.collect(for: 0.2).isEmpty, "trader2 sees nothing of trader1's cancel")
        }
    }

    @Test func replaceKeepsTheClientOrderIDAndAnswersWithTheRequestID() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(10, .buy, price: 15_000, quantity: 100))
            _ = try #require(try await session.expectNext().accepted)
            // A price change loses priority.
            try await session.send(
                .replace(
                    ReplaceRequest(
                        requestID: 501, clientOrderID: 10, account: 101, symbol: sym("AAPL"), newPrice: 15_010,
                        newQuantity: 0)))
            #expect(
                try await session.expectNext()
                    == .replaced(
                        ReplacedReport(
                            requestID: 501, clientOrderID: 10, price: 15_010, leavesQuantity: 100, keptPriority: false))
            )
            // A smaller quantity at the same price keeps it.
            try await session.send(
                .replace(
                    ReplaceRequest(
                        requestID: 502, clientOrderID: 10, account: 101, symbol: sym("AAPL"), newPrice: 0,
                        newQuantity: 60)))
            #expect(
                try await session.expectNext()
                    == .replaced(
                        ReplacedReport(
                            requestID: 502, clientOrderID: 10, price: 15_010, leavesQuantity: 60, keptPriority: true)))
            // The order is still known by its clientOrderID, with the new values.
            let (seller, _) = try await TCPTestSession.login(exchange, "trader2")
            try await seller.send(
                newOrder(1, .sell, price: 15_010, quantity: 100, account: 102, timeInForce: .immediateOrCancel))
            let fill = try #require(try await session.expectNext().fillReport)
            #expect(fill.clientOrderID == 10)
            #expect(fill.price == 15_010)
            #expect(fill.quantity == 60)
            #expect(fill.leavesQuantity == 0)
            #expect(fill.cumulativeQuantity == 60)
            await seller.close()
        }
    }

    @Test func aReusedRequestIDIsRejected() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(1, .buy, price: 15_000, quantity: 10))
            try await session.send(newOrder(2, .buy, price: 15_000, quantity: 10))
            #expect(await session.collect(count: 2).compactMap(\.accepted).count == 2)
            try await session.send(
                .replace(
                    ReplaceRequest(
                        requestID: 77, clientOrderID: 1, account: 101, symbol: sym("AAPL"), newPrice: 0,
                        newQuantity: 5)))
            #expect(try await session.expectNext().replaceReport?.requestID == 77)
            try await session.send(
                .cancel(CancelRequest(requestID: 77, clientOrderID: 2, account: 101, symbol: sym("AAPL"))))
            #expect(
                try await session.expectNext()
                    == .rejected(
                        RejectedReport(
                            clientOrderID: 2, requestID: 77, requestKind: .cancel, errorCode: .duplicateRequestID)))
        }
    }

    @Test func aRequestIDMayEqualAClientOrderID() async throws {
        // requestIDs must be fresh among requestIDs only (error 114, "a requestID the session
        // already used"); an order's clientOrderID is not a requestID.
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(1, .buy, price: 15_000, quantity: 10))
            try await session.send(newOrder(2, .buy, price: 15_000, quantity: 10))
            #expect(await session.collect(count: 2).compactMap(\.accepted).count == 2)
            try await session.send(
                .replace(
                    ReplaceRequest(
                        requestID: 2, clientOrderID: 2, account: 101, symbol: sym("AAPL"), newPrice: 0,
                        newQuantity: 4)))
            let replaced = try await session.expectNext()
            #expect(replaced.replaceReport?.leavesQuantity == 4, "got \(replaced)")
            try await session.send(
                .cancel(CancelRequest(requestID: 1, clientOrderID: 1, account: 101, symbol: sym("AAPL"))))
            let canceled = try await session.expectNext()
            #expect(
                canceled
                    == .canceled(
                        CanceledReport(clientOrderID: 1, requestID: 1, canceledQuantity: 10, reason: .requested)),
                "got \(canceled)")
            // …nor is a used requestID a clientOrderID.
            try await session.send(
                .cancel(CancelRequest(requestID: 30, clientOrderID: 2, account: 101, symbol: sym("AAPL"))))
            _ = try await session.expectNext()
            try await session.send(newOrder(30, .buy, price: 15_000, quantity: 1))
            let accepted = try await session.expectNext()
            #expect(accepted.accepted?.clientOrderID == 30, "got \(accepted)")
        }
    }

    @Test func aReplaceThatCrossesIsReplacedThenFilled() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            let (other, _) = try await TCPTestSession.login(exchange, "trader2")
            try await other.send(newOrder(1, .sell, price: 15_100, quantity: 8, account: 102))
            _ = try #require(try await other.expectNext().accepted)
            try await session.send(newOrder(5, .buy, price: 15_000, quantity: 5))
            _ = try #require(try await session.expectNext().accepted)
            try await session.send(
                .replace(
                    ReplaceRequest(
                        requestID: 50, clientOrderID: 5, account: 101, symbol: sym("AAPL"), newPrice: 15_100,
                        newQuantity: 0)))
            let answers = await session.collect(count: 2)
            #expect(
                answers.first
                    == .replaced(
                        ReplacedReport(
                            requestID: 50, clientOrderID: 5, price: 15_100, leavesQuantity: 5, keptPriority: false)),
                "\(answers)")
            let fill = answers.last?.fillReport
            #expect(fill?.clientOrderID == 5)
            #expect(fill?.quantity == 5)
            #expect(fill?.leavesQuantity == 0)
            #expect(fill?.cumulativeQuantity == 5)
            #expect(try await other.expectNext().fillReport?.leavesQuantity == 3)
        }
    }

    @Test func cumulativeQuantityCountsFillsBeforeAReplace() async throws {
        try await withExchange { exchange in
            let (maker, _) = try await TCPTestSession.login(exchange, "trader1")
            let (taker, _) = try await TCPTestSession.login(exchange, "trader2")
            try await maker.send(newOrder(1, .sell, price: 15_000, quantity: 100))
            _ = try #require(try await maker.expectNext().accepted)
            try await taker.send(
                newOrder(1, .buy, price: 15_000, quantity: 30, account: 102, timeInForce: .immediateOrCancel))
            let first = try #require(try await maker.expectNext().fillReport)
            #expect(first.leavesQuantity == 70)
            try await maker.send(
                .replace(
                    ReplaceRequest(
                        requestID: 9, clientOrderID: 1, account: 101, symbol: sym("AAPL"), newPrice: 0,
                        newQuantity: 50)))
            let replaced = try #require(try await maker.expectNext().replaceReport)
            #expect(replaced.leavesQuantity == 50)
            #expect(replaced.keptPriority)
            try await taker.send(
                newOrder(2, .buy, price: 15_000, quantity: 80, account: 102, timeInForce: .immediateOrCancel))
            let second = try #require(try await maker.expectNext().fillReport)
            #expect(second.quantity == 50)
            #expect(second.leavesQuantity == 0)
            #expect(second.cumulativeQuantity == 80, "30 before the replace and 50 after")
        }
    }

    @Test func aReplaceThatChangesNothingIsRejectedMalformed() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(1, .buy, price: 15_000, quantity: 10))
            _ = try #require(try await session.expectNext().accepted)
            try await session.send(
                .replace(
                    ReplaceRequest(
                        requestID: 2, clientOrderID: 1, account: 101, symbol: sym("AAPL"), newPrice: 0, newQuantity: 0)
                ))
            #expect(
                try await session.expectNext()
                    == .rejected(
                        RejectedReport(clientOrderID: 1, requestID: 2, requestKind: .replace, errorCode: .malformed)))
        }
    }

    @Test func aSelfCrossIsCanceledBySelfTradePrevention() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(1, .sell, price: 15_000, quantity: 10))
            _ = try #require(try await session.expectNext().accepted)
            try await session.send(newOrder(2, .buy, price: 15_000, quantity: 4))
            let answers = await session.collect(count: 2)
            #expect(answers.first?.accepted?.clientOrderID == 2, "\(answers)")
            #expect(
                answers.last
                    == .canceled(
                        CanceledReport(
                            clientOrderID: 2, requestID: 0, canceledQuantity: 4, reason: .selfTradePrevention)),
                "\(answers)")
        }
    }

    @Test func anOrderInTheSameWriteAsTheLoginIsProcessedAfterIt() async throws {
        try await withExchange { exchange in
            let raw = try RawTCPConnection(port: exchange.binaryPort)
            let login = encoded(
                .login(
                    Login(username: Username("trader1")!, password: Password("trader1")!, heartbeatIntervalMs: 10_000)))
            #expect(await raw.send(login + encoded(newOrder(1, .buy, price: 15_000, quantity: 10))))
            let first = await raw.next()
            guard case .loginAccepted = first else {
                Issue.record("got \(String(describing: first))")
                return
            }
            let second = await raw.next()
            #expect(second?.accepted?.clientOrderID == 1, "got \(String(describing: second))")
        }
    }

    @Test func aDuplicatePipelinedBehindAnUnansweredOrderIsRejected() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.sendRaw(
                encoded(newOrder(1, .buy, price: 15_000, quantity: 10))
                    + encoded(newOrder(1, .buy, price: 14_000, quantity: 3)))
            let answers = await session.collect(count: 2)
            #expect(answers.compactMap(\.accepted).map(\.quantity) == [10], "\(answers)")
            #expect(
                answers.compactMap(\.rejection)
                    == [RejectedReport(clientOrderID: 1, requestKind: .newOrder, errorCode: .duplicateClientOrderID)],
                "\(answers)")
        }
    }

    // A client need not wait for orderAccepted before canceling or replacing: the gateway knows the
    // order from its newOrder on (and the requestIDs here are fresh, so `duplicate_request_id` is
    // never right).
    @Test func aCancelPipelinedBehindAnUnansweredOrderCancelsIt() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            let cancel = ClientMessage.cancel(
                CancelRequest(requestID: 101, clientOrderID: 1, account: 101, symbol: sym("AAPL")))
            try await session.sendRaw(encoded(newOrder(1, .buy, price: 15_000, quantity: 10)) + encoded(cancel))
            let answers = await session.collect(count: 2)
            #expect(answers.first?.accepted?.quantity == 10, "\(answers)")
            #expect(
                answers.last
                    == .canceled(
                        CanceledReport(clientOrderID: 1, requestID: 101, canceledQuantity: 10, reason: .requested)),
                "\(answers)")
        }
    }

    @Test func aReplacePipelinedBehindAnUnansweredOrderReplacesIt() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            let replace = ClientMessage.replace(
                ReplaceRequest(
                    requestID: 100, clientOrderID: 1, account: 101, symbol: sym("AAPL"), newPrice: 0, newQuantity: 6))
            try await session.sendRaw(encoded(newOrder(1, .buy, price: 15_000, quantity: 10)) + encoded(replace))
            let answers = await session.collect(count: 2)
            #expect(answers.first?.accepted?.quantity == 10, "\(answers)")
            #expect(
                answers.last
                    == .replaced(
                        ReplacedReport(
                            requestID: 100, clientOrderID: 1, price: 15_000, leavesQuantity: 6, keptPriority: true)),
                "\(answers)")
        }
    }

    @Test func twoSessionsCrossingGetMakerAndTakerFills() async throws {
        try await withExchange { exchange in
            let (maker, _) = try await TCPTestSession.login(exchange, "trader1")
            let (taker, _) = try await TCPTestSession.login(exchange, "trader2")
            try await maker.send(newOrder(1, .sell, price: 15_000, quantity: 100, account: 101))
            let resting = try #require(try await maker.expectNext().accepted)
            try await taker.send(newOrder(7, .buy, price: 15_100, quantity: 30, account: 102))
            let takerAnswers = await taker.collect(count: 2)
            let taken = try #require(takerAnswers.first?.accepted, "\(takerAnswers)")
            #expect(taken.price == 15_100)
            #expect(taken.quantity == 30)
            let takerFill = try #require(takerAnswers.last?.fillReport, "\(takerAnswers)")
            #expect(takerFill.clientOrderID == 7)
            #expect(takerFill.exchangeOrderID == taken.exchangeOrderID)
            #expect(takerFill.side == .buy)
            #expect(takerFill.price == 15_000, "the maker's price")
            #expect(takerFill.quantity == 30)
            #expect(takerFill.leavesQuantity == 0)
            #expect(takerFill.cumulativeQuantity == 30)
            let makerFill = try #require(try await maker.expectNext().fillReport)
            #expect(makerFill.clientOrderID == 1)
            #expect(makerFill.exchangeOrderID == resting.exchangeOrderID)
            #expect(makerFill.side == .sell)
            #expect(makerFill.tradeID == takerFill.tradeID, "both sides' fills carry the trade")
            #expect(makerFill.price == 15_000)
            #expect(makerFill.quantity == 30)
            #expect(makerFill.leavesQuantity == 70)
            #expect(makerFill.cumulativeQuantity == 30)
            // The rest, in two trades.
            try await taker.send(newOrder(8, .buy, price: 15_000, quantity: 50, account: 102))
            try await taker.send(newOrder(9, .buy, price: 15_000, quantity: 40, account: 102))
            let makerFills = await maker.collect(count: 2).compactMap(\.fillReport)
            #expect(makerFills.map(\.quantity) == [50, 20])
            #expect(makerFills.map(\.leavesQuantity) == [20, 0])
            #expect(makerFills.map(\.cumulativeQuantity) == [80, 100])
            #expect(Set(makerFills.map(\.tradeID)).count == 2)
            #expect(!makerFills.map(\.tradeID).contains(makerFill.tradeID))
            let lastTaker = await taker.collect(count: 4)
            let nineFill = lastTaker.compactMap(\.fillReport).first { $0.clientOrderID == 9 }
            #expect(nineFill?.quantity == 20)
            #expect(nineFill?.leavesQuantity == 20, "order 9 rests with 20 open")
            #expect(nineFill?.cumulativeQuantity == 20)
            // trader1's order is done: nothing more to cancel.
            try await maker.send(
                .cancel(CancelRequest(requestID: 3, clientOrderID: 1, account: 101, symbol: sym("AAPL"))))
            let late = try #require(try await maker.expectNext().rejection)
            #expect([.unknownOrder, .unknownClientOrderID].contains(late.errorCode), "\(late)")
        }
    }

    @Test func aTakerSweepingLevelsGetsCumulativeQuantities() async throws {
        try await withExchange { exchange in
            let (maker, _) = try await TCPTestSession.login(exchange, "trader1")
            let (taker, _) = try await TCPTestSession.login(exchange, "trader2")
            try await maker.send(newOrder(1, .sell, price: 15_000, quantity: 10))
            try await maker.send(newOrder(2, .sell, price: 15_001, quantity: 20))
            try await maker.send(newOrder(3, .sell, price: 15_002, quantity: 30))
            #expect(await maker.collect(count: 3).compactMap(\.accepted).count == 3)
            try await taker.send(
                newOrder(1, .buy, price: 15_002, quantity: 45, account: 102, timeInForce: .immediateOrCancel))
            let answers = await taker.collect(count: 4)
            let fills = answers.compactMap(\.fillReport)
            #expect(fills.map(\.price) == [15_000, 15_001, 15_002], "\(answers)")
            #expect(fills.map(\.quantity) == [10, 20, 15])
            #expect(fills.map(\.cumulativeQuantity) == [10, 30, 45])
            #expect(fills.map(\.leavesQuantity) == [35, 15, 0])
            #expect(!answers.contains { $0.cancelReport != nil }, "an IOC filled completely has no remainder")
            let makerFills = await maker.collect(count: 3).compactMap(\.fillReport)
            #expect(makerFills.map(\.clientOrderID) == [1, 2, 3])
            #expect(makerFills.map(\.leavesQuantity) == [0, 0, 15])
        }
    }

    @Test func iocAndMarketRemaindersAreCanceled() async throws {
        try await withExchange { exchange in
            let (maker, _) = try await TCPTestSession.login(exchange, "trader1")
            let (taker, _) = try await TCPTestSession.login(exchange, "trader2")
            try await maker.send(newOrder(1, .sell, price: 15_000, quantity: 10))
            _ = try #require(try await maker.expectNext().accepted)
            try await taker.send(
                newOrder(1, .buy, price: 15_000, quantity: 25, account: 102, timeInForce: .immediateOrCancel))
            let ioc = await taker.collect(count: 3)
            #expect(ioc.first?.accepted?.clientOrderID == 1, "\(ioc)")
            #expect(ioc.dropFirst().first?.fillReport?.quantity == 10)
            #expect(ioc.dropFirst().first?.fillReport?.leavesQuantity == 15)
            #expect(
                ioc.last
                    == .canceled(
                        CanceledReport(
                            clientOrderID: 1, requestID: 0, canceledQuantity: 15, reason: .immediateOrCancelRemainder)))
            #expect(try await maker.expectNext().fillReport?.quantity == 10, "the maker's fill")
            try await maker.send(newOrder(2, .sell, price: 15_050, quantity: 5))
            _ = try #require(try await maker.expectNext().accepted)
            try await taker.send(
                newOrder(
                    2, .buy, price: 0, quantity: 8, account: 102, type: .market, timeInForce: .immediateOrCancel))
            let market = await taker.collect(count: 3)
            #expect(market.first?.accepted?.clientOrderID == 2, "\(market)")
            #expect(market.dropFirst().first?.fillReport?.price == 15_050)
            #expect(market.dropFirst().first?.fillReport?.quantity == 5)
            #expect(
                market.last
                    == .canceled(
                        CanceledReport(clientOrderID: 2, requestID: 0, canceledQuantity: 3, reason: .marketRemainder)))
        }
    }

    @Test func engineRejectsAreForwardedWithTheirCodes() async throws {
        try await withExchange(tickOfFiveTOML) { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            let (other, _) = try await TCPTestSession.login(exchange, "trader2")
            try await other.send(newOrder(1, .sell, price: 15_000, quantity: 10, account: 102))
            _ = try #require(try await other.expectNext().accepted)
            let cases: [(ClientMessage, ErrorCode)] = [
                (newOrder(1, .buy, price: 15_003, quantity: 10), .invalidPrice),
                (newOrder(2, .buy, price: 0, quantity: 10), .invalidPrice),
                (newOrder(3, .buy, price: -5, quantity: 10), .invalidPrice),
                (newOrder(4, .buy, price: 14_000, quantity: 0), .invalidQuantity),
                (newOrder(5, .buy, price: 14_000, quantity: -10), .invalidQuantity),
                (newOrder(6, .buy, price: 14_000, quantity: 15, symbol: "MSFT"), .invalidQuantity),
                (newOrder(7, .buy, price: 15_000, quantity: 5, postOnly: true), .postOnlyWouldCross),
                (newOrder(9, .buy, price: 14_000, quantity: 2_000_000), .invalidQuantity),
            ]
            for (message, code) in cases {
                try await session.send(message)
                guard case .newOrder(let order) = message else { continue }
                let answer = try await session.expectNext(within: 3, "answer to order \(order.clientOrderID)")
                #expect(
                    answer
                        == .rejected(
                            RejectedReport(clientOrderID: order.clientOrderID, requestKind: .newOrder, errorCode: code)),
                    "order \(order.clientOrderID)")
            }
            // The book is unchanged: trader2's order is still whole.
            try await other.send(
                .cancel(CancelRequest(requestID: 100, clientOrderID: 1, account: 102, symbol: sym("AAPL"))))
            let canceled = try await other.expectNext()
            #expect(canceled.cancelReport?.canceledQuantity == 10, "got \(canceled)")
            #expect(await session.collect(for: 0.1).isEmpty)
        }
    }

    @Test func aReplaceOffTheTickIsRejectedWithKindReplace() async throws {
        try await withExchange(tickOfFiveTOML) { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            try await session.send(newOrder(1, .buy, price: 15_000, quantity: 10))
            _ = try #require(try await session.expectNext().accepted)
            try await session.send(
                .replace(
                    ReplaceRequest(
                        requestID: 2, clientOrderID: 1, account: 101, symbol: sym("AAPL"), newPrice: 15_001,
                        newQuantity: 0)))
            #expect(
                try await session.expectNext()
                    == .rejected(
                        RejectedReport(clientOrderID: 1, requestID: 2, requestKind: .replace, errorCode: .invalidPrice))
            )
        }
    }

    @Test func aFillOrKillThatCannotFillIsAcceptedThenCanceledInFullAndTradesNothing() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            let (other, _) = try await TCPTestSession.login(exchange, "trader2")
            try await other.send(newOrder(1, .sell, price: 15_000, quantity: 10, account: 102))
            _ = try #require(try await other.expectNext().accepted)
            // 11 wanted, 10 offered: killed, as FIX answers 150=0 then 150=4 (docs/gateway.md).
            try await session.send(newOrder(8, .buy, price: 15_000, quantity: 11, timeInForce: .fillOrKill))
            let answers = await session.collect(count: 2)
            try #require(answers.count == 2, "\(answers)")
            let accepted = try #require(answers[0].accepted, "first the order is accepted: \(answers)")
            #expect(accepted.clientOrderID == 8 && accepted.quantity == 11 && accepted.price == 15_000)
            #expect(
                answers[1]
                    == .canceled(
                        CanceledReport(
                            clientOrderID: 8, requestID: 0, canceledQuantity: 11, reason: .immediateOrCancelRemainder)),
                "then canceled in full, unsolicited: \(answers)")
            #expect(await session.collect(for: 0.1).isEmpty, "no fill, no reject")
            // The book is unchanged: trader2's order is still whole.
            try await other.send(
                .cancel(CancelRequest(requestID: 100, clientOrderID: 1, account: 102, symbol: sym("AAPL"))))
            #expect(try await other.expectNext().cancelReport?.canceledQuantity == 10)
            // The order is done: cancelling it is too late.
            try await session.send(
                .cancel(CancelRequest(requestID: 101, clientOrderID: 8, account: 101, symbol: sym("AAPL"))))
            #expect(
                try await session.expectNext()
                    == .rejected(
                        RejectedReport(clientOrderID: 8, requestID: 101, requestKind: .cancel, errorCode: .unknownOrder)
                    ))
        }
    }

    @Test func aFillOrKillThatCanFillIsFilledCompletely() async throws {
        try await withExchange { exchange in
            let (maker, _) = try await TCPTestSession.login(exchange, "trader1")
            let (taker, _) = try await TCPTestSession.login(exchange, "trader2")
            try await maker.send(newOrder(1, .sell, price: 15_000, quantity: 10))
            _ = try #require(try await maker.expectNext().accepted)
            try await taker.send(
                newOrder(1, .buy, price: 15_000, quantity: 10, account: 102, timeInForce: .fillOrKill))
            let answers = await taker.collect(count: 2)
            #expect(answers.first?.accepted != nil, "\(answers)")
            #expect(answers.last?.fillReport?.leavesQuantity == 0)
        }
    }
}
