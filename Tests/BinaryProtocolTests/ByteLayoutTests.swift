import BinaryProtocol
import Testing

/// The exact bytes of one message of each kind, written by hand from the tables in
/// docs/protocol.md (not from the code): encoding must produce them and decoding must read them.
@Suite struct ByteLayoutTests {
    private let aapl = SymbolCode("AAPL")!
    private let msft = SymbolCode("MSFT")!

    private func check(_ message: ClientMessage, _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation)
    {
        #expect(message.bytes == expected, sourceLocation: sourceLocation)
        #expect(
            ClientMessage.decode(expected) == .message(message, consumed: expected.count),
            sourceLocation: sourceLocation)
    }

    private func check(_ message: ServerMessage, _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation)
    {
        #expect(message.bytes == expected, sourceLocation: sourceLocation)
        #expect(
            ServerMessage.decode(expected) == .message(message, consumed: expected.count),
            sourceLocation: sourceLocation)
    }

    @Test func login() {
        let expected =
            hex("38 00 01 01")  // length 56, type 0x01, version 1
            + hex("74 72 61 64 65 72 31") + zeros(9)  // username "trader1", zero-padded to 16
            + hex("70 77") + zeros(30)  // password "pw", zero-padded to 32
            + hex("E8 03 00 00")  // heartbeatIntervalMs 1000
        check(
            .login(Login(username: Username("trader1")!, password: Password("pw")!, heartbeatIntervalMs: 1_000)),
            expected)
    }

    @Test func newOrder() {
        let expected =
            hex("2C 00 02 01")  // length 44, type 0x02, version 1
            + hex("65 00 00 00")  // account 101
            + hex("08 07 06 05 04 03 02 01")  // clientOrderID 0x0102030405060708
            + hex("41 41 50 4C 00 00 00 00")  // symbol "AAPL"
            + hex("B1 3A 00 00 00 00 00 00")  // price 15025
            + hex("64 00 00 00 00 00 00 00")  // quantity 100
            + hex("01 01 02 01")  // buy, limit, IOC, post-only
        check(
            .newOrder(
                NewOrderRequest(
                    clientOrderID: 0x0102_0304_0506_0708, account: 101, symbol: aapl, side: .buy, orderType: .limit,
                    timeInForce: .immediateOrCancel, price: 15_025, quantity: 100, postOnly: true)),
            expected)
    }

    @Test func newOrderSellMarketFokNegativePrice() {
        let expected =
            hex("2C 00 02 01") + hex("01 00 00 00") + hex("02") + zeros(7) + hex("41 41 50 4C 00 00 00 00")
            + hex("FF FF FF FF FF FF FF FF")  // price -1: two's complement
            + hex("0A 00 00 00 00 00 00 00") + hex("02 02 03 00")  // sell, market, FOK, no flags
        check(
            .newOrder(
                NewOrderRequest(
                    clientOrderID: 2, account: 1, symbol: aapl, side: .sell, orderType: .market,
                    timeInForce: .fillOrKill, price: -1, quantity: 10)),
            expected)
    }

    @Test func cancel() {
        let expected =
            hex("20 00 03 01")  // length 32, type 0x03, version 1
            + hex("65 00 00 00")  // account 101
            + hex("09") + zeros(7)  // requestID 9
            + hex("07") + zeros(7)  // clientOrderID 7
            + hex("4D 53 46 54 00 00 00 00")  // symbol "MSFT"
        check(.cancel(CancelRequest(requestID: 9, clientOrderID: 7, account: 101, symbol: msft)), expected)
    }

    @Test func replace() {
        let expected =
            hex("30 00 04 01")  // length 48, type 0x04, version 1
            + hex("65 00 00 00")  // account 101
            + hex("0A") + zeros(7)  // requestID 10
            + hex("07") + zeros(7)  // clientOrderID 7
            + hex("4D 53 46 54 00 00 00 00")  // symbol "MSFT"
            + hex("FC 3A 00 00 00 00 00 00")  // newPrice 15100
            + zeros(8)  // newQuantity 0: keep
        check(
            .replace(
                ReplaceRequest(requestID: 10, clientOrderID: 7, account: 101, symbol: msft, newPrice: 15_100)),
            expected)
    }

    @Test func clientHeartbeatAndLogout() {
        check(ClientMessage.heartbeat, hex("04 00 05 01"))
        check(ClientMessage.logout, hex("04 00 06 01"))
    }

    @Test func loginAccepted() {
        let expected =
            hex("14 00 81 01")  // length 20, type 0x81, version 1
            + hex("03 00 00 00")  // sessionID 3
            + hex("88 77 66 55 44 33 22 11")  // sessionToken 0x1122334455667788
            + hex("E8 03 00 00")  // heartbeatIntervalMs 1000
        check(
            .loginAccepted(
                LoginAccepted(sessionID: 3, sessionToken: 0x1122_3344_5566_7788, heartbeatIntervalMs: 1_000)),
            expected)
    }

    @Test func loginRejected() {
        check(.loginRejected(.badCredentials), hex("06 00 82 01 65 00"))  // error 101
    }

    @Test func orderAccepted() {
        let expected =
            hex("28 00 83 01") + zeros(4)  // length 40, type 0x83, version 1; reserved
            + hex("07") + zeros(7)  // clientOrderID 7
            + hex("00 10") + zeros(6)  // exchangeOrderID 4096
            + hex("B1 3A 00 00 00 00 00 00")  // price 15025
            + hex("64 00 00 00 00 00 00 00")  // quantity 100
        check(
            .orderAccepted(OrderAcceptedReport(clientOrderID: 7, exchangeOrderID: 4_096, price: 15_025, quantity: 100)),
            expected)
    }

    @Test func rejected() {
        let expected =
            hex("18 00 84 01")  // length 24, type 0x84, version 1
            + hex("69 00")  // errorCode 105 unknown_client_order_id
            + hex("02 00")  // requestKind 2 cancel; reserved
            + hex("07") + zeros(7)  // clientOrderID 7
            + hex("09") + zeros(7)  // requestID 9
        check(
            .rejected(
                RejectedReport(clientOrderID: 7, requestID: 9, requestKind: .cancel, errorCode: .unknownClientOrderID)),
            expected)
    }

    @Test func fill() {
        let expected =
            hex("40 00 85 01")  // length 64, type 0x85, version 1
            + hex("02 00 00 00")  // side sell; reserved
            + hex("07") + zeros(7)  // clientOrderID
            + hex("00 10") + zeros(6)  // exchangeOrderID 4096
            + hex("05") + zeros(7)  // tradeID 5
            + hex("B1 3A") + zeros(6)  // price 15025
            + hex("28") + zeros(7)  // quantity 40
            + hex("3C") + zeros(7)  // leavesQuantity 60
            + hex("28") + zeros(7)  // cumulativeQuantity 40
        check(
            .fill(
                FillReport(
                    clientOrderID: 7, exchangeOrderID: 4_096, tradeID: 5, side: .sell, price: 15_025, quantity: 40,
                    leavesQuantity: 60, cumulativeQuantity: 40)),
            expected)
    }

    @Test func canceled() {
        let expected =
            hex("20 00 86 01")  // length 32, type 0x86, version 1
            + hex("01 00 00 00")  // reason 1 ioc_remainder; reserved
            + hex("07") + zeros(7)  // clientOrderID 7
            + zeros(8)  // requestID 0: not asked
            + hex("3C") + zeros(7)  // canceledQuantity 60
        check(
            .canceled(
                CanceledReport(
                    clientOrderID: 7, requestID: 0, canceledQuantity: 60, reason: .immediateOrCancelRemainder)),
            expected)
        let killed = hex("20 00 86 01 64 00 00 00") + hex("07") + zeros(7) + zeros(8) + hex("01") + zeros(7)
        check(.canceled(CanceledReport(clientOrderID: 7, requestID: 0, canceledQuantity: 1, reason: .killed)), killed)
    }

    @Test func replaced() {
        let expected =
            hex("28 00 87 01")  // length 40, type 0x87, version 1
            + hex("01 00 00 00")  // keptPriority 1; reserved
            + hex("0A") + zeros(7)  // requestID 10
            + hex("07") + zeros(7)  // clientOrderID 7
            + hex("FC 3A") + zeros(6)  // price 15100
            + hex("32") + zeros(7)  // leavesQuantity 50
        check(
            .replaced(
                ReplacedReport(requestID: 10, clientOrderID: 7, price: 15_100, leavesQuantity: 50, keptPriority: true)),
            expected)
    }

    @Test func serverHeartbeatLogoutAndSequenceGap() {
        check(ServerMessage.heartbeat, hex("04 00 88 01"))
        check(ServerMessage.logout(.heartbeatTimeout), hex("05 00 89 01 01"))
        check(ServerMessage.sequenceGap(expectedSequence: 42), hex("10 00 8A 01 00 00 00 00 2A") + zeros(7))
    }

    @Test func udpDatagram() {
        let expected =
            hex("03 00 00 00")  // sessionID 3
            + hex("88 77 66 55 44 33 22 11")  // sessionToken
            + hex("02 00 00 00 00 00 00 00")  // clientSequence 2
            + hex("04 00 05 01")  // heartbeat
        let datagram = ClientDatagram(header: Samples.header, message: .heartbeat)
        var buffer = zeros(64)
        let count = buffer.withUnsafeMutableBytes { datagram.encode(into: $0) }
        #expect(Array(buffer[0..<count]) == expected)
        #expect(expected.withUnsafeBytes { ClientDatagram.decode($0) } == .success(datagram))
        let answer = expected[0..<20] + hex("05 00 89 01 00")
        #expect(
            Array(answer).withUnsafeBytes { ServerDatagram.decode($0) }
                == .success(ServerDatagram(header: Samples.header, message: .logout(.requested))))
    }

    @Test func symbolSpacePaddingDecodesLikeZeroPadding() {
        let spaced =
            hex("20 00 03 01 65 00 00 00") + hex("09") + zeros(7) + hex("07") + zeros(7)
            + hex("4D 53 46 54 20 20 20 20")
        #expect(
            ClientMessage.decode(spaced)
                == .message(
                    .cancel(CancelRequest(requestID: 9, clientOrderID: 7, account: 101, symbol: msft)), consumed: 32))
    }
}
