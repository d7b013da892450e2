import ChronosCore

extension MarketDataBook {
    /// Every broken invariant of the book, described; empty when the state is sound.
    ///
    /// Checks, for every symbol and side: levels strictly ordered best last with positive
    /// quantity and order count; every level's quantity and order count equal to the sums over
    /// the tracked orders at its price (and no tracked order without its level); the book not
    /// crossed; the last published best bid/offer equal to the current top. O(resting orders +
    /// levels), allocates: for tests and debugging.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        struct Key: Hashable {
            var symbol: UInt32
            var side: Side
            var price: Int64
        }
        var sums: [Key: (quantity: Int64, orders: Int64)] = [:]
        orders.forEach { order in
            let key = Key(symbol: order.symbol, side: order.side, price: order.price)
            let sum = sums[key] ?? (0, 0)
            sums[key] = (sum.quantity &+ order.leaves, sum.orders &+ 1)
        }
        for s in 0..<configuration.symbolCapacity {
            for side in Side.allCases {
                let k = PriceLadders.ladder(s, side)
                var previous: PriceLevel?
                var rank = 0
                while let level = ladders.level(k, rank: rank) {
                    if level.quantity <= 0 || level.orderCount <= 0 {
                        problems.append("symbol \(s) \(side) \(level.price): empty level \(level)")
                    }
                    if let previous, side == .buy ? level.price >= previous.price : level.price <= previous.price {
                        problems.append("symbol \(s) \(side): \(level.price) after \(previous.price)")
                    }
                    let key = Key(symbol: UInt32(s), side: side, price: level.price)
                    let sum = sums.removeValue(forKey: key) ?? (0, 0)
                    if sum.quantity != level.quantity || sum.orders != level.orderCount {
                        problems.append(
                            "symbol \(s) \(side) \(level.price): level \(level.quantity)/\(level.orderCount), "
                                + "orders \(sum.quantity)/\(sum.orders)")
                    }
                    previous = level
                    rank += 1
                }
            }
            let bid = ladders.best(PriceLadders.ladder(s, .buy))
            let offer = ladders.best(PriceLadders.ladder(s, .sell))
            if let bid, let offer, bid.price >= offer.price {
                problems.append("symbol \(s): crossed, bid \(bid.price) offer \(offer.price)")
            }
            if (bid ?? SymbolState.noLevel) != symbols[s].publishedBid
                || (offer ?? SymbolState.noLevel) != symbols[s].publishedOffer
            {
                problems.append("symbol \(s): published best bid/offer is not the top of the book")
            }
        }
        for (key, sum) in sums {
            problems.append("symbol \(key.symbol) \(key.side) \(key.price): \(sum.orders) orders and no level")
        }
        return problems
    }
}
