import ChronosCore
import RiskEngine

/// A risk engine with small tables and a way to play the matching engine's events by hand.
struct RiskHarness {
    let risk: RiskEngine
    let symbol = SymbolID(0)

    init(_ configure: (inout RiskConfiguration) -> Void = { _ in }) {
        var configuration = RiskConfiguration()
        configuration.accountCapacity = 16
        configuration.symbolCapacity = 4
        configuration.orderCapacity = 64
        configuration.positionCapacity = 64
        configure(&configuration)
        risk = RiskEngine(configuration: configuration)
    }

    static func order(
        _ id: UInt64, _ account: UInt32, _ side: Side, _ price: Price, _ qty: Quantity, symbol: UInt32 = 0,
        type: OrderType = .limit, tif: TimeInForce = .goodTillCancel
    ) -> NewOrder {
        NewOrder(
            id: OrderID(id), account: AccountID(account), symbol: SymbolID(symbol), side: side, type: type,
            timeInForce: tif, price: price, quantity: qty)
    }

    func check(
        _ id: UInt64, _ account: UInt32, _ side: Side, _ price: Price, _ qty: Quantity, type: OrderType = .limit,
        tif: TimeInForce = .goodTillCancel, now: UInt64 = 0
    ) -> RiskDecision {
        risk.check(Self.order(id, account, side, price, qty, type: type, tif: tif), now: now)
    }

    /// Checks and, when it passes, plays `accepted` (the order rests or waits for fills).
    @discardableResult
    func enter(
        _ id: UInt64, _ account: UInt32, _ side: Side, _ price: Price, _ qty: Quantity, type: OrderType = .limit,
        tif: TimeInForce = .goodTillCancel
    ) -> RiskDecision {
        let decision = check(id, account, side, price, qty, type: type, tif: tif)
        if decision.action == .pass { accepted(id, account, side, price, qty, type: type, tif: tif) }
        return decision
    }

    func accepted(
        _ id: UInt64, _ account: UInt32, _ side: Side, _ price: Price, _ qty: Quantity, type: OrderType = .limit,
        tif: TimeInForce = .goodTillCancel
    ) {
        risk.apply(
            .accepted(
                OrderAccepted(
                    sequence: 0, id: OrderID(id), account: AccountID(account), symbol: symbol, side: side, type: type,
                    timeInForce: tif, postOnly: false, price: type == .market ? 0 : price, quantity: qty)))
    }

    func fill(
        taker: UInt64, _ takerAccount: UInt32, _ takerSide: Side, maker: UInt64, _ makerAccount: UInt32,
        price: Price, qty: Quantity, takerLeaves: Quantity, makerLeaves: Quantity
    ) {
        risk.apply(
            .fill(
                Fill(
                    sequence: 0, tradeID: TradeID(0), symbol: symbol, takerID: OrderID(taker),
                    makerID: OrderID(maker), takerAccount: AccountID(takerAccount),
                    makerAccount: AccountID(makerAccount), takerSide: takerSide, price: price, quantity: qty,
                    takerLeaves: takerLeaves, makerLeaves: makerLeaves)))
    }

    func canceled(_ id: UInt64, _ account: UInt32, _ side: Side, _ qty: Quantity, reason: CancelReason = .requested) {
        risk.apply(
            .canceled(
                OrderCanceled(
                    sequence: 0, id: OrderID(id), account: AccountID(account), symbol: symbol, side: side,
                    quantity: qty, reason: reason)))
    }

    func rejectedNew(_ id: UInt64, _ account: UInt32, _ reason: RejectReason) {
        risk.apply(
            .rejected(
                OrderRejected(
                    sequence: 0, id: OrderID(id), account: AccountID(account), symbol: symbol, command: .new,
                    reason: reason)))
    }

    func replaced(_ id: UInt64, _ account: UInt32, _ side: Side, price: Price, qty: Quantity) {
        risk.apply(
            .replaced(
                OrderReplaced(
                    sequence: 0, id: OrderID(id), account: AccountID(account), symbol: symbol, side: side,
                    price: price, quantity: qty, keptPriority: false)))
    }

    func replace(_ id: UInt64, _ account: UInt32, price: Price? = nil, qty: Quantity? = nil, now: UInt64 = 0)
        -> RiskDecision
    {
        risk.checkReplace(
            ReplaceOrder(id: OrderID(id), account: AccountID(account), symbol: symbol, price: price, quantity: qty),
            now: now)
    }

    func account(_ account: UInt32) -> AccountRiskState { risk.accountState(AccountID(account))! }
    func position(_ account: UInt32) -> PositionRiskState { risk.positionState(AccountID(account), symbol) }
}

extension RiskDecision {
    /// The reject reason, or nil for a pass (tests read better with one value).
    var rejected: RiskReason? { action == .reject ? reason : nil }
}
