import BinaryProtocol

/// One message of every kind, with every enum value and field exercised somewhere.
enum Samples {
    static let aapl = SymbolCode("AAPL")!
    static let longSymbol = SymbolCode("ABCDEFGH")!

    static let client: [ClientMessage] = [
        .login(Login(username: Username("trader1")!, password: Password("pw")!, heartbeatIntervalMs: 1_000)),
        .login(
            Login(
                username: Username("0123456789abcdef")!, password: Password(String(repeating: "~ ", count: 16))!,
                heartbeatIntervalMs: .max)),
        .login(Login(username: Username("u")!, password: Password("")!, heartbeatIntervalMs: 0)),
        .newOrder(
            NewOrderRequest(
                clientOrderID: 1, account: 101, symbol: aapl, side: .buy, price: 15_025, quantity: 100)),
        .newOrder(
            NewOrderRequest(
                clientOrderID: .max, account: .max, symbol: longSymbol, side: .sell, orderType: .market,
                timeInForce: .immediateOrCancel, price: 0, quantity: .max, postOnly: false)),
        .newOrder(
            NewOrderRequest(
                clientOrderID: 3, account: 0, symbol: aapl, side: .sell, orderType: .limit, timeInForce: .fillOrKill,
                price: -5, quantity: .min, postOnly: true)),
        .cancel(CancelRequest(requestID: 9, clientOrderID: 7, account: 101, symbol: aapl)),
        .replace(
            ReplaceRequest(
                requestID: 10, clientOrderID: 7, account: 101, symbol: aapl, newPrice: 15_100, newQuantity: 0)),
        .replace(
            ReplaceRequest(
                requestID: .max, clientOrderID: 0, account: 1, symbol: longSymbol, newPrice: .min, newQuantity: .max)),
        .heartbeat,
        .logout,
    ]

    static let server: [ServerMessage] =
        [
            .loginAccepted(
                LoginAccepted(sessionID: 3, sessionToken: 0x1122_3344_5566_7788, heartbeatIntervalMs: 1_000)),
            .orderAccepted(OrderAcceptedReport(clientOrderID: 7, exchangeOrderID: 4_096, price: 15_025, quantity: 100)),
            .fill(
                FillReport(
                    clientOrderID: 7, exchangeOrderID: 4_096, tradeID: 5, side: .sell, price: 15_025, quantity: 40,
                    leavesQuantity: 60, cumulativeQuantity: 40)),
            .fill(
                FillReport(
                    clientOrderID: .max, exchangeOrderID: .max, tradeID: .max, side: .buy, price: .min,
                    quantity: .max, leavesQuantity: 0, cumulativeQuantity: .max)),
            .replaced(
                ReplacedReport(requestID: 10, clientOrderID: 7, price: 15_100, leavesQuantity: 50, keptPriority: true)),
            .replaced(
                ReplacedReport(requestID: 11, clientOrderID: 7, price: 1, leavesQuantity: 2, keptPriority: false)),
            .heartbeat,
            .sequenceGap(expectedSequence: 42),
        ]
        + ErrorCode.allCases.map { .loginRejected($0) }
        + ErrorCode.allCases.enumerated().map { index, code in
            .rejected(
                RejectedReport(
                    clientOrderID: UInt64(index), requestID: UInt64(index * 3),
                    requestKind: RequestKind.allCases[index % RequestKind.allCases.count], errorCode: code))
        }
        + BinaryCancelReason.allCases.map {
            .canceled(CanceledReport(clientOrderID: 7, requestID: 0, canceledQuantity: 60, reason: $0))
        }
        + LogoutReason.allCases.map { .logout($0) }

    static let header = UDPHeader(sessionID: 3, sessionToken: 0x1122_3344_5566_7788, clientSequence: 2)
}

/// Bytes from a hex string such as `"2C 00 02 01"` (spaces ignored).
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex digit count")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// `count` zero bytes.
func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

/// The little-endian bytes of `value`.
func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

extension ClientMessage {
    /// The encoded bytes.
    var bytes: [UInt8] {
        var buffer = zeros(BinaryFormat.largestMessageSize)
        let count = buffer.withUnsafeMutableBytes { encode(into: $0) }
        return Array(buffer[0..<count])
    }

    /// Decodes from an array.
    static func decode(_ bytes: [UInt8]) -> BinaryDecodeResult<ClientMessage> {
        bytes.withUnsafeBytes { decode($0) }
    }
}

extension ServerMessage {
    /// The encoded bytes.
    var bytes: [UInt8] {
        var buffer = zeros(BinaryFormat.largestMessageSize)
        let count = buffer.withUnsafeMutableBytes { encode(into: $0) }
        return Array(buffer[0..<count])
    }

    /// Decodes from an array.
    static func decode(_ bytes: [UInt8]) -> BinaryDecodeResult<ServerMessage> {
        bytes.withUnsafeBytes { decode($0) }
    }
}

/// A small seeded generator (SplitMix64), so randomized tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
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
