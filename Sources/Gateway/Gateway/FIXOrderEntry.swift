import ChronosConfig
import ChronosCore
import FIX
import RiskEngine

/// FIX 4.4 application messages ↔ engine commands and execution reports: pure translation,
/// no I/O. The session host feeds it validated messages and engine updates and sends what it
/// returns.
struct FIXOrderEntry {
    /// FIX OrdRejReason (103) values the gateway uses.
    enum OrdRejReason: Int {
        case brokerOption = 0, unknownSymbol = 1, exchangeClosed = 2, exceedsLimit = 3, unknownOrder = 5,
            duplicateOrder = 6, unsupportedCharacteristic = 11, incorrectQuantity = 13, unknownAccount = 15,
            other = 99
    }

    /// A refusal decided before the engine saw the order.
    struct Refusal: Error {
        var reason: OrdRejReason
        var text: String
    }

    let symbols: SymbolDirectory
    /// The session's accounts (numbers); the first trades when a message has no Account (1).
    let accounts: [UInt32]
    /// Account names → numbers (`[gateway.account_ids]`), and back.
    let accountIDs: [String: UInt32]
    let accountNames: [UInt32: String]

    init(symbols: SymbolDirectory, accounts: [UInt32], accountIDs: [String: UInt32] = [:]) {
        self.symbols = symbols
        self.accounts = accounts
        self.accountIDs = accountIDs
        accountNames = Dictionary(accountIDs.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// How reports spell `account` when the client did not: its configured name, else its number.
    func accountLabel(_ account: AccountID) -> String {
        accountNames[account.rawValue] ?? String(account.rawValue)
    }

    /// The fields of a NewOrderSingle the engine needs, checked; the order id is filled in later.
    func newOrder(_ message: FIXMessage) -> Result<NewOrder, Refusal> {
        guard let symbolName = message.string(55), let symbol = symbols.id(of: symbolName) else {
            return .failure(Refusal(reason: .unknownSymbol, text: "unknown_symbol: \(message.string(55) ?? "")"))
        }
        let configuration = symbols[symbol]
        let account: UInt32
        switch self.account(message) {
        case .success(let a): account = a
        case .failure(let refusal): return .failure(refusal)
        }
        let side: Side
        switch message.string(54) {
        case "1": side = .buy
        case "2": side = .sell
        default:
            return .failure(
                Refusal(reason: .unsupportedCharacteristic, text: "unsupported Side (54): only 1 buy and 2 sell"))
        }
        let type: OrderType
        switch message.string(40) {
        case "1": type = .market
        case "2": type = .limit
        default:
            return .failure(
                Refusal(reason: .unsupportedCharacteristic, text: "unsupported OrdType (40): only 1 market and 2 limit")
            )
        }
        let timeInForce: TimeInForce
        switch message.string(59) {
        case nil, "0", "1": timeInForce = .goodTillCancel
        case "3": timeInForce = .immediateOrCancel
        case "4": timeInForce = .fillOrKill
        default:
            return .failure(
                Refusal(reason: .unsupportedCharacteristic, text: "unsupported TimeInForce (59): only 0, 1, 3 and 4"))
        }
        let postOnly = message.string(18).map { $0.split(separator: " ").contains("6") } ?? false
        guard let quantity = message.decimal(38)?.scaled(toDecimals: 0), quantity > 0 else {
            return .failure(
                Refusal(reason: .incorrectQuantity, text: "invalid_qty: OrderQty (38) must be a positive whole number"))
        }
        var price: Price = 0
        if type == .limit {
            guard let decimal = message.decimal(44) else {
                return .failure(Refusal(reason: .other, text: "invalid_price: a limit order needs Price (44)"))
            }
            guard let units = decimal.scaled(toDecimals: configuration.priceDecimals) else {
                return .failure(
                    Refusal(
                        reason: .other,
                        text:
                            "invalid_price: \(message.string(44) ?? "") is not a multiple of the tick (\(symbols.decimalPrice(configuration.tickSize, symbol: symbol)))"
                    ))
            }
            price = units
        }
        return .success(
            NewOrder(
                id: OrderID(0), account: AccountID(account), symbol: symbol, side: side, type: type,
                timeInForce: timeInForce, price: price, quantity: quantity, postOnly: postOnly))
    }

    /// The Account (1) of a message, or the session's first account; refused when not the session's.
    ///
    /// Tag 1 is a string: all digits is that account number ("101"), anything else a name of
    /// `[gateway.account_ids]` ("ACC1"), which stands for its number. An unknown name is refused
    /// `unknown_account`, a known account the session may not trade `account_not_permitted`
    /// (both OrdRejReason 15, unknown account).
    func account(_ message: FIXMessage) -> Result<UInt32, Refusal> {
        guard let text = message.string(1) else { return .success(accounts[0]) }
        guard let value = GatewayConfiguration.accountNumber(text, names: accountIDs) else {
            return .failure(
                Refusal(
                    reason: .unknownAccount,
                    text: GatewayConfiguration.isAccountNumberText(text)
                        ? "unknown_account: \(text) is not an account number (0…4294967295)"
                        : "unknown_account: \(text) is neither an account number nor a configured account name"))
        }
        guard accounts.contains(value) else {
            return .failure(
                Refusal(
                    reason: .unknownAccount, text: "account_not_permitted: \(text) is not an account of this session"))
        }
        return .success(value)
    }

    /// The new price and total quantity of a cancel/replace (kept values where the message omits them).
    func replacement(_ message: FIXMessage, of order: TrackedOrder<String>) -> Result<(Price, Quantity), Refusal> {
        var price = order.price
        if let decimal = message.decimal(44) {
            guard let units = decimal.scaled(toDecimals: symbols[order.symbol].priceDecimals) else {
                return .failure(
                    Refusal(reason: .other, text: "invalid_price: \(message.string(44) ?? "") is off the tick"))
            }
            price = units
        }
        var quantity = order.orderQuantity
        if message.string(38) != nil {
            guard let q = message.decimal(38)?.scaled(toDecimals: 0), q > 0 else {
                return .failure(
                    Refusal(
                        reason: .incorrectQuantity, text: "invalid_qty: OrderQty (38) must be a positive whole number"))
            }
            quantity = q
        }
        return .success((price, quantity))
    }

    // MARK: Reports

    /// OrdStatus (39) of a tracked order.
    static func ordStatus(_ order: TrackedOrder<String>) -> String {
        if order.isDone {
            return order.leavesQuantity == 0 && order.cumulativeQuantity == order.orderQuantity ? "2" : "4"
        }
        return order.cumulativeQuantity > 0 ? "1" : "0"
    }

    /// An ExecutionReport (8) for `order`; Account (1) as the client spelled it on the order, else
    /// ``accountLabel(_:)``.
    func executionReport(
        _ order: TrackedOrder<String>, execID: String, execType: String, ordStatus: String,
        clOrdID: String? = nil, origClOrdID: String? = nil, last: (price: Price, quantity: Quantity)? = nil,
        rejectReason: OrdRejReason? = nil, text: String? = nil, ordStatusReqID: String? = nil,
        transactTime: String
    ) -> FIXOutboundMessage {
        var m = FIXOutboundMessage(msgType: "8")
        m.append(
            37,
            order.acknowledged || order.cumulativeQuantity > 0
                ? String(order.engineID.rawValue) : (execType == "8" ? "NONE" : String(order.engineID.rawValue)))
        m.append(11, clOrdID ?? order.key)
        if let origClOrdID { m.append(41, origClOrdID) }
        if let ordStatusReqID { m.append(790, ordStatusReqID) }
        m.append(17, execID)
        m.append(150, execType)
        m.append(39, ordStatus)
        if let rejectReason { m.append(103, String(rejectReason.rawValue)) }
        m.append(1, order.accountSpelling ?? accountLabel(order.account))
        m.append(55, symbols[order.symbol].name)
        m.append(54, order.side == .buy ? "1" : "2")
        m.append(38, String(order.orderQuantity))
        m.append(40, order.type == .market ? "1" : "2")
        if order.type == .limit { m.append(44, symbols.decimalPrice(order.price, symbol: order.symbol)) }
        if order.timeInForce != .goodTillCancel { m.append(59, Self.timeInForceCode(order.timeInForce)) }
        if let last {
            m.append(32, String(last.quantity))
            m.append(31, symbols.decimalPrice(last.price, symbol: order.symbol))
        }
        m.append(151, String(order.leavesQuantity))
        m.append(14, String(order.cumulativeQuantity))
        m.append(
            6,
            SymbolDirectory.averagePrice(
                notional: order.notional, quantity: order.cumulativeQuantity,
                decimals: symbols[order.symbol].priceDecimals))
        m.append(60, transactTime)
        if let text { m.append(58, text) }
        return m
    }

    /// OrdStatus (39) in an answer to OrderStatusRequest: ``ordStatus(_:)``, except that a live
    /// order the engine has not acknowledged yet is A (pending new) and one with a cancel or
    /// replace on its way 6 (pending cancel) or E (pending replace), as FIX 4.4 ranks them.
    static func statusRequestOrdStatus(_ order: TrackedOrder<String>) -> String {
        guard !order.isDone else { return ordStatus(order) }
        if let change = order.pendingChange { return change.kind == .cancel ? "6" : "E" }
        if !order.acknowledged && order.cumulativeQuantity == 0 { return "A" }
        return ordStatus(order)
    }

    /// The answer to an OrderStatusRequest (H) for an order the gateway cannot report on: an
    /// ExecutionReport 150=I 39=8 echoing the request's ids, Account, Symbol and Side, with Text.
    func unknownOrderStatus(_ message: FIXMessage, text: String, execID: String, transactTime: String)
        -> FIXOutboundMessage
    {
        var m = FIXOutboundMessage(msgType: "8")
        m.append(37, message.string(37) ?? "NONE")
        m.append(11, message.string(11) ?? "NONE")
        if let reqID = message.string(790) { m.append(790, reqID) }
        m.append(17, execID)
        m.append(150, "I")
        m.append(39, "8")
        if let account = message.string(1) { m.append(1, account) }
        m.append(55, message.string(55) ?? "NONE")
        m.append(54, message.string(54) ?? "1")
        m.append(151, "0")
        m.append(14, "0")
        m.append(6, "0")
        m.append(60, transactTime)
        m.append(58, text)
        return m
    }

    static func timeInForceCode(_ tif: TimeInForce) -> String {
        switch tif {
        case .goodTillCancel: "1"
        case .immediateOrCancel: "3"
        case .fillOrKill: "4"
        }
    }

    /// An ExecutionReport rejecting a NewOrderSingle the gateway refused before the engine.
    func refusedNewOrder(_ message: FIXMessage, _ refusal: Refusal, execID: String, transactTime: String)
        -> FIXOutboundMessage
    {
        var m = FIXOutboundMessage(msgType: "8")
        m.append(37, "NONE")
        m.append(11, message.string(11) ?? "NONE")
        m.append(17, execID)
        m.append(150, "8")
        m.append(39, "8")
        m.append(103, String(refusal.reason.rawValue))
        if let account = message.string(1) { m.append(1, account) }
        m.append(55, message.string(55) ?? "NONE")
        m.append(54, message.string(54) ?? "1")
        if let qty = message.string(38) { m.append(38, qty) }
        if let type = message.string(40) { m.append(40, type) }
        if let price = message.string(44) { m.append(44, price) }
        m.append(151, "0")
        m.append(14, "0")
        m.append(6, "0")
        m.append(60, transactTime)
        m.append(58, refusal.text)
        return m
    }

    /// An OrderCancelReject (9): `responseTo` 1 for a cancel request, 2 for a cancel/replace.
    /// CxlRejReason (102): 0 too late, 1 unknown order, 3 already pending, 99 other.
    func cancelReject(
        clOrdID: String, origClOrdID: String, order: TrackedOrder<String>?, responseTo: String, reason: Int,
        text: String
    ) -> FIXOutboundMessage {
        var m = FIXOutboundMessage(msgType: "9")
        m.append(37, order.map { String($0.engineID.rawValue) } ?? "NONE")
        m.append(11, clOrdID)
        m.append(41, origClOrdID)
        m.append(39, order.map { Self.ordStatus($0) } ?? "8")
        if let order { m.append(1, order.accountSpelling ?? accountLabel(order.account)) }
        m.append(434, responseTo)
        m.append(102, String(reason))
        m.append(58, text)
        return m
    }

    /// OrdRejReason for a risk refusal: 3 (order exceeds limit) for the size and exposure limits,
    /// 99 (other) for the rest; the Text names the exact check.
    static func ordRejReason(risk reason: RiskReason) -> OrdRejReason {
        switch reason {
        case .maxOrderQuantity, .notionalLimit, .openOrdersLimit, .positionLimit, .creditLimit: .exceedsLimit
        default: .other
        }
    }

    /// OrdRejReason for an engine reject code.
    static func ordRejReason(_ reason: RejectReason) -> OrdRejReason {
        switch reason {
        case .unknownSymbol: .unknownSymbol
        case .duplicateID: .duplicateOrder
        case .unknownOrder: .unknownOrder
        case .invalidQuantity: .incorrectQuantity
        case .capacityExhausted: .exceedsLimit
        default: .other
        }
    }
}
