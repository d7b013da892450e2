/// A public trade for market data: what every subscriber may see of a ``Fill`` (no order ids, no
/// accounts).
///
/// Wire frame: `trade`, 48 bytes (layout in `TradeFrame` and docs/wire-format.md).
@frozen
public struct PublicTrade: Hashable, Sendable {
    /// Per-shard sequence number of the fill event this trade reports.
    public var sequence: UInt64
    /// Per-shard trade number.
    public var tradeID: TradeID
    /// The symbol traded.
    public var symbol: SymbolID
    /// Trade price in ticks.
    public var price: Price
    /// Traded quantity in lots.
    public var quantity: Quantity
    /// The side of the incoming (taker) order.
    public var aggressorSide: Side

    /// Creates a public trade.
    @inlinable
    public init(
        sequence: UInt64, tradeID: TradeID, symbol: SymbolID, price: Price, quantity: Quantity, aggressorSide: Side
    ) {
        self.sequence = sequence
        self.tradeID = tradeID
        self.symbol = symbol
        self.price = price
        self.quantity = quantity
        self.aggressorSide = aggressorSide
    }
}

/// One price level of a book after a change: its new total and order count (level-2 market data).
///
/// A quantity and order count of 0 mean the level is gone. Wire frame: `bookDelta`, 48 bytes
/// (layout in `BookDeltaFrame` and docs/wire-format.md).
@frozen
public struct BookDelta: Hashable, Sendable {
    /// Per-shard sequence number of the event that changed the level.
    public var sequence: UInt64
    /// The symbol whose book changed.
    public var symbol: SymbolID
    /// The side of the book: buy for a bid level, sell for an ask level.
    public var side: Side
    /// Level price in ticks.
    public var price: Price
    /// The level's new total open quantity in lots (0: the level was removed).
    public var quantity: Quantity
    /// The level's new number of resting orders (0: the level was removed).
    public var orderCount: UInt32

    /// Creates a book delta.
    @inlinable
    public init(
        sequence: UInt64, symbol: SymbolID, side: Side, price: Price, quantity: Quantity, orderCount: UInt32
    ) {
        self.sequence = sequence
        self.symbol = symbol
        self.side = side
        self.price = price
        self.quantity = quantity
        self.orderCount = orderCount
    }
}
