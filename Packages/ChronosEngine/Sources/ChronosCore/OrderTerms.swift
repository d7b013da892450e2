/// Which side of the book an order is on.
@frozen
public enum Side: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case buy = 0
    case sell = 1

    /// The other side: the side an incoming order of this side trades against.
    @inlinable public var opposite: Side { self == .buy ? .sell : .buy }

    /// `"buy"` or `"sell"`, as in the replay protocol.
    public var description: String { self == .buy ? "buy" : "sell" }
}

/// Limit or market.
@frozen
public enum OrderType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Trades at its limit price or better; a GTC remainder rests in the book.
    case limit = 0
    /// Takes liquidity at any price up to its quantity; the remainder is canceled, never rests.
    case market = 1

    /// `"limit"` or `"market"`.
    public var description: String { self == .limit ? "limit" : "market" }
}

/// How long an order stays working.
@frozen
public enum TimeInForce: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Good till canceled: the remainder rests in the book.
    case goodTillCancel = 0
    /// Immediate or cancel: fills what it can now, the remainder is canceled.
    case immediateOrCancel = 1
    /// Fill or kill: fills completely now, or is rejected with no fills and no book change.
    case fillOrKill = 2

    /// `"gtc"`, `"ioc"` or `"fok"`.
    public var description: String {
        switch self {
        case .goodTillCancel: "gtc"
        case .immediateOrCancel: "ioc"
        case .fillOrKill: "fok"
        }
    }
}

/// Why the engine refused a command. The `code` is the protocol's reason string.
@frozen
public enum RejectReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The command could not be read (edges only: the engine itself never sees such input,
    /// except a post-only market order built through the library API).
    case malformed = 0
    /// The order id was already accepted earlier in this engine's life.
    case duplicateID = 1
    /// Cancel or replace of an order that is not resting (or names another symbol).
    case unknownOrder = 2
    /// Cancel or replace by an account that does not own the order.
    case notOwner = 3
    /// Price ≤ 0, off the tick grid, or outside the symbol's price limits.
    case invalidPrice = 4
    /// Quantity ≤ 0, not a lot multiple, outside the symbol's limits, or above the engine's
    /// overflow ceiling.
    case invalidQuantity = 5
    /// A post-only order whose price would take liquidity on arrival.
    case postOnlyWouldCross = 6
    /// A fill-or-kill order that cannot be filled completely right now.
    case fillOrKillUnfillable = 7
    /// The symbol does not exist in this engine.
    case unknownSymbol = 8
    /// A preallocated pool is full (resting orders or used ids); the engine never grows.
    case capacityExhausted = 9

    /// The reason string used on the wire, e.g. `"unknown_order"`.
    public var code: String { codeLiteral.description }

    /// ``code`` as a static literal: writers on the hot path use it without building a `String`.
    public var codeLiteral: StaticString {
        switch self {
        case .malformed: "malformed"
        case .duplicateID: "duplicate_id"
        case .unknownOrder: "unknown_order"
        case .notOwner: "not_owner"
        case .invalidPrice: "invalid_price"
        case .invalidQuantity: "invalid_qty"
        case .postOnlyWouldCross: "post_only_would_cross"
        case .fillOrKillUnfillable: "fok_unfillable"
        case .unknownSymbol: "unknown_symbol"
        case .capacityExhausted: "capacity_exhausted"
        }
    }

    public var description: String { code }
}

/// Why quantity left the book or an incoming order without trading.
@frozen
public enum CancelReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The owner asked (cancel command).
    case requested = 0
    /// The unfilled remainder of an immediate-or-cancel order.
    case immediateOrCancelRemainder = 1
    /// The unfilled remainder of a market order.
    case marketRemainder = 2
    /// Self-trade prevention: the next maker belonged to the same account.
    case selfTradePrevention = 3

    public var description: String {
        switch self {
        case .requested: "requested"
        case .immediateOrCancelRemainder: "ioc_remainder"
        case .marketRemainder: "market_remainder"
        case .selfTradePrevention: "self_trade_prevention"
        }
    }
}
