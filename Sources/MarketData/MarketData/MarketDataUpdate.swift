import ChronosCore

/// What happened to a price level: it appeared, its totals changed, or it left the book.
@frozen
public enum LevelAction: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// A price level that did not exist now holds orders.
    case new = 0
    /// An existing level's aggregate quantity and/or order count changed.
    case change = 1
    /// The level's last order left: the level is gone (quantity and order count are 0).
    case delete = 2

    /// `"new"`, `"change"` or `"delete"`.
    public var description: String {
        switch self {
        case .new: "new"
        case .change: "change"
        case .delete: "delete"
        }
    }
}

/// One price level after a change (level-2 incremental market data).
///
/// Carries the level's new absolute totals, never a difference: applying the same update twice
/// leaves the same book, and a consumer needs no arithmetic that could drift.
@frozen
public struct LevelUpdate: Hashable, Sendable {
    /// The symbol whose book changed.
    public var symbol: SymbolID
    /// The symbol's market-data sequence number (see ``MarketDataUpdate/sequence``).
    public var sequence: UInt64
    /// The per-shard sequence number of the engine event that caused the change.
    public var eventSequence: UInt64
    /// New, change or delete.
    public var action: LevelAction
    /// Buy for a bid level, sell for an offer level.
    public var side: Side
    /// Level price in ticks.
    public var price: Price
    /// The level's aggregate open quantity after the change, in lots (0 for a delete).
    public var quantity: Quantity
    /// Resting orders at the level after the change (0 for a delete).
    public var orderCount: Int

    /// Creates a level update.
    @inlinable
    public init(
        symbol: SymbolID, sequence: UInt64, eventSequence: UInt64, action: LevelAction, side: Side, price: Price,
        quantity: Quantity, orderCount: Int
    ) {
        self.symbol = symbol
        self.sequence = sequence
        self.eventSequence = eventSequence
        self.action = action
        self.side = side
        self.price = price
        self.quantity = quantity
        self.orderCount = orderCount
    }

    /// The same change as the engine's `bookDelta` wire value (numbered by engine event, not by
    /// market-data sequence).
    public var bookDelta: BookDelta {
        BookDelta(
            sequence: eventSequence, symbol: symbol, side: side, price: price, quantity: quantity,
            orderCount: UInt32(clamping: orderCount))
    }
}

/// One public trade: what every subscriber may see of a fill (no order ids, no accounts).
@frozen
public struct TradeUpdate: Hashable, Sendable {
    /// The symbol traded.
    public var symbol: SymbolID
    /// The symbol's market-data sequence number (see ``MarketDataUpdate/sequence``).
    public var sequence: UInt64
    /// The per-shard sequence number of the fill event.
    public var eventSequence: UInt64
    /// The engine's per-shard trade number.
    public var tradeID: TradeID
    /// Trade price in ticks (the resting order's price).
    public var price: Price
    /// Traded quantity in lots.
    public var quantity: Quantity
    /// The side of the incoming (taker) order.
    public var aggressorSide: Side

    /// Creates a trade update.
    @inlinable
    public init(
        symbol: SymbolID, sequence: UInt64, eventSequence: UInt64, tradeID: TradeID, price: Price,
        quantity: Quantity, aggressorSide: Side
    ) {
        self.symbol = symbol
        self.sequence = sequence
        self.eventSequence = eventSequence
        self.tradeID = tradeID
        self.price = price
        self.quantity = quantity
        self.aggressorSide = aggressorSide
    }

    /// The same trade as the engine's `trade` wire value (numbered by engine event).
    public var publicTrade: PublicTrade {
        PublicTrade(
            sequence: eventSequence, tradeID: tradeID, symbol: symbol, price: price, quantity: quantity,
            aggressorSide: aggressorSide)
    }
}

/// The top of a symbol's book after it changed: best bid and best offer with their aggregate
/// quantity and order count.
@frozen
public struct BestBidOfferUpdate: Hashable, Sendable {
    /// The symbol.
    public var symbol: SymbolID
    /// The symbol's market-data sequence number (see ``MarketDataUpdate/sequence``).
    public var sequence: UInt64
    /// The per-shard sequence number of the engine event that moved the top of the book.
    public var eventSequence: UInt64
    /// The highest bid level, or nil when no order bids.
    public var bestBid: LevelSummary?
    /// The lowest offer level, or nil when no order offers.
    public var bestOffer: LevelSummary?

    /// Creates a best bid/offer update.
    @inlinable
    public init(
        symbol: SymbolID, sequence: UInt64, eventSequence: UInt64, bestBid: LevelSummary?, bestOffer: LevelSummary?
    ) {
        self.symbol = symbol
        self.sequence = sequence
        self.eventSequence = eventSequence
        self.bestBid = bestBid
        self.bestOffer = bestOffer
    }
}

/// Everything the market-data book publishes, per symbol.
///
/// All updates of one symbol share one sequence, numbered from 1 and increasing by exactly one:
/// a consumer that sees a number other than the last plus one has missed updates (a gap) and
/// recovers from a ``MarketDataSnapshot``. For one engine event the book publishes, in order:
/// the trade (a fill), the level updates, then the best bid/offer when the top of the book moved.
@frozen
public enum MarketDataUpdate: Hashable, Sendable {
    /// A price level appeared, changed or left.
    case level(LevelUpdate)
    /// A trade printed.
    case trade(TradeUpdate)
    /// The best bid or best offer changed (price, aggregate quantity or order count).
    case bestBidOffer(BestBidOfferUpdate)

    /// The symbol the update belongs to.
    @inlinable public var symbol: SymbolID {
        switch self {
        case .level(let u): u.symbol
        case .trade(let u): u.symbol
        case .bestBidOffer(let u): u.symbol
        }
    }

    /// The symbol's market-data sequence number: 1 for the symbol's first update, then +1 per update.
    @inlinable public var sequence: UInt64 {
        switch self {
        case .level(let u): u.sequence
        case .trade(let u): u.sequence
        case .bestBidOffer(let u): u.sequence
        }
    }

    /// The per-shard sequence number of the engine event that caused the update.
    @inlinable public var eventSequence: UInt64 {
        switch self {
        case .level(let u): u.eventSequence
        case .trade(let u): u.eventSequence
        case .bestBidOffer(let u): u.eventSequence
        }
    }
}
