// OrderIndex: order id → pool handle, an open-addressing hash table with linear probing.
//
// Invariants:
// - `entries` holds `slotCount` slots (a power of two ≥ 2 × the maximum number of live
//   entries), each key beside its value in 16 bytes (one cache line per probe), allocated
//   zero-filled once (``PoolMemory``); the table never grows or rehashes.
// - `entries[i].value == 0` marks an empty slot; a live entry stores its handle + 1, so any
//   UInt64 order id (0 included) can be a key.
// - An id's home slot is ``idHome(_:mask:)``: ids of one aligned run of 64 have consecutive
//   homes, so dense ids (a gateway's counters) touch few cache lines and pages.
// - Deletion uses backward-shift (Knuth's algorithm R): no tombstones, so probe sequences stay
//   short however many inserts and deletes have happened.
// - The load factor never exceeds 1/2 because the engine never holds more live orders than
//   the order slab's capacity.
// Safe because every index is masked with `mask` (slotCount − 1).

/// Maps the ids of resting orders to their order-slab handles. O(1) expected per operation.

struct OrderIndex {
    struct Entry {
        var key: UInt64
        /// Handle + 1; 0: empty.
        var value: Int32
    }

    let entries: UnsafeMutablePointer<Entry>
    let mask: Int
    /// Live entries.
    var count: Int = 0

    /// A table for at most `maxEntries` live entries.
    init(maxEntries: Int, memory: PoolMemory) {
        var slots = 16
        while slots < maxEntries * 2 { slots <<= 1 }
        mask = slots - 1
        entries = memory.allocate(Entry.self, count: slots)
    }

    func deallocate() { PoolMemory.deallocate(entries, count: mask + 1) }

    @inline(__always)
    func home(_ key: UInt64) -> Int { idHome(key, mask: mask) }

    /// The handle stored for `key`, or -1.

    func find(_ key: UInt64) -> Int32 {
        var i = home(key)
        while true {
            let entry = entries[i]
            if entry.value == 0 { return -1 }
            if entry.key == key { return entry.value &- 1 }
            i = (i &+ 1) & mask
        }
    }

    /// Inserts a key that is not present.

    mutating func insert(_ key: UInt64, handle: Int32) {
        var i = home(key)
        while entries[i].value != 0 {
            assert(entries[i].key != key, "duplicate key in OrderIndex")
            i = (i &+ 1) & mask
        }
        entries[i] = Entry(key: key, value: handle &+ 1)
        count &+= 1
    }

    /// Removes a key that is present.

    mutating func remove(_ key: UInt64) {
        var i = home(key)
        while entries[i].key != key || entries[i].value == 0 {
            assert(entries[i].value != 0, "removing a key that is absent")
            i = (i &+ 1) & mask
        }
        // Backward-shift: pull later entries of the cluster into the hole when their home
        // position does not lie cyclically in (hole, j].
        var hole = i
        var j = i
        while true {
            j = (j &+ 1) & mask
            if entries[j].value == 0 { break }
            let h = home(entries[j].key)
            let stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j)
            if !stays {
                entries[hole] = entries[j]
                hole = j
            }
        }
        entries[hole].value = 0
        count &-= 1
    }
}

/// A 64-bit finalizer (from SplitMix64 / MurmurHash3's fmix64): spreads its inputs over 64 bits.
/// Deterministic across processes, unlike `Hasher`.
@inline(__always)
func mix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// The home slot of `id` in a table of `mask + 1` slots: the ids of one aligned run of 64 get
/// consecutive slots from a hashed start, so dense ids stay close together (few cache lines,
/// few pages) while scattered ids spread like a plain hash.
@inline(__always)
func idHome(_ id: UInt64, mask: Int) -> Int { Int(truncatingIfNeeded: mix64(id >> 6) &+ id) & mask }
