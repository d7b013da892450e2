import BinaryProtocol
import ChronosClient
import Foundation
import Testing

// Black-box tests of the gateway's binary TCP server against bad input, slow and silent clients,
// floods, engine loss and shutdown (docs/protocol.md, "TCP" and "Decoding rules and errors").

/// A logged-in raw connection of `username`, or nil (an issue is recorded).
func rawSession(_ exchange: ExchangeHarness, _ username: String = "trader1") async throws -> RawTCPConnection? {
    let raw = try RawTCPConnection(port: exchange.binaryPort)
    let answer = await raw.login(username)
    guard case .loginAccepted = answer else {
        Issue.record("login of \(username) answered \(String(describing: answer))")
        return nil
    }
    return raw
}

/// Whether a fresh session of `username` can still enter an order and get it accepted.
func freshSessionTrades(_ exchange: ExchangeHarness, _ username: String = "trader2", account: UInt32 = 102)
    async throws -> Bool
{
    let (session, _) = try await TCPTestSession.login(exchange, username)
    defer { Task { await session.close() } }
    try await session.send(newOrder(9_999, .buy, price: 10_000, quantity: 1, account: account))
    return await session.next()?.accepted?.clientOrderID == 9_999
}

@Suite("Binary TCP: malformed input", .serialized)
struct BinaryTCPMalformedTests {
    /// Messages whose length field loses the framing: below 4, above 256, or not their type's size.
    static let framingBreakers: [(String, [UInt8])] = [
        ("length 2", framed(length: 4, type: 0x02).enumerated().map { $0.offset == 0 ? 2 : $0.element }),
        ("length 0", [0, 0, 0x02, 1]),
        ("length 300", framed(length: 300, type: 0x02)),
        ("length 65535", [0xFF, 0xFF, 0x02, 1] + [UInt8](repeating: 0, count: 200)),
        (
            "newOrder of 40 bytes",
            Array(encoded(newOrder(1, .buy, price: 100, quantity: 1)).prefix(40)).with(length: 40)
        ),
        ("heartbeat of 8 bytes", framed(length: 8, type: 0x05)),
    ]

    @Test(arguments: framingBreakers.indices)
    func aBadLengthLogsOutWithProtocolErrorAndOthersKeepTrading(index: Int) async throws {
        let (name, bytes) = Self.framingBreakers[index]
        try await withExchange { exchange in
            guard let bad = try await rawSession(exchange, "trader1") else { return }
            #expect(await bad.send(bytes), "\(name)")
            let (closed, messages) = await bad.readUntilClosed(within: 3)
            #expect(closed, "\(name): the gateway closes the connection")
            #expect(messages.last == .logout(.protocolError), "\(name): got \(messages)")
            let others = messages.dropLast().filter {
                $0 != .rejected(RejectedReport(clientOrderID: 0, requestKind: .other, errorCode: .messageTooLarge))
            }
            #expect(others.isEmpty, "\(name): nothing but the logout: \(messages)")
            #expect(try await freshSessionTrades(exchange), "\(name): another session keeps trading")
        }
    }

    @Test func aBadLengthDoesNotDisturbASessionAlreadyTrading() async throws {
        try await withExchange { exchange in
            let (good, _) = try await TCPTestSession.login(exchange, "trader2")
            try await good.send(newOrder(1, .buy, price: 15_000, quantity: 10, account: 102))
            _ = try #require(try await good.expectNext().accepted)
            guard let bad = try await rawSession(exchange, "trader1") else { return }
            #expect(await bad.send(framed(length: 3, type: 0x02)))
            #expect(await bad.readUntilClosed().closed)
            try await good.send(newOrder(2, .buy, price: 15_000, quantity: 10, account: 102))
            #expect(try await good.expectNext().accepted?.clientOrderID == 2)
            #expect(!good.isClosed)
        }
    }

    static let loginBytes = encoded(
        .login(Login(username: Username("trader1")!, password: Password("trader1")!, heartbeatIntervalMs: 10_000)))

    /// Framed messages that are invalid: answered `rejected` — with the request's kind and ids when
    /// it is a `newOrder`, `cancel` or `replace` of its type's size, else kind 0 and both ids 0 —
    /// then skipped.
    static let framedButInvalid: [(String, [UInt8], ErrorCode)] = [
        ("unassigned type 0x07", framed(length: 4, type: 0x07), .unknownMessageType),
        ("unassigned type 0x00 of 40 bytes", framed(length: 40, type: 0x00), .unknownMessageType),
        ("gateway type 0x81", framed(length: 20, type: 0x81), .unknownMessageType),
        ("type 0x7F of 256 bytes", framed(length: 256, type: 0x7F), .unknownMessageType),
        ("version 2", framed(length: 44, type: 0x02, version: 2), .unsupportedVersion),
        ("version 0 of 100 bytes", framed(length: 100, type: 0x33, version: 0), .unsupportedVersion),
        ("side 3", encoded(newOrder(1, .buy, price: 100, quantity: 1)).with(byte: 3, at: 40), .malformed),
        ("side 0", encoded(newOrder(1, .buy, price: 100, quantity: 1)).with(byte: 0, at: 40), .malformed),
        ("ordType 3", encoded(newOrder(1, .buy, price: 100, quantity: 1)).with(byte: 3, at: 41), .malformed),
        ("timeInForce 4", encoded(newOrder(1, .buy, price: 100, quantity: 1)).with(byte: 4, at: 42), .malformed),
        ("flags bit 1", encoded(newOrder(1, .buy, price: 100, quantity: 1)).with(byte: 2, at: 43), .malformed),
        (
            "symbol with a control byte", encoded(newOrder(1, .buy, price: 100, quantity: 1)).with(byte: 1, at: 17),
            .malformed
        ),
        (
            "empty symbol", encoded(newOrder(1, .buy, price: 100, quantity: 1)).with(bytes: [0, 0, 0, 0], at: 16),
            .malformed
        ),
        ("login with an empty username", loginBytes.with(bytes: [UInt8](repeating: 0, count: 16), at: 4), .malformed),
        ("login with a control byte in the password", loginBytes.with(byte: 0x07, at: 20), .malformed),
        ("symbol with a gap", encoded(newOrder(1, .buy, price: 100, quantity: 1)).with(byte: 0, at: 17), .malformed),
    ]

    /// A malformed cancel and replace are answered with their kind, order id and request id.
    @Test func aMalformedCancelOrReplaceIsRejectedWithItsIDs() async throws {
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            let cancel = ClientMessage.cancel(
                CancelRequest(requestID: 77, clientOrderID: 5, account: 101, symbol: sym("AAPL")))
            let replace = ClientMessage.replace(
                ReplaceRequest(requestID: 78, clientOrderID: 6, account: 101, symbol: sym("AAPL"), newPrice: 100))
            // A control byte in the symbol (offset 24) makes each malformed.
            try await session.sendRaw(encoded(cancel).with(byte: 1, at: 25) + encoded(replace).with(byte: 1, at: 25))
            let answers = await session.collect(count: 2)
            #expect(
                answers == [
                    .rejected(
                        RejectedReport(clientOrderID: 5, requestID: 77, requestKind: .cancel, errorCode: .malformed)),
                    .rejected(
                        RejectedReport(clientOrderID: 6, requestID: 78, requestKind: .replace, errorCode: .malformed)),
                ], "\(answers)")
        }
    }

    @Test(arguments: framedButInvalid.indices)
    func aFramedInvalidMessageIsRejectedAndTheConnectionStaysUsable(index: Int) async throws {
        let (name, bytes, code) = Self.framedButInvalid[index]
        try await withExchange { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            // The bad message and a good order in one write: the gateway skips exactly the bad one.
            try await session.sendRaw(bytes + encoded(newOrder(50, .buy, price: 15_000, quantity: 10)))
            let answers = await session.collect(count: 2)
            let request =
                bytes.withUnsafeBytes { ClientMessage.requestIdentity($0) }
                ?? ClientMessage.RequestIdentity(kind: .other, clientOrderID: 0, requestID: 0)
            #expect(answers.first == .rejected(RejectedReport(request, errorCode: code)), "\(name): got \(answers)")
            // The new orders among them are answered as order 1's, a new order.
            if bytes.count == 44 && bytes[2] == 0x02 && bytes[3] == 1 {
                #expect(request == ClientMessage.RequestIdentity(kind: .newOrder, clientOrderID: 1, requestID: 0))
            }
            #expect(answers.last?.accepted?.clientOrderID == 50, "\(name): the next message is read: \(answers)")
            #expect(!session.isClosed, "\(name): the connection stays open")
        }
    }

    @Test func aMessageArrivingByteByByteIsDecodedOnce() async throws {
        try await withExchange { exchange in
            let raw = try RawTCPConnection(port: exchange.binaryPort)
            let login = encoded(
                .login(
                    Login(username: Username("trader1")!, password: Password("trader1")!, heartbeatIntervalMs: 10_000)))
            for byte in login {
                #expect(await raw.send([byte]))
                try await Task.sleep(for: .milliseconds(1))
            }
            guard case .loginAccepted = await raw.next() else {
                Issue.record("a login sent byte by byte was not accepted")
                return
            }
            // Two orders in three writes, split inside the header and inside the body.
            let two =
                encoded(newOrder(1, .buy, price: 15_000, quantity: 1))
                + encoded(newOrder(2, .buy, price: 15_000, quantity: 2))
            #expect(await raw.send(Array(two[0..<1])))
            try await Task.sleep(for: .milliseconds(20))
            #expect(await raw.send(Array(two[1..<50])))
            try await Task.sleep(for: .milliseconds(20))
            #expect(await raw.send(Array(two[50...])))
            #expect(await raw.next()?.accepted?.quantity == 1)
            #expect(await raw.next()?.accepted?.quantity == 2)
            #expect(await raw.next(within: 0.2) == nil, "each order is answered once")
        }
    }

    @Test func randomGarbageNeverCrashesTheGateway() async throws {
        try await withExchange { exchange in
            let (bystander, _) = try await TCPTestSession.login(exchange, "trader2")
            var generator = SplitMix64(seed: 0xC0FFEE)
            for round in 0..<24 {
                let raw = try RawTCPConnection(port: exchange.binaryPort)
                if round % 3 == 0 { _ = await raw.login("trader1") }
                var bytes = (0..<Int(generator.next() % 400 + 1)).map { _ in UInt8(truncatingIfNeeded: generator.next())
                }
                if round % 4 == 1 {
                    // A plausible header first, so the garbage reaches the decoders of each type.
                    let types: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06]
                    let type = types[Int(generator.next() % 6)]
                    let size = ClientMessageType(rawValue: type)!.size
                    bytes = [UInt8(size), 0, type, 1] + bytes.prefix(size - 4)
                }
                _ = await raw.send(bytes, within: 1)
                _ = await raw.readUntilClosed(within: 0.05)
            }
            #expect(try await freshSessionTrades(exchange, "trader1", account: 101), "the gateway still serves")
            try await bystander.send(newOrder(1, .sell, price: 20_000, quantity: 1, account: 102))
            #expect(try await bystander.expectNext().accepted?.clientOrderID == 1, "an existing session still trades")
        }
    }
}

@Suite("Binary TCP: flow control and liveness", .serialized)
struct BinaryTCPFlowTests {
    /// A connection that never logs in is closed after `[gateway] login_timeout_ms` (as FIX closes
    /// one without a Logon); one that sent something other than a Login too; a logged-in one stays.
    @Test func aConnectionThatNeverLogsInIsClosedAfterTheLoginTimeout() async throws {
        let toml = """
            [gateway]
            login_timeout_ms = 300
            """
        try await withExchange(toml) { exchange in
            let silent = try RawTCPConnection(port: exchange.binaryPort)
            let chatty = try RawTCPConnection(port: exchange.binaryPort)
            #expect(await chatty.send(encoded(newOrder(7, .buy, price: 10_000, quantity: 1))))
            guard let loggedIn = try await rawSession(exchange, "trader1") else { return }
            let (silentClosed, silentMessages) = await silent.readUntilClosed(within: 10)
            #expect(silentClosed && silentMessages.isEmpty, "\(silentMessages)")
            let (chattyClosed, chattyMessages) = await chatty.readUntilClosed(within: 10)
            #expect(chattyClosed, "a connection that never sent a Login is closed too")
            #expect(
                chattyMessages == [
                    .rejected(RejectedReport(clientOrderID: 7, requestKind: .newOrder, errorCode: .notLoggedIn))
                ], "\(chattyMessages)")
            // The logged-in session outlived the timeout and still trades.
            let (stillOpen, _) = await loggedIn.readUntilClosed(within: 0.2)
            #expect(!stillOpen)
            #expect(try await freshSessionTrades(exchange))
        }
    }

    @Test func messagesAboveTheRateAreRejectedRateLimited() async throws {
        let toml = """
            [gateway]
            max_messages_per_second = 20
            """
        try await withExchange(toml) { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            for id in 1...60 {
                session.client.write(newOrder(UInt64(id), .buy, price: 10_000, quantity: 1))
            }
            session.client.flush()
            let answers = await session.collect(count: 60, within: 5)
            #expect(answers.count == 60, "every message is answered")
            let accepted = answers.compactMap(\.accepted)
            let limited = answers.compactMap(\.rejection).filter { $0.errorCode == .rateLimited }
            #expect(
                accepted.count + limited.count == answers.count,
                "\(answers.filter { $0.accepted == nil && $0.rejection?.errorCode != .rateLimited })")
            #expect(accepted.count >= 15, "the burst (one second's worth) passes")
            #expect(accepted.count <= 30, "a burst of 60 at 20/s is mostly refused")
            #expect(limited.count >= 30)
            #expect(limited.allSatisfy { $0.requestKind == .newOrder && (1...60).contains($0.clientOrderID) })
            #expect(Set(accepted.map(\.clientOrderID) + limited.map(\.clientOrderID)).count == 60)
            // Tokens come back at the rate.
            try await Task.sleep(for: .milliseconds(600))
            try await session.send(newOrder(61, .buy, price: 10_000, quantity: 1))
            #expect(try await session.expectNext().accepted?.clientOrderID == 61, "the bucket refills")
            #expect(!session.isClosed)
        }
    }

    @Test func rateLimitingIsPerSession() async throws {
        let toml = """
            [gateway]
            max_messages_per_second = 20
            """
        try await withExchange(toml) { exchange in
            let (flooder, _) = try await TCPTestSession.login(exchange, "trader1")
            let (calm, _) = try await TCPTestSession.login(exchange, "trader2")
            for id in 1...60 { flooder.client.write(newOrder(UInt64(id), .buy, price: 10_000, quantity: 1)) }
            flooder.client.flush()
            for id in 1...5 {
                try await calm.send(newOrder(UInt64(id), .buy, price: 10_000, quantity: 1, account: 102))
            }
            let answers = await calm.collect(count: 5)
            #expect(answers.compactMap(\.accepted).count == 5, "another session is not limited: \(answers)")
        }
    }

    /// Logs trader1 in with a short heartbeat interval (400 ms, else 1 s): the session and the interval.
    func loginWithShortHeartbeat(_ exchange: ExchangeHarness) async throws -> (TCPTestSession, UInt32) {
        for asked: UInt32 in [400, 1_000] {
            let session = try await TCPTestSession.connect(exchange)
            do {
                let accepted = try await session.login("trader1", password: "trader1", heartbeatIntervalMs: asked)
                return (session, accepted.heartbeatIntervalMs)
            } catch BinaryClientError.loginRejected(.invalidHeartbeatInterval) {
                continue
            }
        }
        throw TimedOut(what: "a login with a heartbeat interval of 400 or 1000 ms")
    }

    @Test func theGatewaySendsHeartbeatsAtTheLoginsInterval() async throws {
        try await withExchange { exchange in
            let (session, interval) = try await loginWithShortHeartbeat(exchange)
            try #require(interval > 0 && interval <= 2_000, "the gateway chose \(interval) ms")
            let start = ContinuousClock.now
            let window = Duration.milliseconds(Int(interval) * 5)
            while ContinuousClock.now - start < window {
                try await session.send(.heartbeat)
                try await Task.sleep(for: .milliseconds(Int(interval) / 3))
            }
            let count = session.heartbeatCount
            #expect(count >= 3, "about 5 heartbeats in 5 intervals (got \(count))")
            #expect(count <= 10, "not much more often than the interval (got \(count))")
            #expect(!session.isClosed, "a client that sends heartbeats is not logged out")
        }
    }

    @Test func aSilentClientIsLoggedOutAfterAboutThreeIntervals() async throws {
        try await withExchange { exchange in
            let (session, interval) = try await loginWithShortHeartbeat(exchange)
            try #require(interval > 0 && interval <= 2_000, "the gateway chose \(interval) ms")
            let start = ContinuousClock.now
            let seconds = Double(interval) * 3 / 1000 + 3
            var logout: ServerMessage?
            while logout == nil, let message = await session.next(within: seconds) {
                if message.logoutReason != nil { logout = message }
            }
            let elapsed = ContinuousClock.now - start
            #expect(logout == .logout(.heartbeatTimeout), "got \(String(describing: logout))")
            #expect(elapsed >= .milliseconds(Int(interval) * 2), "not before about three intervals: \(elapsed)")
            #expect(await session.waitClosed(), "the connection closes")
            #expect(session.heartbeatCount >= 1, "the gateway heartbeats while the client is silent")
        }
    }

    @Test func aClientThatNeverReadsIsDisconnectedAndOthersAreUnaffected() async throws {
        let toml = """
            [gateway]
            max_outbound_bytes = 4096
            max_messages_per_second = 10000000
            """
        try await withExchange(toml) { exchange in
            let (other, _) = try await TCPTestSession.login(exchange, "trader2")
            let slow = try RawTCPConnection(port: exchange.binaryPort, receiveBuffer: 4096)
            guard case .loginAccepted = await slow.login("trader1") else {
                Issue.record("login failed")
                return
            }
            // IOC orders without liquidity: each is answered orderAccepted + canceled (72 bytes),
            // which the slow client never reads.
            var nextID: UInt64 = 1
            var failed = false
            var stuckSince: ContinuousClock.Instant?
            let deadline = ContinuousClock.now + .seconds(15)
            while !failed, ContinuousClock.now < deadline {
                var chunk: [UInt8] = []
                for _ in 0..<50 {
                    chunk += encoded(
                        newOrder(nextID, .sell, price: 90_000, quantity: 1, timeInForce: .immediateOrCancel))
                    nextID += 1
                }
                var offset = 0
                while offset < chunk.count, !failed {
                    let sent = slow.trySend(Array(chunk[offset...]))
                    if sent < 0 {
                        failed = true
                    } else if sent == 0 {
                        if stuckSince == nil { stuckSince = .now }
                        if let since = stuckSince, ContinuousClock.now - since > .seconds(3) { break }
                        try await Task.sleep(for: .milliseconds(1))
                    } else {
                        stuckSince = nil
                        offset += sent
                    }
                }
                if let since = stuckSince, ContinuousClock.now - since > .seconds(3) { break }
            }
            // Reading now: the gateway must have given up on this client (EOF after what was queued).
            let (closed, messages) = await slow.readUntilClosed(within: 15)
            #expect(closed, "a client that never reads is disconnected (sent \(nextID - 1) orders)")
            if let last = messages.last, last.logoutReason != nil {
                #expect(last == .logout(.slowConsumer))
            }
            try await other.send(newOrder(1, .buy, price: 10_000, quantity: 1, account: 102))
            #expect(try await other.expectNext().accepted?.clientOrderID == 1, "another session is unaffected")
            #expect(!other.isClosed)
        }
    }
}

@Suite("Binary TCP: engine loss and shutdown", .serialized)
struct BinaryTCPEngineLossTests {
    static func twoShards(second orders: String, _ events: String, _ replay: String) -> String {
        """
        [gateway]
        ack_timeout_ms = 300

        [[shards]]
        id = 0
        orders = "inproc://bt-s0-orders"
        events = "inproc://bt-s0-events"
        replay = "inproc://bt-s0-replay"
        symbols = ["AAPL", "MSFT"]

        [[shards]]
        id = 1
        orders = "\(orders)"
        events = "\(events)"
        replay = "\(replay)"
        symbols = ["GOOG", "AMZN"]
        """
    }

    static func checkShardLoss(_ toml: String) async throws {
        try await withExchange(toml) { exchange in
            let (session, _) = try await TCPTestSession.login(exchange, "trader1")
            // Shard 1 works at first: a resting order is accepted. With a 300 ms acknowledgement
            // timeout a first order can time out on a machine loaded by the rest of the run, so it is
            // tried again with a new id until one is accepted; late answers are drained before the
            // shard stops, so that each answer below is the one it waits for.
            var resting: UInt64?
            for id in UInt64(1)...20 where resting == nil {
                try await session.send(newOrder(id, .buy, price: 10_000, quantity: 1, symbol: "GOOG"))
                if try await session.expectNext(within: 5).accepted?.clientOrderID == id { resting = id }
            }
            let restingID = try #require(resting, "shard 1 never accepted an order")
            while await session.next(within: 1) != nil {}
            exchange.engineShards[1].stop()
            try await session.send(newOrder(100, .buy, price: 10_000, quantity: 1, symbol: "GOOG"))
            let answer = try await session.expectNext(within: 5, "an answer for a symbol of the stopped shard")
            let rejection = try #require(answer.rejection, "got \(answer)")
            #expect([.shardUnavailable, .engineTimeout].contains(rejection.errorCode), "\(rejection)")
            #expect(rejection.requestKind == .newOrder)
            #expect(rejection.clientOrderID == 100)
            // A cancel for the dead shard's order is answered too.
            try await session.send(
                .cancel(CancelRequest(requestID: 3, clientOrderID: restingID, account: 101, symbol: sym("GOOG"))))
            let cancelAnswer = try await session.expectNext(within: 5, "an answer to a cancel on the stopped shard")
            #expect(
                [.shardUnavailable, .engineTimeout].contains(cancelAnswer.rejection?.errorCode), "\(cancelAnswer)")
            #expect(cancelAnswer.rejection?.requestID == 3)
            // The other shard still trades.
            try await session.send(newOrder(104, .buy, price: 10_000, quantity: 1, symbol: "AAPL"))
            #expect(try await session.expectNext(within: 5).accepted?.clientOrderID == 104)
            #expect(!session.isClosed)
        }
    }

    @Test func ordersForAStoppedInprocShardAreRejectedPromptly() async throws {
        try await Self.checkShardLoss(
            Self.twoShards(second: "inproc://bt-s1-orders", "inproc://bt-s1-events", "inproc://bt-s1-replay"))
    }

    @Test func ordersForAStoppedTCPShardAreRejectedPromptly() async throws {
        let ports = (0..<3).map { _ in freeTCPPort() }
        try await Self.checkShardLoss(
            Self.twoShards(
                second: "tcp://127.0.0.1:\(ports[0])", "tcp://127.0.0.1:\(ports[1])", "tcp://127.0.0.1:\(ports[2])"))
    }

    @Test func gracefulShutdownLogsEverySessionOut() async throws {
        let exchange = try await within(20, "the exchange starts") { try await ExchangeHarness() }
        let (one, _) = try await TCPTestSession.login(exchange, "trader1")
        let (two, _) = try await TCPTestSession.login(exchange, "trader2")
        try await one.send(newOrder(1, .buy, price: 10_000, quantity: 1))
        _ = try await one.expectNext()
        let stopping = Task { try await exchange.stop() }
        for (name, session) in [("trader1", one), ("trader2", two)] {
            var last: ServerMessage?
            while let message = await session.next(within: 5) { last = message }
            #expect(last == .logout(.gatewayShutdown), "\(name) got \(String(describing: last))")
            #expect(await session.waitClosed(within: 1), "\(name)'s connection closes")
        }
        _ = try await within(10, "the exchange stops") { try await stopping.value }
    }
}

extension Array where Element == UInt8 {
    /// A copy with `byte` at `offset`.
    func with(byte: UInt8, at offset: Int) -> [UInt8] {
        var copy = self
        copy[offset] = byte
        return copy
    }

    /// A copy with `bytes` from `offset`.
    func with(bytes: [UInt8], at offset: Int) -> [UInt8] {
        var copy = self
        copy.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        return copy
    }

    /// A copy whose length field says `length`.
    func with(length: Int) -> [UInt8] {
        with(bytes: [UInt8(length & 0xFF), UInt8(length >> 8)], at: 0)
    }
}

/// A small deterministic generator (SplitMix64) for reproducible garbage.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
