import ChronosCore

/// The price levels of one symbol's book at one market-data sequence number, best first.
///
/// A consumer that lost updates replaces its book with a snapshot, drops the updates numbered up
/// to ``sequence``, and applies the ones after it (``MarketDataReplica`` does exactly that).
public struct MarketDataSnapshot: Hashable, Sendable {
    /// The symbol.
    public var symbol: SymbolID
    /// The market-data sequence number of the symbol's last update the snapshot includes (0 when
    /// the symbol has had none): the next update to apply on top of it is `sequence + 1`.
    public var sequence: UInt64
    /// The per-shard sequence number of the last engine event the book had applied.
    public var eventSequence: UInt64
    /// Bid levels, highest price first.
    public var bids: [LevelSummary]
    /// Offer levels, lowest price first.
    public var offers: [LevelSummary]
    /// True when the snapshot holds every level of both sides; false when a depth limit cut it.
    public var isComplete: Bool

    /// Creates a snapshot.
    public init(
        symbol: SymbolID, sequence: UInt64, eventSequence: UInt64, bids: [LevelSummary], offers: [LevelSummary],
        isComplete: Bool = true
    ) {
        self.symbol = symbol
        self.sequence = sequence
        self.eventSequence = eventSequence
        self.bids = bids
        self.offers = offers
        self.isComplete = isComplete
    }

    /// The best bid, if any.
    public var bestBid: LevelSummary? { bids.first }

    /// The best offer, if any.
    public var bestOffer: LevelSummary? { offers.first }
}
