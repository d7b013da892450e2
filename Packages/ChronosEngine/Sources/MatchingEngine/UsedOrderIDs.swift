// UsedOrderIDs: the set of every order id an engine has accepted, in bounded memory.
//
// Ids are grouped in blocks of 64 (`id >> 6`); each table entry holds one block number and a
// 64-bit mask of the ids of that block that were used. Dense ids (1, 2, 3 …) cost about one
// bit each; scattered ids cost one 16-byte entry each.
//
// Invariants:
// - `entries` holds `slotCount` slots (power of two), block beside mask in 16 bytes (one cache
//   line per probe), allocated zero-filled once (``PoolMemory``).
// - `entries[i].block == 0` marks an empty slot; a live entry stores block number + 1 (block
//   numbers are < 2^58, so + 1 never overflows).
// - A block's home slot is ``idHome(_:mask:)`` of its number: 64 consecutive blocks (4,096 ids)
//   have consecutive homes, so dense ids use a few contiguous cache lines.
// - Entries are never removed (an id stays used for the engine's life), so linear probing
//   needs no tombstones.
// - At most `maxBlocks` (3/4 of the slots) entries are used: `canInsert` answers false beyond,
//   and the engine rejects the order `capacity_exhausted` instead of growing.
// Safe because every index is masked with `mask`.

import FencedCollections

/// The ids accepted so far in one engine.

struct UsedOrderIDs {
    struct Entry {
        /// Block number + 1; 0: empty.
        var block: UInt64
        /// The used ids of the block, bit `id & 63`.
        var used: UInt64
    }

    let entries: UnsafeMutablePointer<Entry>
    let mask: Int
    let maxBlocks: Int
    /// Blocks in use.
    var blockCount: Int = 0

    /// A set that holds at least `minimumBlocks` blocks of 64 ids (up to the next power of two
    /// of slots at 3/4 load).
    init(minimumBlocks: Int, memory: PoolMemory) {
        var slots = 16
        while slots / 2 < minimumBlocks { slots <<= 1 }
        mask = slots - 1
        maxBlocks = slots / 4 * 3
        entries = memory.allocate(Entry.self, count: slots)
    }

    func deallocate() { PoolMemory.deallocate(entries, count: mask + 1) }

    /// The slot of `id`'s block, or of the empty slot where it would go.

    func slot(for id: UInt64) -> Int {
        let tag = (id >> 6) &+ 1
        var i = idHome(id >> 6, mask: mask)
        while true {
            let b = entries[i].block
            if b == tag || b == 0 { return i }
            i = (i &+ 1) & mask
        }
    }

    /// True when `id` was inserted before.

    func contains(_ id: UInt64) -> Bool {
        let entry = entries[slot(for: id)]
        return entry.block != 0 && entry.used & (1 << (id & 63)) != 0
    }

    /// True when `insert(id)` would succeed.

    func canInsert(_ id: UInt64) -> Bool {
        entries[slot(for: id)].block != 0 || blockCount < maxBlocks
    }

    /// Marks `id` used. Call only after `canInsert(id)` answered true.

    mutating func insert(_ id: UInt64) {
        let i = slot(for: id)
        if entries[i].block == 0 {
            precondition(blockCount < maxBlocks, "UsedOrderIDs full: check canInsert first")
            entries[i].block = (id >> 6) &+ 1
            blockCount &+= 1
        }
        entries[i].used |= 1 << (id & 63)
    }

    /// True when any id was inserted.
    var hasAny: Bool { blockCount > 0 }

    /// Puts back a table entry as a snapshot recorded it: block `tag − 1` with the ids of `mask`.
    /// Call only while `blockCount < maxBlocks` (a restore checks the count first).
    mutating func insertBlock(tag: UInt64, mask bits: UInt64) {
        let i = slot(for: (tag &- 1) << 6)
        if entries[i].block == 0 {
            precondition(blockCount < maxBlocks, "UsedOrderIDs full: check the block count first")
            entries[i].block = tag
            blockCount &+= 1
        }
        entries[i].used |= bits
    }
}
