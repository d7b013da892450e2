// The one-byte enums of the binary protocol. Their raw values are the bytes on the wire
// (docs/protocol.md, "Enum values"); renumbering a case changes the protocol. They are numbered
// from 1 (0 is never a valid side, type or time in force), unlike the internal wire format, whose
// values the gateway maps.

/// Buy or sell.
@frozen
public enum BinarySide: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Buy (bid).
    case buy = 1
    /// Sell (ask).
    case sell = 2

    /// `"buy"` or `"sell"`.
    public var description: String { self == .buy ? "buy" : "sell" }
}

/// Limit or market.
@frozen
public enum BinaryOrderType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Trades at its price or better.
    case limit = 1
    /// Trades at any price; the price field is ignored (send 0) and the remainder is canceled.
    case market = 2

    /// `"limit"` or `"market"`.
    public var description: String { self == .limit ? "limit" : "market" }
}

/// How long an order stays working.
@frozen
public enum BinaryTimeInForce: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Good till canceled: the remainder rests in the book.
    case goodTillCancel = 1
    /// Immediate or cancel: the remainder is canceled (`canceled`, reason `iocRemainder`).
    case immediateOrCancel = 2
    /// Fill or kill: fills completely at once, or is accepted and then canceled in full
    /// (`canceled`, reason `immediateOrCancelRemainder`) without trading.
    case fillOrKill = 3

    /// `"gtc"`, `"ioc"` or `"fok"`.
    public var description: String {
        switch self {
        case .goodTillCancel: "gtc"
        case .immediateOrCancel: "ioc"
        case .fillOrKill: "fok"
        }
    }
}

/// Why quantity left an order without trading: the reason of a `canceled` message.
///
/// Values 0–3 are exactly ChronosCore's `CancelReason` raw values; from 100 the gateway's own.
@frozen
public enum BinaryCancelReason: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The client asked (a `cancel` request; `requestID` names it).
    case requested = 0
    /// The part of an immediate order that could not trade at once: the unfilled remainder of an
    /// immediate-or-cancel order, or the whole quantity of a fill-or-kill order that could not
    /// fill completely (the gateway maps the engine's `fok_unfillable` reject to this, so that an
    /// FOK ends as an IOC does; the order's time in force tells the two apart).
    case immediateOrCancelRemainder = 1
    /// The unfilled remainder of a market order.
    case marketRemainder = 2
    /// Self-trade prevention: the order would have traded with the same account.
    case selfTradePrevention = 3
    /// Canceled by the exchange: an operator's or the risk engine's kill switch.
    case killed = 100
    /// Canceled because the session ended (cancel on disconnect).
    case sessionEnded = 101

    /// The stable snake_case name, e.g. `"ioc_remainder"`.
    public var description: String {
        switch self {
        case .requested: "requested"
        case .immediateOrCancelRemainder: "ioc_remainder"
        case .marketRemainder: "market_remainder"
        case .selfTradePrevention: "self_trade_prevention"
        case .killed: "killed"
        case .sessionEnded: "session_ended"
        }
    }
}

/// The kind of request a `rejected` message answers.
@frozen
public enum RequestKind: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Not an order request: a message the gateway could not read as one or did not expect (an
    /// unknown type, a malformed login, a heartbeat before login). Both ids are 0. (A malformed
    /// order request of its type's size is answered with its own kind and ids.)
    case other = 0
    /// A `newOrder`; `requestID` is 0.
    case newOrder = 1
    /// A `cancel`.
    case cancel = 2
    /// A `replace`.
    case replace = 3

    /// `"other"`, `"new"`, `"cancel"` or `"replace"`.
    public var description: String {
        switch self {
        case .other: "other"
        case .newOrder: "new"
        case .cancel: "cancel"
        case .replace: "replace"
        }
    }
}

/// Why the gateway ends a session: the reason of a server `logout` message.
@frozen
public enum LogoutReason: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The client sent `logout`: the gateway's confirmation.
    case requested = 0
    /// Nothing arrived from the client for three heartbeat intervals.
    case heartbeatTimeout = 1
    /// The client broke the framing (bad length, oversized message) or the login rules.
    case protocolError = 2
    /// The gateway is shutting down.
    case gatewayShutdown = 3
    /// The client reads too slowly: its outbound queue overflowed.
    case slowConsumer = 4
    /// An operator ended the session.
    case administrative = 5

    /// The stable snake_case name, e.g. `"heartbeat_timeout"`.
    public var description: String {
        switch self {
        case .requested: "requested"
        case .heartbeatTimeout: "heartbeat_timeout"
        case .protocolError: "protocol_error"
        case .gatewayShutdown: "gateway_shutdown"
        case .slowConsumer: "slow_consumer"
        case .administrative: "administrative"
        }
    }
}
