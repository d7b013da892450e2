/// A new order for the matching engine.
///
/// All fields are plain integers and small enums: building one never allocates.
@frozen
public struct NewOrder: Hashable, Sendable {
    /// Client order id, unique over the engine's life; only an accepted id is used up.
    public var id: OrderID
    /// The account that owns the order.
    public var account: AccountID
    /// The symbol to trade.
    public var symbol: SymbolID
    /// Buy or sell.
    public var side: Side
    /// Limit or market.
    public var type: OrderType
    /// Time in force (ignored for market orders).
    public var timeInForce: TimeInForce
    /// Limit price in ticks; ignored for market orders.
    public var price: Price
    /// Quantity in lots, > 0.
    public var quantity: Quantity
    /// When true, the order is rejected instead of taking liquidity on arrival (limit only).
    public var postOnly: Bool
    /// An opaque tag the engine keeps with a resting order and hands back in fills against it
    /// (``Fill/makerOrigin``): the engine service stores the number of the gateway that sent the
    /// order, so that a maker's fills reach the maker's gateway. Not part of matching; 0 by default.
    public var origin: UInt16

    /// Creates a new-order command.
    @inlinable
    public init(
        id: OrderID, account: AccountID, symbol: SymbolID, side: Side, type: OrderType = .limit,
        timeInForce: TimeInForce = .goodTillCancel, price: Price = 0, quantity: Quantity, postOnly: Bool = false,
        origin: UInt16 = 0
    ) {
        self.id = id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.price = price
        self.quantity = quantity
        self.postOnly = postOnly
        self.origin = origin
    }
}

/// A request to cancel a resting order.
@frozen
public struct CancelOrder: Hashable, Sendable {
    /// The id of the resting order.
    public var id: OrderID
    /// The account asking; it must own the order.
    public var account: AccountID
    /// The symbol the order rests on; another symbol is `unknown_order`.
    public var symbol: SymbolID

    /// Creates a cancel command.
    @inlinable
    public init(id: OrderID, account: AccountID, symbol: SymbolID) {
        self.id = id
        self.account = account
        self.symbol = symbol
    }
}

/// A request to change the price and/or open quantity of a resting order.
///
/// A price change or a quantity increase loses time priority; a decrease keeps it.
@frozen
public struct ReplaceOrder: Hashable, Sendable {
    /// The id of the resting order.
    public var id: OrderID
    /// The account asking; it must own the order.
    public var account: AccountID
    /// The symbol the order rests on; another symbol is `unknown_order`.
    public var symbol: SymbolID
    /// The new limit price in ticks, or `nil` to keep the current one.
    public var price: Price?
    /// The new open quantity in lots (compared with the current open quantity), or `nil` to keep it.
    public var quantity: Quantity?

    /// Creates a replace command. At least one of `price` and `quantity` should be given.
    @inlinable
    public init(id: OrderID, account: AccountID, symbol: SymbolID, price: Price? = nil, quantity: Quantity? = nil) {
        self.id = id
        self.account = account
        self.symbol = symbol
        self.price = price
        self.quantity = quantity
    }
}

/// Any command the matching engine processes.
@frozen
public enum EngineCommand: Hashable, Sendable {
    case new(NewOrder)
    case cancel(CancelOrder)
    case replace(ReplaceOrder)

    /// The symbol the command names.
    @inlinable public var symbolID: SymbolID {
        switch self {
        case .new(let order): order.symbol
        case .cancel(let cancel): cancel.symbol
        case .replace(let replace): replace.symbol
        }
    }

    /// The order id the command names.
    @inlinable public var orderID: OrderID {
        switch self {
        case .new(let order): order.id
        case .cancel(let cancel): cancel.id
        case .replace(let replace): replace.id
        }
    }
}

/// Which kind of command a rejection answers.
@frozen
public enum CommandKind: UInt8, Sendable, CustomStringConvertible {
    case new = 0
    case cancel = 1
    case replace = 2

    public var description: String {
        switch self {
        case .new: "new"
        case .cancel: "cancel"
        case .replace: "replace"
        }
    }
}
