import ChronosCore
import FencedCollections

/// One resting order in the order slab (48 bytes).

struct OrderSlot: BitwiseCopyable {
    var id: UInt64
    var price: Int64
    /// Open quantity in lots, > 0 while resting.
    var leaves: Int64
    var account: UInt32
    var book: UInt32
    /// Older neighbour in the level's FIFO (toward the head), or -1.
    var prev: Int32
    /// Newer neighbour in the level's FIFO (toward the tail), or -1.
    var next: Int32
    /// The level the order rests on.
    var level: Int32
    var side: Side
    var postOnly: Bool
    /// The order's ``NewOrder/origin`` tag (fits the slot's padding: the slot stays 48 bytes).
    var origin: UInt16
}

/// One price level: an intrusive FIFO of orders and links to its neighbouring levels.

struct LevelSlot: BitwiseCopyable {
    var price: Int64
    /// Sum of the leaves of the orders at this level.
    var total: Int64
    var orderCount: Int32
    /// Oldest order (first to trade).
    var head: Int32
    /// Newest order.
    var tail: Int32
    /// Neighbour closer to the touch, or -1 for the best level.
    var better: Int32
    /// Neighbour further from the touch, or -1 for the worst level.
    var worse: Int32
    /// Price tree links (EngineCore+PriceTree.swift): the subtrees of lower and higher prices and
    /// the parent, or -1.
    var lower: Int32 = -1
    var higher: Int32 = -1
    var parent: Int32 = -1
}

/// Per-symbol book state: the ends of both sides' level lists and the symbol's limits.

struct BookState {
    var bestLevel: (bid: Int32, ask: Int32) = (-1, -1)
    var worstLevel: (bid: Int32, ask: Int32) = (-1, -1)
    var levelCount: (bid: Int32, ask: Int32) = (0, 0)
    /// The root of each side's price tree, or -1.
    var treeRoot: (bid: Int32, ask: Int32) = (-1, -1)
    var restingOrders: Int32 = 0
    var tickSize: Int64
    var lotSize: Int64
    var minQuantity: Int64
    var maxQuantity: Int64
    var minPrice: Int64
    var maxPrice: Int64

    init(_ config: SymbolConfiguration, quantityCeiling: Int64) {
        tickSize = config.tickSize
        lotSize = config.lotSize
        minQuantity = config.minQuantity
        maxQuantity = min(config.maxQuantity, quantityCeiling)
        minPrice = config.minPrice
        maxPrice = config.maxPrice
    }

    func best(_ side: Side) -> Int32 { side == .buy ? bestLevel.bid : bestLevel.ask }
    func worst(_ side: Side) -> Int32 { side == .buy ? worstLevel.bid : worstLevel.ask }
    func root(_ side: Side) -> Int32 { side == .buy ? treeRoot.bid : treeRoot.ask }
    mutating func setRoot(_ side: Side, _ level: Int32) {
        if side == .buy { treeRoot.bid = level } else { treeRoot.ask = level }
    }
    mutating func setBest(_ side: Side, _ level: Int32) {
        if side == .buy { bestLevel.bid = level } else { bestLevel.ask = level }
    }
    mutating func setWorst(_ side: Side, _ level: Int32) {
        if side == .buy { worstLevel.bid = level } else { worstLevel.ask = level }
    }
    mutating func addLevelCount(_ side: Side, _ delta: Int32) {
        if side == .buy { levelCount.bid &+= delta } else { levelCount.ask &+= delta }
    }
    // The same rules as SymbolConfiguration.isValidPrice/isValidQuantity, on this hot copy of the
    // terms (quantity also capped by the pool's ceiling).
    func isValidPrice(_ price: Int64) -> Bool {
        price > 0 && price >= minPrice && price <= maxPrice && price % tickSize == 0
    }
    func isValidQuantity(_ quantity: Int64) -> Bool {
        quantity > 0 && quantity >= minQuantity && quantity <= maxQuantity && quantity % lotSize == 0
    }
}

/// True when `a` is a better price than `b` for resting orders of `side`.
@inline(__always)
func isBetter(_ a: Int64, than b: Int64, on side: Side) -> Bool { side == .buy ? a > b : a < b }

/// The engine's whole mutable state and its logic: all pools preallocated, no I/O, no clock.
///
/// Kept behind a pointer by ``Engine`` so that hot-path mutations need no dynamic exclusivity
/// checks. Every command appends its events to `events`, cleared at the start of the next.

struct EngineCore {
    var orders: FixedSlab<OrderSlot>
    var levels: FixedSlab<LevelSlot>
    var index: IDTable
    var usedIDs: UsedOrderIDs
    let books: UnsafeMutablePointer<BookState>
    var bookCount: Int = 0
    let bookCapacity: Int
    let events: UnsafeMutablePointer<EngineEvent>
    var eventCount: Int = 0
    let eventCapacity: Int
    var nextSequence: UInt64 = 1
    var nextTradeID: UInt64 = 1
    let quantityCeiling: Int64

    init(_ configuration: EngineConfiguration) {
        let memory = PoolMemory(prefault: configuration.prefault, hugePages: configuration.hugePages)
        orders = FixedSlab(capacity: configuration.orderCapacity, memory: memory)
        // A level always holds at least one order, so levels can never run out first.
        levels = FixedSlab(capacity: configuration.orderCapacity, memory: memory)
        index = IDTable(maxEntries: configuration.orderCapacity, memory: memory)
        usedIDs = UsedOrderIDs(minimumBlocks: configuration.usedIDBlockCapacity, memory: memory)
        bookCapacity = configuration.symbolCapacity
        books = memory.allocate(BookState.self, count: configuration.symbolCapacity)
        // One command emits at most: accepted/replaced + one fill per resting order + canceled.
        eventCapacity = configuration.orderCapacity + 4
        events = memory.allocate(EngineEvent.self, count: eventCapacity)
        quantityCeiling = configuration.quantityCeiling
    }

    func deallocate() {
        orders.deallocate()
        levels.deallocate()
        index.deallocate()
        usedIDs.deallocate()
        PoolMemory.deallocate(books, count: bookCapacity)
        PoolMemory.deallocate(events, count: eventCapacity)
    }

    // MARK: Events

    @inline(__always)
    mutating func takeSequence() -> UInt64 {
        let s = nextSequence
        nextSequence &+= 1
        return s
    }

    @inline(__always)
    mutating func emit(_ event: EngineEvent) {
        assert(eventCount < eventCapacity, "event buffer bound violated")
        (events + eventCount).initialize(to: event)
        eventCount &+= 1
    }

    mutating func reject(
        _ id: OrderID, _ account: AccountID, _ symbol: SymbolID, _ kind: CommandKind,
        _ reason: RejectReason
    ) {
        emit(
            .rejected(
                OrderRejected(
                    sequence: takeSequence(), id: id, account: account, symbol: symbol,
                    command: kind, reason: reason)))
    }

    // MARK: Commands

    mutating func process(_ command: EngineCommand) {
        eventCount = 0
        switch command {
        case .new(let order): processNew(order)
        case .cancel(let cancel): processCancel(cancel)
        case .replace(let replace): processReplace(replace)
        }
    }

    mutating func processNew(_ order: NewOrder) {
        let b = Int(order.symbol.rawValue)
        let isLimit = order.type == .limit
        if !isLimit && order.postOnly {
            return reject(order.id, order.account, order.symbol, .new, .malformed)
        }
        guard b < bookCount else {
            return reject(order.id, order.account, order.symbol, .new, .unknownSymbol)
        }
        if usedIDs.contains(order.id.rawValue) {
            return reject(order.id, order.account, order.symbol, .new, .duplicateID)
        }
        if isLimit && !books[b].isValidPrice(order.price) {
            return reject(order.id, order.account, order.symbol, .new, .invalidPrice)
        }
        if !books[b].isValidQuantity(order.quantity) {
            return reject(order.id, order.account, order.symbol, .new, .invalidQuantity)
        }
        let tif: TimeInForce = isLimit ? order.timeInForce : .immediateOrCancel
        // Market orders cross every level: the limit is the far end of the price range.
        let limit: Int64 = isLimit ? order.price : (order.side == .buy ? .max : .min)
        if order.postOnly && wouldCross(b, order.side, limit) {
            return reject(order.id, order.account, order.symbol, .new, .postOnlyWouldCross)
        }
        if tif == .fillOrKill
            && !canFillCompletely(b, order.side, limit, order.quantity, order.account.rawValue)
        {
            return reject(order.id, order.account, order.symbol, .new, .fillOrKillUnfillable)
        }
        if (tif == .goodTillCancel && orders.isFull) || !usedIDs.canInsert(order.id.rawValue) {
            return reject(order.id, order.account, order.symbol, .new, .capacityExhausted)
        }

        usedIDs.insert(order.id.rawValue)
        emit(
            .accepted(
                OrderAccepted(
                    sequence: takeSequence(), id: order.id, account: order.account,
                    symbol: order.symbol, side: order.side, type: order.type,
                    timeInForce: tif, postOnly: order.postOnly,
                    price: isLimit ? order.price : 0, quantity: order.quantity)))
        let (remaining, selfTrade) = match(
            b, order.side, limit, order.quantity, order.id.rawValue,
            order.account.rawValue)
        guard remaining > 0 else { return }
        if selfTrade || tif != .goodTillCancel {
            let reason: CancelReason =
                selfTrade
                ? .selfTradePrevention
                : (isLimit ? .immediateOrCancelRemainder : .marketRemainder)
            emit(
                .canceled(
                    OrderCanceled(
                        sequence: takeSequence(), id: order.id, account: order.account,
                        symbol: order.symbol, side: order.side, quantity: remaining,
                        reason: reason)))
            return
        }
        let h = orders.allocate()
        assert(h >= 0, "capacity was checked before matching")
        orders[h] = OrderSlot(
            id: order.id.rawValue, price: order.price, leaves: remaining,
            account: order.account.rawValue, book: UInt32(b), prev: -1, next: -1, level: -1,
            side: order.side, postOnly: order.postOnly, origin: order.origin)
        rest(h, b)
        index.insert(order.id.rawValue, handle: h)
    }

    mutating func processCancel(_ cancel: CancelOrder) {
        let b = Int(cancel.symbol.rawValue)
        guard b < bookCount else {
            return reject(cancel.id, cancel.account, cancel.symbol, .cancel, .unknownSymbol)
        }
        let h = index.find(cancel.id.rawValue)
        guard h >= 0, orders[h].book == UInt32(b) else {
            return reject(cancel.id, cancel.account, cancel.symbol, .cancel, .unknownOrder)
        }
        guard orders[h].account == cancel.account.rawValue else {
            return reject(cancel.id, cancel.account, cancel.symbol, .cancel, .notOwner)
        }
        let leaves = orders[h].leaves
        let side = orders[h].side
        unlink(h)
        index.remove(cancel.id.rawValue)
        orders.release(h)
        emit(
            .canceled(
                OrderCanceled(
                    sequence: takeSequence(), id: cancel.id, account: cancel.account,
                    symbol: cancel.symbol, side: side, quantity: leaves, reason: .requested)))
    }

    mutating func processReplace(_ replace: ReplaceOrder) {
        let b = Int(replace.symbol.rawValue)
        if replace.price == nil && replace.quantity == nil {
            return reject(replace.id, replace.account, replace.symbol, .replace, .malformed)
        }
        guard b < bookCount else {
            return reject(replace.id, replace.account, replace.symbol, .replace, .unknownSymbol)
        }
        let h = index.find(replace.id.rawValue)
        guard h >= 0, orders[h].book == UInt32(b) else {
            return reject(replace.id, replace.account, replace.symbol, .replace, .unknownOrder)
        }
        let current = orders[h]
        guard current.account == replace.account.rawValue else {
            return reject(replace.id, replace.account, replace.symbol, .replace, .notOwner)
        }
        let newPrice = replace.price ?? current.price
        if replace.price != nil && !books[b].isValidPrice(newPrice) {
            return reject(replace.id, replace.account, replace.symbol, .replace, .invalidPrice)
        }
        let newQuantity = replace.quantity ?? current.leaves
        if replace.quantity != nil && !books[b].isValidQuantity(newQuantity) {
            return reject(replace.id, replace.account, replace.symbol, .replace, .invalidQuantity)
        }
        if current.postOnly && wouldCross(b, current.side, newPrice) {
            return reject(replace.id, replace.account, replace.symbol, .replace, .postOnlyWouldCross)
        }

        let side = current.side
        if newPrice == current.price {
            let level = current.level
            let keptPriority = newQuantity <= current.leaves
            levels[level].total = levels[level].total &- current.leaves &+ newQuantity
            orders[h].leaves = newQuantity
            if !keptPriority && levels[level].tail != h {
                removeFromLevelFIFO(h, level)
                appendToLevelFIFO(h, level)
            }
            emit(
                .replaced(
                    OrderReplaced(
                        sequence: takeSequence(), id: replace.id, account: replace.account,
                        symbol: replace.symbol, side: side, price: newPrice,
                        quantity: newQuantity, keptPriority: keptPriority)))
            return
        }

        // A price change: leave the current level, then behave like a new order with the same id.
        unlink(h)
        emit(
            .replaced(
                OrderReplaced(
                    sequence: takeSequence(), id: replace.id, account: replace.account,
                    symbol: replace.symbol, side: side, price: newPrice,
                    quantity: newQuantity, keptPriority: false)))
        let (remaining, selfTrade) = match(
            b, side, newPrice, newQuantity, replace.id.rawValue,
            replace.account.rawValue)
        if remaining == 0 || selfTrade {
            index.remove(replace.id.rawValue)
            orders.release(h)
            if remaining > 0 {
                emit(
                    .canceled(
                        OrderCanceled(
                            sequence: takeSequence(), id: replace.id, account: replace.account,
                            symbol: replace.symbol, side: side, quantity: remaining,
                            reason: .selfTradePrevention)))
            }
            return
        }
        orders[h].price = newPrice
        orders[h].leaves = remaining
        rest(h, b)
    }

    // MARK: Matching

    /// True when a limit order of `side` at `price` would take liquidity now.

    func wouldCross(_ b: Int, _ side: Side, _ price: Int64) -> Bool {
        let opposite = books[b].best(side.opposite)
        guard opposite >= 0 else { return false }
        let touch = levels[opposite].price
        return side == .buy ? price >= touch : price <= touch
    }

    /// True when `quantity` can be filled at `limit` or better before reaching an order of
    /// `account` (spec rule 16). Reads the book only.

    func canFillCompletely(_ b: Int, _ side: Side, _ limit: Int64, _ quantity: Int64, _ account: UInt32) -> Bool {
        var needed = quantity
        var level = books[b].best(side.opposite)
        while level >= 0 {
            let price = levels[level].price
            if side == .buy ? price > limit : price < limit { return false }
            var o = levels[level].head
            while o >= 0 {
                if orders[o].account == account { return false }
                needed &-= orders[o].leaves
                if needed <= 0 { return true }
                o = orders[o].next
            }
            level = levels[level].worse
        }
        return false
    }

    /// Trades an incoming quantity against the opposite side, best price first, oldest first
    /// within a level, at the makers' prices. Stops at `limit`, when filled, or at the first
    /// maker of the same account (self-trade prevention).
    /// - Returns: the unfilled quantity and whether self-trade prevention stopped it.

    mutating func match(
        _ b: Int, _ takerSide: Side, _ limit: Int64, _ quantity: Int64, _ takerID: UInt64,
        _ takerAccount: UInt32
    ) -> (remaining: Int64, selfTrade: Bool) {
        let makerSide = takerSide.opposite
        var remaining = quantity
        while remaining > 0 {
            let level = books[b].best(makerSide)
            if level < 0 { break }
            let price = levels[level].price
            if takerSide == .buy ? price > limit : price < limit { break }
            var maker = levels[level].head
            while remaining > 0 && maker >= 0 {
                let m = orders[maker]
                if m.account == takerAccount { return (remaining, true) }
                let traded = min(remaining, m.leaves)
                remaining &-= traded
                let makerLeaves = m.leaves &- traded
                let tradeID = nextTradeID
                nextTradeID &+= 1
                emit(
                    .fill(
                        Fill(
                            sequence: takeSequence(), tradeID: TradeID(tradeID), symbol: SymbolID(UInt32(b)),
                            takerID: OrderID(takerID), makerID: OrderID(m.id),
                            takerAccount: AccountID(takerAccount), makerAccount: AccountID(m.account),
                            takerSide: takerSide, price: price, quantity: traded, takerLeaves: remaining,
                            makerLeaves: makerLeaves, makerOrigin: m.origin)))
                if makerLeaves == 0 {
                    let next = m.next
                    unlink(maker)  // may free the level when it was the last order
                    index.remove(m.id)
                    orders.release(maker)
                    maker = next
                } else {
                    orders[maker].leaves = makerLeaves
                    levels[level].total &-= traded
                }
            }
        }
        return (remaining, false)
    }

    // MARK: Book structure

    /// Puts order `h` (fields set, not linked) at the back of its price level, creating the level.

    mutating func rest(_ h: Int32, _ b: Int) {
        let side = orders[h].side
        let level = findOrCreateLevel(b, side, orders[h].price)
        appendToLevelFIFO(h, level)
        levels[level].total &+= orders[h].leaves
        books[b].restingOrders &+= 1
    }

    /// Removes resting order `h` from its level (and the level when it empties). The slot and
    /// the id index entry stay: the caller releases or reuses them.

    mutating func unlink(_ h: Int32) {
        let level = orders[h].level
        let b = Int(orders[h].book)
        levels[level].total &-= orders[h].leaves
        removeFromLevelFIFO(h, level)
        books[b].restingOrders &-= 1
        if levels[level].orderCount == 0 { removeLevel(level, b, orders[h].side) }
    }

    mutating func appendToLevelFIFO(_ h: Int32, _ level: Int32) {
        let tail = levels[level].tail
        orders[h].level = level
        orders[h].prev = tail
        orders[h].next = -1
        if tail >= 0 { orders[tail].next = h } else { levels[level].head = h }
        levels[level].tail = h
        levels[level].orderCount &+= 1
    }

    mutating func removeFromLevelFIFO(_ h: Int32, _ level: Int32) {
        let prev = orders[h].prev
        let next = orders[h].next
        if prev >= 0 { orders[prev].next = next } else { levels[level].head = next }
        if next >= 0 { orders[next].prev = prev } else { levels[level].tail = prev }
        levels[level].orderCount &-= 1
    }

    mutating func removeLevel(_ level: Int32, _ b: Int, _ side: Side) {
        let better = levels[level].better
        let worse = levels[level].worse
        if better >= 0 { levels[better].worse = worse } else { books[b].setBest(side, worse) }
        if worse >= 0 { levels[worse].better = better } else { books[b].setWorst(side, better) }
        books[b].addLevelCount(side, -1)
        removeFromTree(level, b, side)
        levels.release(level)
    }

    /// Links a new, empty level at `price` between `better` and `worse` (either may be -1).

    mutating func insertLevel(_ b: Int, _ side: Side, _ price: Int64, better: Int32, worse: Int32) -> Int32 {
        let level = levels.allocate()
        precondition(level >= 0, "level pool exhausted: it is sized to the order pool")
        levels[level] = LevelSlot(
            price: price, total: 0, orderCount: 0, head: -1, tail: -1, better: better,
            worse: worse)
        if better >= 0 { levels[better].worse = level } else { books[b].setBest(side, level) }
        if worse >= 0 { levels[worse].better = level } else { books[b].setWorst(side, level) }
        books[b].addLevelCount(side, 1)
        return level
    }
}
