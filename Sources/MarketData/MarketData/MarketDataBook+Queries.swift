import ChronosCore

extension MarketDataBook {
    /// The highest bid level of `symbol`, O(1); nil when no order bids or the symbol is unknown.
    public func bestBid(_ symbol: SymbolID) -> LevelSummary? { touch(symbol, .buy) }

    /// The lowest offer level of `symbol`, O(1); nil when no order offers or the symbol is unknown.
    public func bestOffer(_ symbol: SymbolID) -> LevelSummary? { touch(symbol, .sell) }

    /// The best level of one side of `symbol`, O(1).
    public func touch(_ symbol: SymbolID, _ side: Side) -> LevelSummary? {
        guard let s = index(symbol) else { return nil }
        return ladders.best(PriceLadders.ladder(s, side))?.summary
    }

    /// The level at `price` on `side` of `symbol` (aggregate quantity and order count), or nil
    /// when no order rests there. O(log levels).
    public func level(_ symbol: SymbolID, _ side: Side, price: Price) -> LevelSummary? {
        guard let s = index(symbol) else { return nil }
        return ladders.level(PriceLadders.ladder(s, side), price: price)?.summary
    }

    /// Number of price levels on `side` of `symbol`.
    public func levelCount(_ symbol: SymbolID, _ side: Side) -> Int {
        guard let s = index(symbol) else { return 0 }
        return ladders.count(PriceLadders.ladder(s, side))
    }

    /// Calls `body` with each level of one side, best first, until it returns false. No allocation.
    public func forEachLevel(_ symbol: SymbolID, _ side: Side, _ body: (LevelSummary) -> Bool) {
        guard let s = index(symbol) else { return }
        let k = PriceLadders.ladder(s, side)
        var rank = 0
        while let level = ladders.level(k, rank: rank), body(level.summary) { rank += 1 }
    }

    /// The last market-data sequence number published for `symbol` (0 before its first update).
    public func sequence(_ symbol: SymbolID) -> UInt64 {
        guard let s = index(symbol) else { return 0 }
        return symbols[s].sequence
    }

    /// True once a fault (lost events, an unknown order, a contradiction, a full table) may have
    /// made this symbol's book differ from the engine's. It stays true: the book must be rebuilt.
    public func isImpaired(_ symbol: SymbolID) -> Bool {
        guard let s = index(symbol) else { return true }
        return symbols[s].impaired
    }

    /// Resting orders tracked, across symbols.
    public var restingOrderCount: Int { orders.count }

    /// A snapshot of `symbol`'s levels, best first, at most `depth` per side, stamped with the
    /// symbol's current market-data sequence number; nil for a symbol beyond the capacity.
    /// Allocates the arrays (on request, off the per-event path).
    public func snapshot(_ symbol: SymbolID, depth: Int = .max) -> MarketDataSnapshot? {
        guard let s = index(symbol) else { return nil }
        var bids: [LevelSummary] = []
        var offers: [LevelSummary] = []
        let limit = max(depth, 0)
        bids.reserveCapacity(min(limit, levelCount(symbol, .buy)))
        offers.reserveCapacity(min(limit, levelCount(symbol, .sell)))
        forEachLevel(symbol, .buy) { level in
            guard bids.count < limit else { return false }
            bids.append(level)
            return true
        }
        forEachLevel(symbol, .sell) { level in
            guard offers.count < limit else { return false }
            offers.append(level)
            return true
        }
        let isComplete = bids.count == levelCount(symbol, .buy) && offers.count == levelCount(symbol, .sell)
        return MarketDataSnapshot(
            symbol: symbol, sequence: symbols[s].sequence, eventSequence: lastEventSequence, bids: bids,
            offers: offers, isComplete: isComplete)
    }
}
