/// An order was accepted. Fills, and a cancel of any remainder that does not rest, follow.
@frozen
public struct OrderAccepted: Hashable, Sendable {
    /// Per-shard sequence number of this event.
    public var sequence: UInt64
    public var id: OrderID
    public var account: AccountID
    public var symbol: SymbolID
    public var side: Side
    public var type: OrderType
    public var timeInForce: TimeInForce
    public var postOnly: Bool
    /// Limit price in ticks (0 for market orders).
    public var price: Price
    /// Ordered quantity in lots.
    public var quantity: Quantity

    @inlinable
    public init(
        sequence: UInt64, id: OrderID, account: AccountID, symbol: SymbolID, side: Side, type: OrderType,
        timeInForce: TimeInForce, postOnly: Bool, price: Price, quantity: Quantity
    ) {
        self.sequence = sequence
        self.id = id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.postOnly = postOnly
        self.price = price
        self.quantity = quantity
    }
}

/// A command was refused; the book did not change.
@frozen
public struct OrderRejected: Hashable, Sendable {
    /// Per-shard sequence number of this event.
    public var sequence: UInt64
    /// The order id the command named.
    public var id: OrderID
    public var account: AccountID
    public var symbol: SymbolID
    /// Which command was refused.
    public var command: CommandKind
    public var reason: RejectReason

    @inlinable
    public init(
        sequence: UInt64, id: OrderID, account: AccountID, symbol: SymbolID, command: CommandKind,
        reason: RejectReason
    ) {
        self.sequence = sequence
        self.id = id
        self.account = account
        self.symbol = symbol
        self.command = command
        self.reason = reason
    }
}

/// One trade between an incoming (taker) order and a resting (maker) order, at the maker's price.
@frozen
public struct Fill: Hashable, Sendable {
    /// Per-shard sequence number of this event.
    public var sequence: UInt64
    /// Per-shard trade number.
    public var tradeID: TradeID
    public var symbol: SymbolID
    public var takerID: OrderID
    public var makerID: OrderID
    public var takerAccount: AccountID
    public var makerAccount: AccountID
    /// The aggressor's side.
    public var takerSide: Side
    /// Trade price in ticks: the maker's price.
    public var price: Price
    /// Traded quantity in lots.
    public var quantity: Quantity
    /// The taker's open quantity after this fill.
    public var takerLeaves: Quantity
    /// The maker's open quantity after this fill (0: the maker left the book).
    public var makerLeaves: Quantity
    /// The resting order's ``NewOrder/origin`` tag (engine-side routing; not on the wire).
    public var makerOrigin: UInt16

    @inlinable
    public init(
        sequence: UInt64, tradeID: TradeID, symbol: SymbolID, takerID: OrderID, makerID: OrderID,
        takerAccount: AccountID, makerAccount: AccountID, takerSide: Side, price: Price, quantity: Quantity,
        takerLeaves: Quantity, makerLeaves: Quantity, makerOrigin: UInt16 = 0
    ) {
        self.sequence = sequence
        self.tradeID = tradeID
        self.symbol = symbol
        self.takerID = takerID
        self.makerID = makerID
        self.takerAccount = takerAccount
        self.makerAccount = makerAccount
        self.takerSide = takerSide
        self.price = price
        self.quantity = quantity
        self.takerLeaves = takerLeaves
        self.makerLeaves = makerLeaves
        self.makerOrigin = makerOrigin
    }
}

/// Quantity left the book (a resting order was canceled) or an incoming order's remainder
/// was canceled without resting.
@frozen
public struct OrderCanceled: Hashable, Sendable {
    /// Per-shard sequence number of this event.
    public var sequence: UInt64
    public var id: OrderID
    public var account: AccountID
    public var symbol: SymbolID
    public var side: Side
    /// The quantity removed, in lots.
    public var quantity: Quantity
    public var reason: CancelReason

    @inlinable
    public init(
        sequence: UInt64, id: OrderID, account: AccountID, symbol: SymbolID, side: Side, quantity: Quantity,
        reason: CancelReason
    ) {
        self.sequence = sequence
        self.id = id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.reason = reason
    }
}

/// A resting order's price and/or open quantity changed. Fills may follow when the new
/// price crosses.
@frozen
public struct OrderReplaced: Hashable, Sendable {
    /// Per-shard sequence number of this event.
    public var sequence: UInt64
    public var id: OrderID
    public var account: AccountID
    public var symbol: SymbolID
    public var side: Side
    /// The new limit price in ticks.
    public var price: Price
    /// The new open quantity in lots.
    public var quantity: Quantity
    /// True when the order kept its place in the queue (same price, quantity not increased).
    public var keptPriority: Bool

    @inlinable
    public init(
        sequence: UInt64, id: OrderID, account: AccountID, symbol: SymbolID, side: Side, price: Price,
        quantity: Quantity, keptPriority: Bool
    ) {
        self.sequence = sequence
        self.id = id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.price = price
        self.quantity = quantity
        self.keptPriority = keptPriority
    }
}

/// Everything the matching engine emits, in the order it happened. Every event carries a
/// per-shard sequence number, contiguous from 1.
@frozen
public enum EngineEvent: Hashable, Sendable {
    case accepted(OrderAccepted)
    case rejected(OrderRejected)
    case fill(Fill)
    case canceled(OrderCanceled)
    case replaced(OrderReplaced)

    /// The event's per-shard sequence number.
    @inlinable public var sequence: UInt64 {
        switch self {
        case .accepted(let e): e.sequence
        case .rejected(let e): e.sequence
        case .fill(let e): e.sequence
        case .canceled(let e): e.sequence
        case .replaced(let e): e.sequence
        }
    }

    /// True for the one event that answers the command which caused it: `accepted`, `rejected`,
    /// `replaced`, or `canceled` for a cancel request. Fills, and the cancel of an IOC, market or
    /// self-trade remainder, follow an answer. A gateway uses this to know a command was handled.
    @inlinable public var answersCommand: Bool {
        switch self {
        case .accepted, .rejected, .replaced: true
        case .canceled(let e): e.reason == .requested
        case .fill: false
        }
    }

    /// The symbol the event belongs to.
    @inlinable public var symbol: SymbolID {
        switch self {
        case .accepted(let e): e.symbol
        case .rejected(let e): e.symbol
        case .fill(let e): e.symbol
        case .canceled(let e): e.symbol
        case .replaced(let e): e.symbol
        }
    }
}

/// One aggregated price level of a book: `[price, total_qty, order_count]` in the protocol.
@frozen
public struct LevelSummary: Hashable, Sendable {
    /// Level price in ticks.
    public var price: Price
    /// Sum of the open quantities of the orders at this price, in lots.
    public var quantity: Quantity
    /// Number of resting orders at this price.
    public var orderCount: Int

    @inlinable
    public init(price: Price, quantity: Quantity, orderCount: Int) {
        self.price = price
        self.quantity = quantity
        self.orderCount = orderCount
    }
}

/// A depth snapshot of one symbol's book, best price first on both sides.
public struct BookSnapshot: Hashable, Sendable {
    public var symbol: SymbolID
    /// The sequence number of the last event the book reflects (0 before any event): a
    /// subscriber applies later events from `lastSequence + 1` on top of the snapshot.
    public var lastSequence: UInt64
    /// Bid levels, highest price first.
    public var bids: [LevelSummary]
    /// Ask levels, lowest price first.
    public var asks: [LevelSummary]

    public init(symbol: SymbolID, lastSequence: UInt64 = 0, bids: [LevelSummary], asks: [LevelSummary]) {
        self.symbol = symbol
        self.lastSequence = lastSequence
        self.bids = bids
        self.asks = asks
    }
}
