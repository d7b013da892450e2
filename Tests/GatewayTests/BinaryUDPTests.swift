import BinaryProtocol
import ChronosClient
import Foundation
import Testing

// Black-box tests of the gateway's binary protocol over UDP (docs/protocol.md, "UDP"): login,
// authentication, sequencing, idempotent resends, gaps, and silence towards unauthenticated
// sources.

@Suite("Binary UDP", .serialized)
struct BinaryUDPTests {
    @Test func loginAnswersWithASessionAndAToken() async throws {
        try await withExchange { exchange in
            let udp = try await UDPTestSession.connect(exchange)
            let accepted = try await udp.client.login(
                username: "trader1", password: "trader1", heartbeatIntervalMs: 10_000, timeout: .seconds(5))
            #expect(accepted.sessionID != 0)
            #expect(accepted.sessionToken != 0, "over UDP the session token is the datagrams' secret")
            let answer = try await udp.expectNext()
            #expect(answer.message == .loginAccepted(accepted))
            #expect(
                answer.header
                    == UDPHeader(sessionID: accepted.sessionID, sessionToken: accepted.sessionToken, clientSequence: 0),
                "the header names the new session, sequence 0")
            await udp.close()
        }
    }

    @Test func aRepeatedLoginDatagramGetsTheSameAnswer() async throws {
        try await withExchange { exchange in
            let (udp, accepted) = try await UDPTestSession.login(exchange, "trader1")
            let login = ClientMessage.login(
                Login(username: Username("trader1")!, password: Password("trader1")!, heartbeatIntervalMs: 10_000))
            try await udp.sendRaw(
                encoded(
                    ClientDatagram(header: UDPHeader(sessionID: 0, sessionToken: 0, clientSequence: 0), message: login))
            )
            let again = try await udp.expectNext(within: 3, "the repeated loginAccepted")
            #expect(again.message == .loginAccepted(accepted), "the same session, not a new one")
            // The session still works from sequence 1.
            let sequence = try await udp.send(newOrder(1, .buy, price: 10_000, quantity: 1))
            #expect(sequence == 1)
            let answer = try await udp.expectNext()
            #expect(answer.header.clientSequence == 1)
            #expect(answer.message.accepted?.clientOrderID == 1)
        }
    }

    @Test func aWrongPasswordIsRejected() async throws {
        try await withExchange { exchange in
            let udp = try await UDPTestSession.connect(exchange)
            await #expect(throws: BinaryClientError.loginRejected(.badCredentials)) {
                _ = try await udp.client.login(username: "trader1", password: "nope", timeout: .seconds(5))
            }
        }
    }

    @Test func ordersAreAnsweredWithTheirSequence() async throws {
        try await withExchange { exchange in
            let (udp, session) = try await UDPTestSession.login(exchange, "trader1")
            for id in 1...5 {
                let sequence = try await udp.send(newOrder(UInt64(id), .buy, price: 10_000 + Int64(id), quantity: 1))
                let answer = try await udp.expectNext(within: 3, "the answer to sequence \(sequence)")
                #expect(answer.header.sessionID == session.sessionID)
                #expect(answer.header.sessionToken == session.sessionToken)
                #expect(answer.header.clientSequence == sequence)
                #expect(answer.message.accepted?.clientOrderID == UInt64(id))
                #expect(answer.message.accepted?.price == 10_000 + Int64(id))
            }
            let sequence = try await udp.send(
                .cancel(CancelRequest(requestID: 100, clientOrderID: 3, account: 101, symbol: sym("AAPL"))))
            let canceled = try await udp.expectNext()
            #expect(canceled.header.clientSequence == sequence)
            #expect(
                canceled.message
                    == .canceled(
                        CanceledReport(clientOrderID: 3, requestID: 100, canceledQuantity: 1, reason: .requested)))
            let heartbeat = try await udp.send(.heartbeat)
            // A client heartbeat uses a sequence; the next request is still processed.
            let next = try await udp.send(newOrder(6, .buy, price: 10_000, quantity: 1, account: 102))
            #expect(next == heartbeat + 1)
            let answers = await udp.collect(for: 0.3).filter { $0.header.clientSequence == next }
            #expect(
                answers.map(\.message)
                    == [
                        .rejected(
                            RejectedReport(clientOrderID: 6, requestKind: .newOrder, errorCode: .accountNotPermitted))
                    ])
        }
    }

    @Test func aRepeatedSequenceGetsTheOriginalAnswerAndNoSecondOrder() async throws {
        try await withExchange { exchange in
            let (udp, _) = try await UDPTestSession.login(exchange, "trader1")
            let order = newOrder(1, .sell, price: 15_000, quantity: 10)
            let sequence = try await udp.send(order)
            let first = try await udp.expectNext()
            let accepted = try #require(first.message.accepted, "got \(first)")
            // The answer was "lost": the client resends the very same datagram, twice.
            try await udp.send(order, sequence: sequence)
            try await udp.send(order, sequence: sequence)
            let resent = await udp.collect(for: 0.5)
            #expect(resent.count == 2, "each resend is answered: \(resent)")
            #expect(
                resent.allSatisfy { $0.header.clientSequence == sequence && $0.message == .orderAccepted(accepted) })
            // Only one order rests: a buyer for 20 fills 10 and its remainder is canceled.
            let (buyer, _) = try await TCPTestSession.login(exchange, "trader2")
            try await buyer.send(
                newOrder(1, .buy, price: 15_000, quantity: 20, account: 102, timeInForce: .immediateOrCancel))
            let answers = await buyer.collect(count: 3)
            #expect(answers.compactMap(\.fillReport).map(\.quantity) == [10], "\(answers)")
            #expect(answers.last?.cancelReport?.canceledQuantity == 10, "\(answers)")
            // The UDP maker's fill is unsolicited: sequence 0.
            let fill = try await udp.expectNext(within: 3, "the maker's fill")
            #expect(fill.header.clientSequence == 0)
            #expect(fill.message.fillReport?.clientOrderID == 1)
            #expect(fill.message.fillReport?.leavesQuantity == 0)
            #expect(await udp.collect(for: 0.2).isEmpty, "one order, one fill")
        }
    }

    @Test func aRepeatedRejectedOrCanceledSequenceGetsItsAnswerAgain() async throws {
        try await withExchange { exchange in
            let (udp, _) = try await UDPTestSession.login(exchange, "trader1")
            let rejectedOrder = newOrder(1, .buy, price: 10_000, quantity: 1, symbol: "ZZZZ")
            let s1 = try await udp.send(rejectedOrder)
            let original = try await udp.expectNext()
            #expect(original.message.rejection?.errorCode == .unknownSymbol)
            try await udp.send(rejectedOrder, sequence: s1)
            let again = try await udp.expectNext()
            #expect(again.header.clientSequence == s1)
            #expect(again.message == original.message, "not `duplicate_client_order_id`: the original answer")
            _ = try await udp.send(newOrder(2, .buy, price: 10_000, quantity: 3))
            _ = try await udp.expectNext()
            let cancel = ClientMessage.cancel(
                CancelRequest(requestID: 9, clientOrderID: 2, account: 101, symbol: sym("AAPL")))
            let s3 = try await udp.send(cancel)
            let canceled = try await udp.expectNext()
            #expect(canceled.message.cancelReport?.canceledQuantity == 3)
            try await udp.send(cancel, sequence: s3)
            let resent = try await udp.expectNext()
            #expect(resent.header.clientSequence == s3)
            #expect(resent.message == canceled.message, "the original canceled, not a reject")
            // A resend of a heartbeat is answered with the heartbeat's answer, if any, never processed anew.
            let next = try await udp.send(newOrder(3, .buy, price: 10_000, quantity: 1))
            #expect(try await udp.expectNext().header.clientSequence == next)
        }
    }

    @Test func pipelinedDatagramsAndAnEarlyResendEnterEachOrderOnce() async throws {
        try await withExchange { exchange in
            let (udp, _) = try await UDPTestSession.login(exchange, "trader1")
            let orders = (1...5).map { newOrder(UInt64($0), .sell, price: 15_000, quantity: Int64($0)) }
            for order in orders { try await udp.send(order) }
            // Sequence 1 again, probably before its answer left the gateway.
            try await udp.send(orders[0], sequence: 1)
            let answers = await udp.collect(for: 0.8)
            #expect(Set(answers.map(\.header.clientSequence)) == [1, 2, 3, 4, 5], "\(answers)")
            #expect(
                answers.allSatisfy { $0.message.accepted?.clientOrderID == $0.header.clientSequence },
                "only orderAccepted, each for its own sequence: \(answers)")
            // Five orders rest, 15 lots in all: a buyer of 20 gets 15.
            let (buyer, _) = try await TCPTestSession.login(exchange, "trader2")
            try await buyer.send(
                newOrder(1, .buy, price: 15_000, quantity: 20, account: 102, timeInForce: .immediateOrCancel))
            let fills = await buyer.collect(count: 7).compactMap(\.fillReport)
            #expect(fills.map(\.quantity) == [1, 2, 3, 4, 5])
        }
    }

    @Test func aGapIsAnsweredSequenceGapAndNotProcessed() async throws {
        try await withExchange { exchange in
            let (udp, _) = try await UDPTestSession.login(exchange, "trader1")
            _ = try await udp.send(newOrder(1, .buy, price: 10_000, quantity: 1))
            _ = try await udp.expectNext()
            // Sequence 2 is "lost"; 3 arrives.
            try await udp.send(newOrder(3, .buy, price: 10_000, quantity: 1), sequence: 3)
            let gap = try await udp.expectNext(within: 3, "sequenceGap")
            #expect(gap.message == .sequenceGap(expectedSequence: 2))
            #expect(gap.header.clientSequence == 3, "the header carries the received sequence")
            // The client resends from 2.
            try await udp.send(newOrder(2, .buy, price: 10_000, quantity: 2), sequence: 2)
            try await udp.send(newOrder(3, .buy, price: 10_000, quantity: 3), sequence: 3)
            let answers = await udp.collect(for: 0.5)
            #expect(answers.map(\.header.clientSequence) == [2, 3], "\(answers)")
            #expect(answers.compactMap(\.message.accepted).map(\.quantity) == [2, 3], "order 3 was entered once")
        }
    }

    @Test func unauthenticatedDatagramsGetNoAnswer() async throws {
        try await withExchange { exchange in
            let (udp, session) = try await UDPTestSession.login(exchange, "trader1")
            let order = newOrder(1, .buy, price: 10_000, quantity: 1)
            let headers = [
                UDPHeader(sessionID: session.sessionID, sessionToken: session.sessionToken ^ 1, clientSequence: 1),
                UDPHeader(sessionID: session.sessionID, sessionToken: 0, clientSequence: 1),
                UDPHeader(sessionID: session.sessionID &+ 1_000, sessionToken: session.sessionToken, clientSequence: 1),
                UDPHeader(sessionID: 0, sessionToken: 0, clientSequence: 1),
                UDPHeader(sessionID: 0, sessionToken: session.sessionToken, clientSequence: 0),
            ]
            for header in headers { try await udp.sendRaw(encoded(ClientDatagram(header: header, message: order))) }
            // Heartbeat, logout and a sequence gap with a wrong token: silence too.
            let wrong = UDPHeader(
                sessionID: session.sessionID, sessionToken: session.sessionToken &+ 7, clientSequence: 5)
            try await udp.sendRaw(encoded(ClientDatagram(header: wrong, message: .heartbeat)))
            try await udp.sendRaw(encoded(ClientDatagram(header: wrong, message: .logout)))
            #expect(await udp.collect(for: 0.5).isEmpty, "the gateway never answers unauthenticated sources")
            // None of them was processed: sequence 1 is still the next one, and the session lives.
            let sequence = try await udp.send(order)
            #expect(sequence == 1)
            let answer = try await udp.expectNext()
            #expect(answer.header.clientSequence == 1)
            #expect(answer.message.accepted?.clientOrderID == 1, "got \(answer)")
        }
    }

    @Test func datagramsFromAnotherAddressAreRefusedEvenWithTheToken() async throws {
        try await withExchange { exchange in
            let (owner, session) = try await UDPTestSession.login(exchange, "trader1")
            // A second socket (another port on loopback) that knows the session's id and token.
            let intruder = try await UDPTestSession.connect(exchange)
            let stolen = { (sequence: UInt64) in
                UDPHeader(sessionID: session.sessionID, sessionToken: session.sessionToken, clientSequence: sequence)
            }
            try await intruder.sendRaw(
                encoded(ClientDatagram(header: stolen(1), message: newOrder(1, .buy, price: 10_000, quantity: 7))))
            try await intruder.sendRaw(encoded(ClientDatagram(header: stolen(2), message: .heartbeat)))
            try await intruder.sendRaw(encoded(ClientDatagram(header: stolen(9), message: .heartbeat)))
            try await intruder.sendRaw(encoded(ClientDatagram(header: stolen(3), message: .logout)))
            #expect(await intruder.collect(for: 0.5).isEmpty, "the other address gets no answer, not even a gap")
            #expect(await owner.collect(for: 0.05).isEmpty, "and the session's address hears nothing of it")
            // Nothing was processed: the session lives, sequence 1 is still the next one, and order 1
            // is entered now, with the owner's quantity.
            let sequence = try await owner.send(newOrder(1, .buy, price: 10_000, quantity: 2))
            #expect(sequence == 1)
            let answer = try await owner.expectNext(within: 3, "the owner's order answer")
            #expect(answer.header.clientSequence == 1)
            #expect(answer.message.accepted?.clientOrderID == 1, "got \(answer)")
            #expect(answer.message.accepted?.quantity == 2, "the intruder's order was never entered")
            #expect(await intruder.collect(for: 0.2).isEmpty, "answers still go to the login's address only")
            await intruder.close()
            await owner.close()
        }
    }

    @Test func datagramsBeforeAnyLoginGetNoAnswer() async throws {
        try await withExchange { exchange in
            let stranger = try await UDPTestSession.connect(exchange)
            for sessionID: UInt32 in [1, 2, 3] {
                for token: UInt64 in [0, 1] {
                    let header = UDPHeader(sessionID: sessionID, sessionToken: token, clientSequence: 1)
                    try await stranger.sendRaw(
                        encoded(ClientDatagram(header: header, message: newOrder(1, .buy, price: 10_000, quantity: 1))))
                }
            }
            #expect(await stranger.collect(for: 0.5).isEmpty)
        }
    }

    @Test func undecodableDatagramsAreDropped() async throws {
        try await withExchange { exchange in
            let (udp, session) = try await UDPTestSession.login(exchange, "trader1")
            let header = UDPHeader(sessionID: session.sessionID, sessionToken: session.sessionToken, clientSequence: 1)
            let good = encoded(ClientDatagram(header: header, message: newOrder(1, .buy, price: 10_000, quantity: 1)))
            var generator = SplitMix64(seed: 42)
            var bad: [[UInt8]] = [
                [],
                Array(good.prefix(10)),
                Array(good.prefix(good.count - 1)),
                good + [0],
                good.with(byte: 3, at: UDPHeader.size + 40),
                good.with(byte: 2, at: UDPHeader.size + 3),
                good.with(byte: 0x07, at: UDPHeader.size + 2),
                Array(good[0..<UDPHeader.size]) + Array(good[UDPHeader.size...]).with(length: 40),
                Array(good[0..<UDPHeader.size]) + framed(length: 300, type: 0x02),
            ]
            for _ in 0..<30 {
                bad.append(
                    Array(good[0..<UDPHeader.size])
                        + (0..<Int(generator.next() % 70)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            }
            for datagram in bad { try await udp.sendRaw(datagram) }
            #expect(await udp.collect(for: 0.5).isEmpty, "undecodable datagrams are dropped without an answer")
            // None consumed sequence 1.
            try await udp.sendRaw(good)
            let answer = try await udp.expectNext()
            #expect(answer.header.clientSequence == 1)
            #expect(answer.message.accepted?.clientOrderID == 1, "got \(answer)")
            // The gateway still serves TCP too.
            #expect(try await freshSessionTrades(exchange))
        }
    }

    @Test func afterLogoutTheTokenNoLongerWorks() async throws {
        try await withExchange { exchange in
            let (udp, _) = try await UDPTestSession.login(exchange, "trader1")
            _ = try await udp.send(newOrder(1, .buy, price: 10_000, quantity: 1, symbol: "ZZZZ"))
            #expect(try await udp.expectNext().message.rejection?.errorCode == .unknownSymbol)
            let logout = try await udp.send(.logout)
            let answer = try await udp.expectNext(within: 3, "the logout answer")
            #expect(answer.header.clientSequence == logout)
            #expect(answer.message == .logout(.requested))
            _ = try await udp.send(newOrder(2, .buy, price: 10_000, quantity: 1))
            _ = try await udp.send(.heartbeat)
            let after = await udp.collect(for: 0.5)
            #expect(after.isEmpty, "a logged-out session's token is dead: \(after)")
            // The user may log in again, as a new session.
            let (again, second) = try await UDPTestSession.login(exchange, "trader1")
            #expect(second.sessionID != 0)
            _ = try await again.send(newOrder(1, .buy, price: 10_000, quantity: 1))
            #expect(try await again.expectNext().message.accepted?.clientOrderID == 1, "a new session, fresh ids")
        }
    }

    @Test func aSilentUDPSessionHeartbeatsThenIsLoggedOut() async throws {
        try await withExchange { exchange in
            let udp = try await UDPTestSession.connect(exchange)
            let session = try await udp.client.login(
                username: "trader1", password: "trader1", heartbeatIntervalMs: 400, timeout: .seconds(5))
            let interval = Int(session.heartbeatIntervalMs)
            try #require(interval > 0 && interval <= 2_000, "the gateway chose \(interval) ms")
            var heartbeats = 0
            var logout: ReceivedDatagram?
            let deadline = ContinuousClock.now + .milliseconds(interval * 3 + 3_000)
            while logout == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                for datagram in udp.drainAll() {
                    if datagram.message.isHeartbeat { heartbeats += 1 }
                    if datagram.message.logoutReason != nil { logout = datagram }
                }
            }
            #expect(heartbeats >= 1, "the gateway heartbeats an idle UDP session")
            #expect(logout?.message == .logout(.heartbeatTimeout), "got \(String(describing: logout))")
            #expect(logout?.header.clientSequence == 0, "an unsolicited logout")
            // The session is gone: its token no longer works.
            _ = try await udp.send(newOrder(1, .buy, price: 10_000, quantity: 1))
            #expect(await udp.collect(for: 0.4).isEmpty)
        }
    }

    @Test func udpAndTCPSessionsTradeWithEachOther() async throws {
        try await withExchange { exchange in
            let (udp, _) = try await UDPTestSession.login(exchange, "trader1")
            let (tcp, _) = try await TCPTestSession.login(exchange, "trader2")
            try await tcp.send(newOrder(5, .sell, price: 15_000, quantity: 10, account: 102))
            _ = try #require(try await tcp.expectNext().accepted)
            let sequence = try await udp.send(newOrder(1, .buy, price: 15_000, quantity: 4))
            let answers = await udp.collect(for: 0.5)
            #expect(answers.first?.header.clientSequence == sequence)
            #expect(answers.first?.message.accepted?.clientOrderID == 1, "\(answers)")
            let fill = answers.compactMap(\.message.fillReport).first
            #expect(fill?.quantity == 4)
            #expect(fill?.cumulativeQuantity == 4)
            #expect(answers.first { $0.message.fillReport != nil }?.header.clientSequence == 0, "fills are unsolicited")
            let makerFill = try #require(try await tcp.expectNext().fillReport)
            #expect(makerFill.leavesQuantity == 6)
            #expect(makerFill.tradeID == fill?.tradeID)
        }
    }
}
