// RestingOrderTable: what the market-data book remembers of each resting order, by order id.
//
// The engine's `canceled` event carries no price and its fills name the maker only by id, so the
// book keeps each resting order's symbol, side, price and open quantity here.
//
// Invariants:
// - `slots` holds `slotCount` entries (a power of two ≥ 2 × `capacity`), allocated once in
//   `init`, freed in `deinit`. The table never grows: `insert` fails when `count == capacity`,
//   so the load factor stays ≤ 1/2 and every probe sequence reaches an empty slot.
// - Open addressing with linear probing; an entry sits at or after its home slot with no empty
//   slot in between. `remove` shifts later entries of the run back (no tombstones), so a slot
//   index is only valid until the next `insert` or `remove`.
// Safe because every index is masked by `slotCount - 1` before it reaches the pointer.

import ChronosCore

/// One resting order as the market-data book knows it (32 bytes).
struct TrackedOrder: BitwiseCopyable {
    var id: UInt64
    var price: Int64
    /// Open quantity in lots.
    var leaves: Int64
    var symbol: UInt32
    var side: Side
    var occupied: Bool
}

/// A fixed-capacity hash table of resting orders keyed by order id.
struct RestingOrderTable: ~Copyable {
    private let slots: UnsafeMutablePointer<TrackedOrder>
    private let mask: Int
    /// Most orders the table holds.
    let capacity: Int
    /// Orders held.
    private(set) var count = 0

    /// A table for `capacity` orders (1 ≤ capacity ≤ 2^30), its memory allocated now.
    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        var slotCount = 2
        while slotCount < 2 * self.capacity { slotCount <<= 1 }
        mask = slotCount - 1
        slots = .allocate(capacity: slotCount)
        slots.initialize(
            repeating: TrackedOrder(id: 0, price: 0, leaves: 0, symbol: 0, side: .buy, occupied: false),
            count: slotCount)
    }

    deinit { slots.deallocate() }

    var isFull: Bool { count >= capacity }

    @inline(__always)  // the hash of every lookup: two multiplies, worth inlining
    private func home(_ id: UInt64) -> Int {
        var x = id
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        return Int(truncatingIfNeeded: x) & mask
    }

    /// The slot holding `id`, or nil. Valid until the next insert or remove.
    func find(_ id: UInt64) -> Int? {
        var i = home(id)
        while slots[i].occupied {
            if slots[i].id == id { return i }
            i = (i &+ 1) & mask
        }
        return nil
    }

    /// The order in slot `i` (from ``find(_:)``).
    subscript(slot i: Int) -> TrackedOrder {
        get { slots[i & mask] }
        nonmutating set { slots[i & mask] = newValue }
    }

    /// Adds `order` (its id not yet present). False when the table is full.
    mutating func insert(_ order: TrackedOrder) -> Bool {
        guard count < capacity else { return false }
        var i = home(order.id)
        while slots[i].occupied { i = (i &+ 1) & mask }
        slots[i] = order
        slots[i].occupied = true
        count &+= 1
        return true
    }

    /// Removes the order in slot `i`, moving later entries of its run back (backward-shift deletion).
    mutating func remove(slot: Int) {
        var hole = slot & mask
        guard slots[hole].occupied else { return }
        var i = (hole &+ 1) & mask
        while slots[i].occupied {
            let h = home(slots[i].id)
            // The entry at i may fill the hole when its home is not cyclically in (hole, i].
            let distanceToEntry = (i &- h) & mask
            let distanceToHole = (i &- hole) & mask
            if distanceToEntry >= distanceToHole {
                slots[hole] = slots[i]
                hole = i
            }
            i = (i &+ 1) & mask
        }
        slots[hole].occupied = false
        count &-= 1
    }

    /// Calls `body` with every order held, in no particular order (for checks, not the hot path).
    func forEach(_ body: (TrackedOrder) -> Void) {
        for i in 0...mask where slots[i].occupied { body(slots[i]) }
    }
}
