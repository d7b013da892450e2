#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// OrderIndex: order id → pool handle, an open-addressing hash table with linear probing.
//
// Invariants:
// - `keys` and `values` hold `slotCount` entries (a power of two ≥ 2 × the maximum number of
//   live entries), allocated zero-filled and prefaulted once; the table never grows or rehashes.
// - `values[i] == 0` marks an empty slot; a live entry stores its handle + 1, so any UInt64
//   order id (0 included) can be a key.
// - Deletion uses backward-shift (Knuth's algorithm R): no tombstones, so probe sequences stay
//   short however many inserts and deletes have happened.
// - The load factor never exceeds 1/2 because the engine never holds more live orders than
//   the order slab's capacity.
// Safe because every index is masked with `mask` (slotCount − 1).

/// Maps the ids of resting orders to their order-slab handles. O(1) expected per operation.

struct OrderIndex {
    let keys: UnsafeMutablePointer<UInt64>
    let values: UnsafeMutablePointer<Int32>
    let mask: Int
    /// Live entries.
    var count: Int = 0

    /// A table for at most `maxEntries` live entries.
    init(maxEntries: Int) {
        var slots = 16
        while slots < maxEntries * 2 { slots <<= 1 }
        mask = slots - 1
        keys = zeroFilled(UInt64.self, count: slots)
        values = zeroFilled(Int32.self, count: slots)
    }

    func deallocate() {
        free(keys)
        free(values)
    }

    func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: mix64(key)) & mask }

    /// The handle stored for `key`, or -1.

    func find(_ key: UInt64) -> Int32 {
        var i = home(key)
        while true {
            let v = values[i]
            if v == 0 { return -1 }
            if keys[i] == key { return v &- 1 }
            i = (i &+ 1) & mask
        }
    }

    /// Inserts a key that is not present.

    mutating func insert(_ key: UInt64, handle: Int32) {
        var i = home(key)
        while values[i] != 0 {
            assert(keys[i] != key, "duplicate key in OrderIndex")
            i = (i &+ 1) & mask
        }
        keys[i] = key
        values[i] = handle &+ 1
        count &+= 1
    }

    /// Removes a key that is present.

    mutating func remove(_ key: UInt64) {
        var i = home(key)
        while keys[i] != key || values[i] == 0 {
            assert(values[i] != 0, "removing a key that is absent")
            i = (i &+ 1) & mask
        }
        // Backward-shift: pull later entries of the cluster into the hole when their home
        // position does not lie cyclically in (hole, j].
        var hole = i
        var j = i
        while true {
            j = (j &+ 1) & mask
            if values[j] == 0 { break }
            let h = home(keys[j])
            let stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j)
            if !stays {
                keys[hole] = keys[j]
                values[hole] = values[j]
                hole = j
            }
        }
        values[hole] = 0
        count &-= 1
    }
}

/// A 64-bit finalizer (from SplitMix64 / MurmurHash3's fmix64): spreads sequential ids over
/// the table. Deterministic across processes, unlike `Hasher`.
@inline(__always)
func mix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// `count` zero-filled elements, every page written once (prefaulted): hash tables spread their
/// entries over all their pages, so faulting them in lazily would only move page faults onto the
/// hot path and make resident memory creep up with the stream instead of being constant.
func zeroFilled<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    let bytes = count * MemoryLayout<T>.stride
    guard let raw = malloc(bytes) else { fatalError("out of memory allocating \(count) × \(T.self)") }
    memset(raw, 0, bytes)
    return raw.bindMemory(to: T.self, capacity: count)
}
