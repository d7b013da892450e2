import ChronosCore
import FencedCollections

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The spoofing model's input: names and order of the features, frozen per ``version``.
/// docs/risk-model.md describes each feature; a model is checked against ``count`` when loaded.
public enum SpoofingFeatureSchema {
    /// Bumped whenever a feature's meaning, scaling or position changes (a model trained on
    /// another version must not be loaded).
    public static let version = 1
    /// Number of features (the model's input width).
    public static let count = 20
    /// Feature names, snake_case, in input order.
    public static let names: [String] = [
        "size_vs_level_depth",  // 0
        "size_vs_symbol_average",  // 1
        "size_vs_account_average",  // 2
        "distance_from_touch_ticks",  // 3
        "share_of_near_depth",  // 4
        "imbalance_shift",  // 5
        "cancel_to_order_ratio",  // 6
        "log_order_to_trade_ratio",  // 7
        "cancel_lifetime_log10_us",  // 8
        "fast_cancel_fraction",  // 9
        "fill_ratio",  // 10
        "resting_imbalance",  // 11
        "layered_levels",  // 12
        "opposite_resting_exists",  // 13
        "size_vs_opposite_resting",  // 14
        "log_seconds_since_opposite_fill",  // 15
        "log_seconds_since_same_side_cancel",  // 16
        "episode_count",  // 17
        "log_message_rate",  // 18
        "spread_ticks",  // 19
    ]

    /// Ticks from the touch that count as "near" (near depth, imbalance).
    public static let nearTicks: Int64 = 5
    /// Ticks from the touch scanned for the account's layered levels.
    public static let layeringTicks: Int64 = 10
    /// Half-life-like time constants (e-folding, seconds) of the decayed counters.
    public static let activityTimeConstant = 30.0
    public static let messageRateTimeConstant = 10.0
    public static let episodeTimeConstant = 120.0
    /// A cancel this soon after an own opposite-side fill counts as an episode (ns).
    public static let episodeWindow: UInt64 = 2_000_000_000
    /// A cancel of an order younger than this is "fast" (ns).
    public static let fastCancel: UInt64 = 500_000_000
    /// Weight of the newest sample in the per-cancel and per-order moving averages.
    public static let averageWeight = 0.1
    /// Ticks scanned for the next best price when the best level empties.
    public static let touchScanTicks: Int64 = 256
}

/// Per-account × symbol spoofing features, kept up to date from the matching engine's events.
///
/// ``compute(_:now:into:)`` writes the ``SpoofingFeatureSchema`` vector of an order as it arrives
/// (no state change); ``apply(_:now:)`` follows every engine event. Both are O(1) (a bounded
/// number of hash lookups: at most ``SpoofingFeatureSchema/layeringTicks`` + 2 × ``SpoofingFeatureSchema/nearTicks``,
/// or ``SpoofingFeatureSchema/touchScanTicks`` when a best level empties) and never allocate:
/// every table is preallocated in `init`. The same code serves the risk engine (inline, sidecar,
/// replay) and `chronos simulate`, which makes the model's training rows.
///
/// The book is mirrored from events: an accepted GTC limit order adds its quantity at its price
/// (fills of it as taker take it away again, so once a command's events are applied the mirror
/// equals the engine's book), fills and cancels remove, replaces move. IOC, FOK and market orders
/// never rest. Prices outside `1..<2^40` ticks are not mirrored. An engine that only sees part of
/// the flow (e.g. one gateway of several) mirrors only that part.
///
/// Time is event time in nanoseconds (`ts` in replay, the wall clock in services). Counters decay
/// exponentially: `c ← c·e^(−Δt/τ) + x`. With no clock (time 0 throughout) nothing decays.
///
/// One thread owns it; not `Sendable`.
public final class SpoofingFeatures {
    private var symbols: FixedArray<SymbolFeatures>
    private var pairs: FixedSlab<PairFeatures>
    private var pairIndex: IDTable
    private var orders: FixedSlab<OrderFeatures>
    private var orderIndex: IDTable
    private var levels: FixedSlab<LevelDepth>
    private var levelIndex: IDTable
    private var accountLevels: FixedSlab<LevelDepth>
    private var accountLevelIndex: IDTable
    /// Events that could not be followed fully because a table was full.
    public private(set) var untrackedEvents = 0

    /// Feature state with every table preallocated: `symbolCapacity` symbols (ids below it),
    /// `accountCapacity` (account, symbol) pairs, `orderCapacity` working orders, `levelCapacity`
    /// price levels (book levels, and separately the accounts' own levels).
    public init(
        symbolCapacity: Int = 1024, accountCapacity: Int = 65_536, orderCapacity: Int = 1 << 20,
        levelCapacity: Int = 1 << 18
    ) {
        precondition(symbolCapacity <= 1 << 22 && accountCapacity <= 1 << 22, "SpoofingFeatures capacity out of range")
        // Written once here (prefaulted): the checks never take a page fault.
        let memory = PoolMemory(prefault: true)
        symbols = FixedArray(capacity: symbolCapacity, blank: SymbolFeatures(), memory: memory)
        pairs = FixedSlab(capacity: accountCapacity, memory: memory)
        pairIndex = IDTable(maxEntries: accountCapacity, memory: memory)
        orders = FixedSlab(capacity: orderCapacity, memory: memory)
        orderIndex = IDTable(maxEntries: orderCapacity, memory: memory)
        levels = FixedSlab(capacity: levelCapacity, memory: memory)
        levelIndex = IDTable(maxEntries: levelCapacity, memory: memory)
        accountLevels = FixedSlab(capacity: levelCapacity, memory: memory)
        accountLevelIndex = IDTable(maxEntries: levelCapacity, memory: memory)
    }

    deinit {
        symbols.deallocate()
        pairs.deallocate()
        pairIndex.deallocate()
        orders.deallocate()
        orderIndex.deallocate()
        levels.deallocate()
        levelIndex.deallocate()
        accountLevels.deallocate()
        accountLevelIndex.deallocate()
    }

    /// Sets the symbol's tick size in price units (default 1): distances are counted in ticks.
    public func setTickSize(_ tickSize: Int64, for symbol: SymbolID) {
        guard Int(symbol.rawValue) < Int(symbols.capacity), tickSize > 0 else { return }
        symbols[Int32(symbol.rawValue)].tickSize = tickSize
    }

    /// The mirrored best bid and ask of `symbol` (nil: none), for tests and tools.
    public func touch(_ symbol: SymbolID) -> (bid: Price?, ask: Price?) {
        guard Int(symbol.rawValue) < Int(symbols.capacity) else { return (nil, nil) }
        let s = symbols[Int32(symbol.rawValue)]
        return (s.bestBid > 0 ? s.bestBid : nil, s.bestAsk > 0 ? s.bestAsk : nil)
    }

    /// The mirrored displayed quantity at `price` on `side` of `symbol`.
    public func depth(_ symbol: SymbolID, _ side: Side, at price: Price) -> Quantity {
        levelQuantity(symbol.rawValue, side, price)
    }

    /// Working orders followed now.
    public var workingOrderCount: Int { orderIndex.count }

    // MARK: Features

    /// Writes the features of `order` as it arrives at `now` (ns) into `features`
    /// (``SpoofingFeatureSchema/count`` floats, all finite). No state changes.
    public func compute(_ order: NewOrder, now: UInt64, into features: UnsafeMutableBufferPointer<Float>) {
        write(
            symbol: order.symbol.rawValue, account: order.account, side: order.side, isMarket: order.type == .market,
            price: order.price, quantity: order.quantity, now: now, own: nil, into: features)
    }

    /// Writes the features of a replace of a working order (its new price and/or quantity, the
    /// order's own resting quantity left out of the book it is compared with). Returns false and
    /// writes nothing when the order is not followed (unknown, or another account's or symbol's).
    public func computeReplace(
        _ replace: ReplaceOrder, now: UInt64, into features: UnsafeMutableBufferPointer<Float>
    ) -> Bool {
        guard let o = orderIndex.handle(for: replace.id.rawValue) else { return false }
        let order = orders[o]
        let pair = pairs[order.pair]
        guard pair.account == replace.account.rawValue, pair.symbol == replace.symbol.rawValue else { return false }
        write(
            symbol: pair.symbol, account: replace.account, side: order.side, isMarket: false,
            price: replace.price ?? order.price, quantity: replace.quantity ?? order.leaves, now: now,
            own: order.rests ? (order.price, order.leaves) : nil, into: features)
        return true
    }

    private func write(
        symbol: UInt32, account: AccountID, side: Side, isMarket: Bool, price: Price, quantity: Quantity,
        now: UInt64, own: (price: Price, quantity: Quantity)?, into f: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(f.count >= SpoofingFeatureSchema.count, "feature buffer too small")
        for i in 0..<SpoofingFeatureSchema.count { f[i] = 0 }
        guard Int(symbol) < Int(symbols.capacity), quantity > 0 else { return }
        let s = symbols[Int32(symbol)]
        let tick = s.tickSize
        let qty = Double(quantity)
        let isBuy = side == .buy
        let sameTouch = isBuy ? s.bestBid : s.bestAsk
        let oppositeTouch = isBuy ? s.bestAsk : s.bestBid
        // 0: size vs displayed depth at its price.
        var levelDepth = isMarket ? 0 : levelQuantity(symbol, side, price)
        if let own, own.price == price { levelDepth -= own.quantity }  // a replace: its own quantity left out
        levelDepth = max(0, levelDepth)
        f[0] = Float(min(16, log1p(qty / Double(max(1, levelDepth)))))
        // 1, 2: size vs the symbol's and the account's usual order size.
        f[1] = Float(s.averageSize > 0 ? min(100, qty / s.averageSize) : 1)
        let p = pairIndex.handle(for: Self.pairKey(account, symbol))
        let pair = p.map { pairs[$0] } ?? PairFeatures()
        f[2] = Float(pair.averageSize > 0 ? min(100, qty / pair.averageSize) : 1)
        // 3: distance from the same-side touch in ticks (positive: behind it; negative: improving).
        var distance: Int64 = 0
        if isMarket {
            distance = -20
        } else if sameTouch > 0 {
            distance = (isBuy ? sameTouch - price : price - sameTouch) / tick
        } else if oppositeTouch > 0 {
            distance = -((isBuy ? oppositeTouch - price : price - oppositeTouch) / tick)
        }
        f[3] = Float(min(20, max(-20, distance)))
        // 4, 5: share of near depth, and the imbalance shift the order causes if it rests near the touch.
        let nearBid = nearDepth(symbol, .buy, from: s.bestBid, tick: tick, own: isBuy ? own : nil)
        let nearAsk = nearDepth(symbol, .sell, from: s.bestAsk, tick: tick, own: isBuy ? nil : own)
        let nearSame = isBuy ? nearBid : nearAsk
        f[4] = Float(qty / (qty + nearSame))
        let crosses = oppositeTouch > 0 && (isBuy ? price >= oppositeTouch : price <= oppositeTouch)
        if !isMarket && !crosses && (sameTouch == 0 || distance < SpoofingFeatureSchema.nearTicks) {
            let before = Self.imbalance(nearBid, nearAsk)
            let after = isBuy ? Self.imbalance(nearBid + qty, nearAsk) : Self.imbalance(nearBid, nearAsk + qty)
            f[5] = Float((after - before) * (isBuy ? 1 : -1))
        }
        // 6–10, 17, 18: the account's decayed history on this symbol.
        let dt = now > pair.updatedAt ? Double(now - pair.updatedAt) / 1e9 : 0
        let activity = exp(-dt / SpoofingFeatureSchema.activityTimeConstant)
        let orderCount = pair.orders * activity
        let cancels = pair.cancels * activity
        let trades = pair.trades * activity
        f[6] = Float(orderCount > 1e-12 ? min(10, cancels / orderCount) : 0)
        f[7] = Float(log1p(orderCount / (trades + 1)))
        f[8] = Float(pair.hasCancels ? pair.cancelLifetimeLog : 7)
        f[9] = Float(pair.fastCancelFraction)
        f[10] = Float(pair.submittedQuantity > 0 ? min(1, pair.filledQuantity / pair.submittedQuantity) : 0)
        f[17] = Float(pair.episodes * exp(-dt / SpoofingFeatureSchema.episodeTimeConstant))
        let messages = pair.messages * exp(-dt / SpoofingFeatureSchema.messageRateTimeConstant)
        f[18] = Float(log1p(messages / SpoofingFeatureSchema.messageRateTimeConstant))
        // 11, 13, 14: the account's resting quantity on each side.
        var sameResting = Double(isBuy ? pair.restingBuy : pair.restingSell)
        if let own { sameResting -= Double(own.quantity) }
        sameResting = max(0, sameResting)
        let oppositeResting = Double(isBuy ? pair.restingSell : pair.restingBuy)
        let resting = sameResting + oppositeResting
        f[11] = Float(resting > 0 ? (sameResting - oppositeResting) / resting : 0)
        f[13] = oppositeResting > 0 ? 1 : 0
        f[14] = Float(oppositeResting > 0 ? min(16, log1p(qty / oppositeResting)) : 0)
        // 12: levels the account rests on, on this side, within layeringTicks of the touch.
        if let p, sameTouch > 0 {
            var layered = 0
            var k: Int64 = 0  // (while, not for-in over an Int64 range: that allocates in debug builds)
            while k < SpoofingFeatureSchema.layeringTicks {
                let level = isBuy ? sameTouch - k * tick : sameTouch + k * tick
                var q = accountLevelQuantity(p, side, level)
                if let own, level == own.price { q -= own.quantity }
                if q > 0 { layered += 1 }
                k += 1
            }
            f[12] = Float(layered)
        }
        // 15, 16: time since the last own opposite-side fill and same-side cancel.
        f[15] = Float(Self.logSecondsSince(isBuy ? pair.lastSellFill : pair.lastBuyFill, now))
        f[16] = Float(Self.logSecondsSince(isBuy ? pair.lastBuyCancel : pair.lastSellCancel, now))
        // 19: spread.
        f[19] = s.bestBid > 0 && s.bestAsk > 0 ? Float(min(50, max(0, (s.bestAsk - s.bestBid) / tick))) : 50
        for i in 0..<SpoofingFeatureSchema.count where !f[i].isFinite { f[i] = 0 }
    }

    private func nearDepth(
        _ symbol: UInt32, _ side: Side, from touch: Price, tick: Int64, own: (price: Price, quantity: Quantity)?
    ) -> Double {
        guard touch > 0 else { return 0 }
        var total: Int64 = 0
        var k: Int64 = 0
        while k < SpoofingFeatureSchema.nearTicks {
            let level = side == .buy ? touch - k * tick : touch + k * tick
            guard level > 0 else { break }
            total += levelQuantity(symbol, side, level)
            if let own, own.price == level { total -= own.quantity }
            k += 1
        }
        return Double(max(0, total))
    }

    private static func imbalance(_ bid: Double, _ ask: Double) -> Double {
        bid + ask > 0 ? (bid - ask) / (bid + ask) : 0
    }

    private static let never = UInt64.max
    private static let maxLogSeconds = log1p(3600.0)

    private static func logSecondsSince(_ time: UInt64, _ now: UInt64) -> Double {
        guard time != never else { return maxLogSeconds }
        let seconds = now > time ? Double(now - time) / 1e9 : 0
        return min(maxLogSeconds, log1p(seconds))
    }

    // MARK: Following the engine

    /// Follows one engine event; `now` is the time of the command that caused it. Call for every
    /// event, in order.
    public func apply(_ event: EngineEvent, now: UInt64) {
        switch event {
        case .accepted(let e): accepted(e, now: now)
        case .rejected(let e):
            guard let p = pair(e.account, e.symbol.rawValue, now: now) else { return untracked() }
            pairs[p].messages += 1
        case .fill(let e): fill(e, now: now)
        case .canceled(let e): canceled(e, now: now)
        case .replaced(let e): replaced(e, now: now)
        }
    }

    private func accepted(_ e: OrderAccepted, now: UInt64) {
        guard Int(e.symbol.rawValue) < Int(symbols.capacity), let p = pair(e.account, e.symbol.rawValue, now: now)
        else {
            return untracked()
        }
        let qty = Double(e.quantity)
        let w = SpoofingFeatureSchema.averageWeight
        pairs[p].messages += 1
        pairs[p].orders += 1
        pairs[p].submittedQuantity += qty
        pairs[p].averageSize = pairs[p].averageSize > 0 ? pairs[p].averageSize + w * (qty - pairs[p].averageSize) : qty
        let sym = Int32(e.symbol.rawValue)
        symbols[sym].averageSize =
            symbols[sym].averageSize > 0 ? symbols[sym].averageSize + w * (qty - symbols[sym].averageSize) : qty
        guard orderIndex.handle(for: e.id.rawValue) == nil, let o = orders.take() else { return untracked() }
        let rests = e.type == .limit && e.timeInForce == .goodTillCancel && Self.isMirrored(e.price)
        orders[o] = OrderFeatures(pair: p, side: e.side, rests: rests, price: e.price, leaves: e.quantity, since: now)
        guard orderIndex.insertIfRoom(e.id.rawValue, handle: o) else {
            orders.release(o)
            return untracked()
        }
        if rests { addResting(o, e.quantity) }
    }

    private func fill(_ e: Fill, now: UInt64) {
        let makerSide: Side = e.takerSide == .buy ? .sell : .buy
        fill(e.takerID, e.takerAccount, e.takerSide, e, now: now)
        fill(e.makerID, e.makerAccount, makerSide, e, now: now)
    }

    /// One side of a fill: the account's trade counters, then the order's open quantity.
    private func fill(_ id: OrderID, _ account: AccountID, _ side: Side, _ e: Fill, now: UInt64) {
        if let p = pair(account, e.symbol.rawValue, now: now) {
            pairs[p].trades += 1
            pairs[p].filledQuantity += Double(e.quantity)
            if side == .buy { pairs[p].lastBuyFill = now } else { pairs[p].lastSellFill = now }
        }
        guard let o = orderIndex.handle(for: id.rawValue) else { return untracked() }
        if orders[o].rests { removeResting(o, min(e.quantity, orders[o].leaves)) }
        orders[o].leaves -= e.quantity
        if orders[o].leaves <= 0 { removeOrder(id, o) }
    }

    private func canceled(_ e: OrderCanceled, now: UInt64) {
        guard let o = orderIndex.handle(for: e.id.rawValue) else { return untracked() }
        let order = orders[o]
        if order.rests { removeResting(o, order.leaves) }
        removeOrder(e.id, o)
        guard e.reason == .requested else { return }
        let p = order.pair
        decay(p, now: now)
        let w = SpoofingFeatureSchema.averageWeight
        let lifetime = now > order.since ? now - order.since : 0
        let lifetimeLog = log10(1 + Double(lifetime) / 1_000)
        pairs[p].messages += 1
        pairs[p].cancels += 1
        pairs[p].cancelLifetimeLog =
            pairs[p].hasCancels
            ? pairs[p].cancelLifetimeLog + w * (lifetimeLog - pairs[p].cancelLifetimeLog) : lifetimeLog
        let fast: Double = lifetime < SpoofingFeatureSchema.fastCancel ? 1 : 0
        pairs[p].fastCancelFraction += w * (fast - pairs[p].fastCancelFraction)
        pairs[p].hasCancels = true
        let oppositeFill = order.side == .buy ? pairs[p].lastSellFill : pairs[p].lastBuyFill
        if oppositeFill != Self.never && now >= oppositeFill
            && now - oppositeFill <= SpoofingFeatureSchema.episodeWindow
        {
            pairs[p].episodes += 1
        }
        if order.side == .buy { pairs[p].lastBuyCancel = now } else { pairs[p].lastSellCancel = now }
    }

    private func replaced(_ e: OrderReplaced, now: UInt64) {
        guard let o = orderIndex.handle(for: e.id.rawValue) else { return untracked() }
        let p = orders[o].pair
        decay(p, now: now)
        pairs[p].messages += 1
        if orders[o].rests { removeResting(o, orders[o].leaves) }
        orders[o].price = e.price
        orders[o].leaves = e.quantity
        orders[o].rests = Self.isMirrored(e.price)
        if orders[o].rests { addResting(o, e.quantity) }
        if e.quantity <= 0 { removeOrder(e.id, o) }
    }

    // MARK: Tables

    private static func pairKey(_ account: AccountID, _ symbol: UInt32) -> UInt64 {
        UInt64(account.rawValue) << 32 | UInt64(symbol)
    }

    private static let priceBits: UInt64 = 40
    private static func isMirrored(_ price: Price) -> Bool { price > 0 && price < 1 << 40 }

    private static func levelKey(_ owner: UInt64, _ side: Side, _ price: Price) -> UInt64 {
        // owner (symbol or pair slot) in the top 23 bits, side, then 40 bits of price.
        owner << (priceBits + 1) | (side == .buy ? 0 : 1 << priceBits) | UInt64(price)
    }

    private func levelQuantity(_ symbol: UInt32, _ side: Side, _ price: Price) -> Quantity {
        guard Self.isMirrored(price), let l = levelIndex.handle(for: Self.levelKey(UInt64(symbol), side, price)) else {
            return 0
        }
        return levels[l].quantity
    }

    private func accountLevelQuantity(_ pair: Int32, _ side: Side, _ price: Price) -> Quantity {
        guard Self.isMirrored(price), let l = accountLevelIndex.handle(for: Self.levelKey(UInt64(pair), side, price))
        else {
            return 0
        }
        return accountLevels[l].quantity
    }

    /// The (account, symbol) slot, created on first use and decayed to `now`; nil when full.
    private func pair(_ account: AccountID, _ symbol: UInt32, now: UInt64) -> Int32? {
        let key = Self.pairKey(account, symbol)
        if let p = pairIndex.handle(for: key) {
            decay(p, now: now)
            return p
        }
        guard let p = pairs.take() else { return nil }
        guard pairIndex.insertIfRoom(key, handle: p) else {
            pairs.release(p)
            return nil
        }
        pairs[p] = PairFeatures(account: account.rawValue, symbol: symbol, updatedAt: now)
        return p
    }

    private func decay(_ p: Int32, now: UInt64) {
        let updatedAt = pairs[p].updatedAt
        guard now > updatedAt else { return }
        let dt = Double(now - updatedAt) / 1e9
        let activity = exp(-dt / SpoofingFeatureSchema.activityTimeConstant)
        pairs[p].orders *= activity
        pairs[p].cancels *= activity
        pairs[p].trades *= activity
        pairs[p].submittedQuantity *= activity
        pairs[p].filledQuantity *= activity
        pairs[p].messages *= exp(-dt / SpoofingFeatureSchema.messageRateTimeConstant)
        pairs[p].episodes *= exp(-dt / SpoofingFeatureSchema.episodeTimeConstant)
        pairs[p].updatedAt = now
    }

    private func addResting(_ o: Int32, _ quantity: Quantity) {
        let order = orders[o]
        let p = order.pair
        let symbol = pairs[p].symbol
        if order.side == .buy { pairs[p].restingBuy += quantity } else { pairs[p].restingSell += quantity }
        if !adjust(&levels, &levelIndex, Self.levelKey(UInt64(symbol), order.side, order.price), by: quantity) {
            untrackedEvents += 1
        }
        if !adjust(&accountLevels, &accountLevelIndex, Self.levelKey(UInt64(p), order.side, order.price), by: quantity)
        {
            untrackedEvents += 1
        }
        let sym = Int32(symbol)
        if order.side == .buy {
            if symbols[sym].bestBid == 0 || order.price > symbols[sym].bestBid { symbols[sym].bestBid = order.price }
        } else {
            if symbols[sym].bestAsk == 0 || order.price < symbols[sym].bestAsk { symbols[sym].bestAsk = order.price }
        }
    }

    private func removeResting(_ o: Int32, _ quantity: Quantity) {
        guard quantity > 0 else { return }
        let order = orders[o]
        let p = order.pair
        let symbol = pairs[p].symbol
        if order.side == .buy { pairs[p].restingBuy -= quantity } else { pairs[p].restingSell -= quantity }
        _ = adjust(&accountLevels, &accountLevelIndex, Self.levelKey(UInt64(p), order.side, order.price), by: -quantity)
        _ = adjust(&levels, &levelIndex, Self.levelKey(UInt64(symbol), order.side, order.price), by: -quantity)
        let sym = Int32(symbol)
        let tick = symbols[sym].tickSize
        guard levelQuantity(symbol, order.side, order.price) == 0 else { return }
        // The best level emptied: look for the next one within touchScanTicks (else: no touch).
        let isBuy = order.side == .buy
        guard order.price == (isBuy ? symbols[sym].bestBid : symbols[sym].bestAsk) else { return }
        let step = isBuy ? -tick : tick
        var next: Price = 0
        var price = order.price &+ step
        var scanned: Int64 = 0
        while scanned < SpoofingFeatureSchema.touchScanTicks && Self.isMirrored(price) {
            if levelQuantity(symbol, order.side, price) > 0 {
                next = price
                break
            }
            price &+= step
            scanned += 1
        }
        if isBuy { symbols[sym].bestBid = next } else { symbols[sym].bestAsk = next }
    }

    /// Adds `delta` to the level under `key`, creating it, and dropping it when it reaches zero.
    /// Returns false when a new level finds the table full.
    private func adjust(
        _ pool: inout FixedSlab<LevelDepth>, _ index: inout IDTable, _ key: UInt64, by delta: Int64
    )
        -> Bool
    {
        if let l = index.handle(for: key) {
            pool[l].quantity += delta
            if pool[l].quantity <= 0 {
                index.removeIfPresent(key)
                pool.release(l)
            }
            return true
        }
        guard delta > 0, let l = pool.take() else { return delta <= 0 }
        guard index.insertIfRoom(key, handle: l) else {
            pool.release(l)
            return false
        }
        pool[l].quantity = delta
        return true
    }

    private func removeOrder(_ id: OrderID, _ o: Int32) {
        orderIndex.removeIfPresent(id.rawValue)
        orders.release(o)
    }

    private func untracked() { untrackedEvents += 1 }
}

// MARK: State records (trivial structs in the preallocated pools)

private struct SymbolFeatures {
    var tickSize: Int64 = 1
    var bestBid: Price = 0
    var bestAsk: Price = 0
    /// Moving average of accepted order sizes (lots); 0 before the first.
    var averageSize: Double = 0
}

private struct PairFeatures {
    var account: UInt32 = 0
    var symbol: UInt32 = 0
    var updatedAt: UInt64 = 0
    // Decayed counters (activity time constant unless noted).
    var orders: Double = 0
    var cancels: Double = 0
    var trades: Double = 0
    var submittedQuantity: Double = 0
    var filledQuantity: Double = 0
    /// Message-rate time constant.
    var messages: Double = 0
    /// Episode time constant.
    var episodes: Double = 0
    // Moving averages.
    var averageSize: Double = 0
    var cancelLifetimeLog: Double = 0
    var fastCancelFraction: Double = 0
    var hasCancels = false
    var restingBuy: Quantity = 0
    var restingSell: Quantity = 0
    var lastBuyFill = UInt64.max
    var lastSellFill = UInt64.max
    var lastBuyCancel = UInt64.max
    var lastSellCancel = UInt64.max

    init() {}

    init(account: UInt32, symbol: UInt32, updatedAt: UInt64) {
        self.account = account
        self.symbol = symbol
        self.updatedAt = updatedAt
    }
}

private struct OrderFeatures {
    var pair: Int32 = 0
    var side: Side = .buy
    /// Mirrored in the book (a GTC limit order at a mirrored price).
    var rests = false
    var price: Price = 0
    var leaves: Quantity = 0
    /// When it was accepted (ns).
    var since: UInt64 = 0
}

private struct LevelDepth {
    var quantity: Quantity = 0
}
