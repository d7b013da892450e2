import ChronosCore

extension Engine {
    /// Every broken structural invariant of the engine, described; empty when the state is sound.
    ///
    /// Checks, for every book: both sides' level lists strictly ordered and doubly linked,
    /// level counts and ends consistent, each side's price tree the same levels in the same order,
    /// the book not crossed, every level's total equal to
    /// the sum of its orders' open quantities and its order count to the FIFO length, every
    /// order's links, level, side, price, book and id index entry consistent, and the global
    /// counts (slab, index, per-book) equal. O(resting orders): for tests and debugging.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        let c = core.pointee
        var totalOrders = 0
        var totalLevels = 0
        for b in 0..<c.bookCount {
            let book = c.books[b]
            var bookOrders = 0
            for side in Side.allCases {
                var level = book.best(side)
                var previous: Int32 = -1
                var levelCount: Int32 = 0
                while level >= 0 {
                    levelCount += 1
                    if levelCount > c.levels.liveCount {
                        problems.append("book \(b) \(side): level list loops")
                        break
                    }
                    let l = c.levels[level]
                    if l.better != previous { problems.append("book \(b) \(side): level \(level) back-link broken") }
                    if previous >= 0 && !isBetter(c.levels[previous].price, than: l.price, on: side) {
                        problems.append("book \(b) \(side): levels not strictly ordered at price \(l.price)")
                    }
                    var h = l.head
                    var prevOrder: Int32 = -1
                    var sum: Int64 = 0
                    var count: Int32 = 0
                    while h >= 0 {
                        count += 1
                        if count > c.orders.liveCount { problems.append("level \(level): FIFO loops"); break }
                        let o = c.orders[h]
                        if o.prev != prevOrder { problems.append("order \(o.id): prev link broken") }
                        if o.level != level { problems.append("order \(o.id): level field \(o.level) != \(level)") }
                        if o.side != side { problems.append("order \(o.id): on the wrong side") }
                        if o.price != l.price { problems.append("order \(o.id): price \(o.price) != level \(l.price)") }
                        if o.book != UInt32(b) { problems.append("order \(o.id): book field wrong") }
                        if o.leaves <= 0 { problems.append("order \(o.id): leaves \(o.leaves) <= 0") }
                        if c.index.find(o.id) != h { problems.append("order \(o.id): id index does not point at it") }
                        if !c.usedIDs.contains(o.id) { problems.append("order \(o.id): id not marked used") }
                        sum += o.leaves
                        prevOrder = h
                        h = o.next
                    }
                    if prevOrder != l.tail { problems.append("level \(l.price): tail mismatch") }
                    if count == 0 { problems.append("book \(b) \(side): empty level \(l.price) kept") }
                    if count != l.orderCount { problems.append("level \(l.price): count \(l.orderCount) != \(count)") }
                    if sum != l.total { problems.append("level \(l.price): total \(l.total) != sum \(sum)") }
                    bookOrders += Int(count)
                    previous = level
                    level = l.worse
                }
                if previous != book.worst(side) { problems.append("book \(b) \(side): worst level mismatch") }
                let expectedLevels = side == .buy ? book.levelCount.bid : book.levelCount.ask
                if expectedLevels != levelCount {
                    problems.append("book \(b) \(side): level count \(expectedLevels) != \(levelCount)")
                }
                totalLevels += Int(levelCount)
                problems += c.priceTreeViolations(b, side)
            }
            if bookOrders != Int(book.restingOrders) {
                problems.append("book \(b): resting count \(book.restingOrders) != \(bookOrders)")
            }
            if book.bestLevel.bid >= 0 && book.bestLevel.ask >= 0
                && c.levels[book.bestLevel.bid].price >= c.levels[book.bestLevel.ask].price
            {
                problems.append("book \(b): crossed at rest")
            }
            totalOrders += bookOrders
        }
        if totalOrders != Int(c.orders.liveCount) {
            problems.append("slab holds \(c.orders.liveCount) orders, books \(totalOrders)")
        }
        if totalOrders != c.index.count { problems.append("id index holds \(c.index.count), books \(totalOrders)") }
        if totalLevels != Int(c.levels.liveCount) {
            problems.append("level slab holds \(c.levels.liveCount), books \(totalLevels)")
        }
        return problems
    }

    /// A deterministic 64-bit hash (FNV-1a) of one book: every level and every resting order in
    /// priority order with its id, account, open quantity and post-only flag. Equal books give
    /// equal hashes in any process; used to compare runs, replays and recoveries.
    public func bookHash(_ symbol: SymbolID) -> UInt64 {
        var hash = FNV1a()
        hashBook(symbol, into: &hash)
        return hash.value
    }

    /// ``bookHash(_:)`` over every symbol in id order, plus the next sequence and trade numbers.
    public func stateHash() -> UInt64 {
        var hash = FNV1a()
        for b in 0..<symbolCount { hashBook(SymbolID(UInt32(b)), into: &hash) }
        hash.add(nextSequence)
        hash.add(nextTradeID)
        return hash.value
    }

    private func hashBook(_ symbol: SymbolID, into hash: inout FNV1a) {
        hash.add(UInt64(symbol.rawValue))
        for side in Side.allCases {
            hash.add(UInt64(side.rawValue) | 0xFF00)
            for order in restingOrders(symbol, side) {
                hash.add(UInt64(bitPattern: order.price))
                hash.add(order.id.rawValue)
                hash.add(UInt64(order.account.rawValue))
                hash.add(UInt64(bitPattern: order.leavesQuantity))
                hash.add(order.postOnly ? 1 : 0)
            }
        }
    }
}

/// 64-bit FNV-1a over little-endian words.
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ word: UInt64) {
        var w = word
        for _ in 0..<8 {
            value = (value ^ (w & 0xFF)) &* 0x0000_0100_0000_01B3
            w >>= 8
        }
    }
}
