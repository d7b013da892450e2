// IDTable: a 64-bit id → pool handle (order ids, account keys), an open-addressing hash table
// with linear probing.
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
// - The load factor never exceeds 1/2: `count <= maxEntries` (the engine holds no more live orders
//   than its order slab's capacity; other owners check ``isFull`` before inserting).
// Safe because every index is masked with `mask` (slotCount − 1).

/// Maps ids (a resting order's, an account's) to pool handles. O(1) expected per operation.
@frozen
public struct IDTable {
    @frozen @usableFromInline
    struct Entry {
        @usableFromInline var key: UInt64
        /// Handle + 1; 0: empty.
        @usableFromInline var value: Int32

        @inlinable init(key: UInt64, value: Int32) {
            self.key = key
            self.value = value
        }
    }

    @usableFromInline let entries: UnsafeMutablePointer<Entry>
    @usableFromInline let mask: Int
    /// The most live entries the table takes.
    public let maxEntries: Int
    /// Live entries.
    @inlinable public var count: Int { liveEntries }
    @usableFromInline var liveEntries = 0

    /// A table for at most `maxEntries` live entries.
    public init(maxEntries: Int, memory: PoolMemory) {
        var slots = 16
        while slots < maxEntries * 2 { slots <<= 1 }
        mask = slots - 1
        self.maxEntries = maxEntries
        entries = memory.allocate(Entry.self, count: slots)
    }

    /// Frees the memory; the table must not be used afterwards.
    public func deallocate() { PoolMemory.deallocate(entries, count: mask + 1) }

    /// True when ``maxEntries`` ids are stored: ``insert(_:handle:)`` must not be called.
    @inlinable public var isFull: Bool { liveEntries >= maxEntries }

    @inlinable @inline(__always)
    func home(_ key: UInt64) -> Int { idHome(key, mask: mask) }

    /// The handle stored for `key`, or nil.
    @inlinable
    public func handle(for key: UInt64) -> Int32? {
        let handle = find(key)
        return handle < 0 ? nil : handle
    }

    /// The handle stored for `key`, or -1.
    @inlinable
    public func find(_ key: UInt64) -> Int32 {
        var i = home(key)
        while true {
            let entry = entries[i]
            if entry.value == 0 { return -1 }
            if entry.key == key { return entry.value &- 1 }
            i = (i &+ 1) & mask
        }
    }

    /// Inserts a key that is not present, into a table that is not full.
    @inlinable
    public mutating func insert(_ key: UInt64, handle: Int32) {
        var i = home(key)
        while entries[i].value != 0 {
            assert(entries[i].key != key, "duplicate key in IDTable")
            i = (i &+ 1) & mask
        }
        entries[i] = Entry(key: key, value: handle &+ 1)
        liveEntries &+= 1
    }

    /// Inserts a key that is not present; false (and nothing stored) when the table is full.
    @inlinable
    public mutating func insertIfRoom(_ key: UInt64, handle: Int32) -> Bool {
        guard !isFull else { return false }
        insert(key, handle: handle)
        return true
    }

    /// Removes `key` when present; returns whether it was.
    @inlinable @discardableResult
    public mutating func removeIfPresent(_ key: UInt64) -> Bool {
        var i = home(key)
        while entries[i].value != 0 {
            if entries[i].key == key {
                removeEntry(at: i)
                return true
            }
            i = (i &+ 1) & mask
        }
        return false
    }

    /// Removes a key that is present.
    @inlinable
    public mutating func remove(_ key: UInt64) {
        var i = home(key)
        while entries[i].key != key || entries[i].value == 0 {
            assert(entries[i].value != 0, "removing a key that is absent")
            i = (i &+ 1) & mask
        }
        removeEntry(at: i)
    }

    /// Calls `body` with every stored handle, in table order. O(table size): not for a hot path.
    public func forEachHandle(_ body: (Int32) -> Void) {
        for i in 0...mask where entries[i].value != 0 { body(entries[i].value &- 1) }
    }

    /// Empties slot `i` (which holds a live entry).
    @inlinable
    mutating func removeEntry(at i: Int) {
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
        liveEntries &-= 1
    }
}

/// A 64-bit finalizer (from SplitMix64 / MurmurHash3's fmix64): spreads its inputs over 64 bits.
/// Deterministic across processes, unlike `Hasher`.
@inlinable @inline(__always)
public func mix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// The home slot of `id` in a table of `mask + 1` slots: the ids of one aligned run of 64 get
/// consecutive slots from a hashed start, so dense ids stay close together (few cache lines,
/// few pages) while scattered ids spread like a plain hash.
@inlinable @inline(__always)
public func idHome(_ id: UInt64, mask: Int) -> Int { Int(truncatingIfNeeded: mix64(id >> 6) &+ id) & mask }
