// PriceLadders: the price levels of several book sides, each a sorted array with its best level
// last.
//
// Ladder `k` is one side of one book: `k & 1 == 0` bids, `k & 1 == 1` offers. Its levels are
// sorted worst first, best last: bids by ascending price, offers by descending price. Most
// activity is near the touch, so inserting or deleting a level moves only the few levels better
// than it; finding a level is a binary search.
//
// Invariants:
// - `levels` holds `ladderCount × capacity` entries and `counts` holds `ladderCount`, both
//   allocated once in `init` and freed in `deinit`; nothing grows. Ladder `k` owns entries
//   `k × capacity ..< k × capacity + counts[k]`.
// - Within a ladder, prices are distinct and strictly ordered as above; every stored level has
//   `quantity > 0` and `orderCount > 0` (a level that reaches 0 in either is removed).
// Safe because every public index is checked against the ladder's count (or `ladderCount`)
// before it reaches a pointer, and moves stay inside the ladder's own range.

import ChronosCore

/// One aggregated price level (24 bytes).
struct PriceLevel: BitwiseCopyable, Equatable {
    var price: Int64
    /// Sum of the open quantities at this price, in lots.
    var quantity: Int64
    /// Number of resting orders at this price.
    var orderCount: Int64

    var summary: LevelSummary { LevelSummary(price: price, quantity: quantity, orderCount: Int(orderCount)) }
}

/// What a change to a ladder did.
enum LadderChange: Equatable {
    /// The level at that price after the change (`.delete`: its totals are 0). `balanced` is
    /// false when the level left with quantity but no orders, or with orders but no quantity: the
    /// caller reports a contradiction.
    case updated(LevelAction, PriceLevel, balanced: Bool)
    /// A new level was needed but the ladder holds `capacity` levels.
    case full
    /// The change named a price with no level.
    case missing
}

/// Fixed-capacity sorted price ladders (see the header comment).
struct PriceLadders: ~Copyable {
    private let levels: UnsafeMutablePointer<PriceLevel>
    private let counts: UnsafeMutablePointer<Int>
    /// Number of ladders.
    let ladderCount: Int
    /// Most levels per ladder.
    let capacity: Int

    /// `ladderCount` empty ladders of `capacity` levels each, their memory allocated now (the
    /// level pages are left for the kernel to back when first written).
    init(ladderCount: Int, capacity: Int) {
        self.ladderCount = max(ladderCount, 1)
        self.capacity = max(capacity, 1)
        levels = .allocate(capacity: self.ladderCount * self.capacity)
        counts = .allocate(capacity: self.ladderCount)
        counts.initialize(repeating: 0, count: self.ladderCount)
    }

    deinit {
        levels.deallocate()
        counts.deallocate()
    }

    /// The ladder of `side` in book number `book`.
    @inline(__always)  // index arithmetic on every event
    static func ladder(_ book: Int, _ side: Side) -> Int { book &* 2 &+ Int(side.rawValue) }

    /// Levels on ladder `k` (0 for an index out of range).
    func count(_ k: Int) -> Int { k >= 0 && k < ladderCount ? counts[k] : 0 }

    /// The level `rank` places from the best (0: the best) on ladder `k`, or nil.
    func level(_ k: Int, rank: Int) -> PriceLevel? {
        let n = count(k)
        guard rank >= 0 && rank < n else { return nil }
        return levels[k &* capacity &+ n &- 1 &- rank]
    }

    /// The best level of ladder `k`, or nil when it is empty.
    func best(_ k: Int) -> PriceLevel? { level(k, rank: 0) }

    /// The level at `price` on ladder `k`, or nil.
    func level(_ k: Int, price: Int64) -> PriceLevel? {
        guard k >= 0 && k < ladderCount else { return nil }
        let (i, found) = search(k, price)
        return found ? levels[k &* capacity &+ i] : nil
    }

    /// Ordering key: ascending along the ladder for both sides (offers store the complement,
    /// which reverses the order without overflow).
    @inline(__always)  // called on every probe of the binary search
    private static func key(_ k: Int, _ price: Int64) -> Int64 { k & 1 == 0 ? price : ~price }

    /// Where `price` is, or would be inserted, on ladder `k` (index from the ladder's start).
    private func search(_ k: Int, _ price: Int64) -> (index: Int, found: Bool) {
        let base = levels + k &* capacity
        let target = Self.key(k, price)
        var low = 0
        var high = counts[k]
        // The touch (last) is the likeliest target: check it before bisecting.
        if high > 0 {
            let last = Self.key(k, base[high &- 1].price)
            if last == target { return (high &- 1, true) }
            if last < target { return (high, false) }
        }
        while low < high {
            let mid = (low &+ high) >> 1
            let key = Self.key(k, base[mid].price)
            if key == target { return (mid, true) }
            if key < target { low = mid &+ 1 } else { high = mid }
        }
        return (low, false)
    }

    /// Adds `quantityDelta` lots and `orderDelta` orders to the level at `price` on ladder `k`,
    /// creating it (positive deltas) or removing it (when its orders or quantity reach 0).
    mutating func adjust(_ k: Int, price: Int64, quantityDelta: Int64, orderDelta: Int64) -> LadderChange {
        guard k >= 0 && k < ladderCount else { return .missing }
        let (i, found) = search(k, price)
        let base = levels + k &* capacity
        guard found else {
            guard quantityDelta > 0 && orderDelta > 0 else { return .missing }
            guard insert(k, at: i, PriceLevel(price: price, quantity: quantityDelta, orderCount: orderDelta)) else {
                return .full
            }
            return .updated(.new, base[i], balanced: true)
        }
        let quantity = base[i].quantity &+ quantityDelta
        let orderCount = base[i].orderCount &+ orderDelta
        if quantity <= 0 || orderCount <= 0 {
            remove(k, at: i)
            let balanced = quantity == 0 && orderCount == 0
            return .updated(.delete, PriceLevel(price: price, quantity: 0, orderCount: 0), balanced: balanced)
        }
        base[i].quantity = quantity
        base[i].orderCount = orderCount
        return .updated(.change, base[i], balanced: true)
    }

    /// Sets the level at `price` on ladder `k` to absolute totals: creates it, changes it, or
    /// (`orderCount` or `quantity` ≤ 0) removes it. The action says which; `.missing` when asked
    /// to remove a level that does not exist.
    mutating func set(_ k: Int, price: Int64, quantity: Int64, orderCount: Int64) -> LadderChange {
        guard k >= 0 && k < ladderCount else { return .missing }
        let (i, found) = search(k, price)
        let base = levels + k &* capacity
        let level = PriceLevel(price: price, quantity: quantity, orderCount: orderCount)
        let removing = quantity <= 0 || orderCount <= 0
        if !found {
            if removing { return .missing }
            return insert(k, at: i, level) ? .updated(.new, level, balanced: true) : .full
        }
        if removing {
            remove(k, at: i)
            return .updated(.delete, PriceLevel(price: price, quantity: 0, orderCount: 0), balanced: true)
        }
        base[i] = level
        return .updated(.change, level, balanced: true)
    }

    /// Empties ladder `k`.
    mutating func removeAll(_ k: Int) {
        guard k >= 0 && k < ladderCount else { return }
        counts[k] = 0
    }

    private mutating func insert(_ k: Int, at i: Int, _ level: PriceLevel) -> Bool {
        let n = counts[k]
        guard n < capacity else { return false }
        let base = levels + k &* capacity
        // Safe because i ≤ n < capacity: the moved range ends inside the ladder. Regions overlap;
        // moveInitialize allows it, and PriceLevel is trivial.
        if i < n { (base + i + 1).moveInitialize(from: base + i, count: n &- i) }
        base[i] = level
        counts[k] = n &+ 1
        return true
    }

    private mutating func remove(_ k: Int, at i: Int) {
        let n = counts[k]
        let base = levels + k &* capacity
        if i &+ 1 < n { (base + i).moveInitialize(from: base + i + 1, count: n &- i &- 1) }
        counts[k] = n &- 1
    }
}
