// FixedKeyIndex: a fixed-size open-addressing map from `UInt64` keys to `Int32` slot numbers.
//
// Invariants:
//   - `size` is a power of two, at least twice `capacity`, so a probe always ends at an empty
//     entry (load factor ≤ 0.5) and `count <= capacity` is enforced by `insert`.
//   - `values[i] == -1` marks entry `i` empty; `keys[i]` is only read when `values[i] >= 0`
//     (keys are left uninitialized until first written: `UInt64` is trivial, so that is safe).
//   - Every key is stored at most once, on the probe path that starts at `home(key)` with no
//     empty entry between its home and its position (linear probing, backward-shift deletion
//     keeps that true without tombstones).
// Memory: 12 bytes per entry, allocated once in `init`; `values` is initialized (touched) there.
// Nothing here allocates after `init`.

/// Fixed-capacity hash index, `UInt64` key → `Int32` value (a slot in some preallocated pool).
/// Owned by ``RiskEngine``; freed with ``deallocate()``.
struct FixedKeyIndex {
    private let keys: UnsafeMutablePointer<UInt64>
    private let values: UnsafeMutablePointer<Int32>
    private let mask: Int
    private let shift: UInt64
    /// The most keys the index accepts.
    let capacity: Int
    /// Keys stored now.
    private(set) var count = 0

    /// An empty index for up to `capacity` keys (≥ 1).
    init(capacity: Int) {
        precondition(capacity >= 1 && capacity <= 1 << 30, "FixedKeyIndex capacity out of range")
        var size = 2
        while size < capacity * 2 { size <<= 1 }
        self.capacity = capacity
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
        keys = .allocate(capacity: size)
        values = .allocate(capacity: size)
        values.initialize(repeating: -1, count: size)
    }

    /// Frees the storage; the index must not be used afterwards.
    func deallocate() {
        keys.deallocate()
        values.deallocate()
    }

    /// Entries in the table (a power of two).
    var tableSize: Int { mask + 1 }

    @inline(__always)  // one multiply and shift on every lookup of the hot path
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The value stored for `key`, or nil. O(1) expected.
    func find(_ key: UInt64) -> Int32? {
        var i = home(key)
        while true {
            let value = values[i]
            if value < 0 { return nil }
            if keys[i] == key { return value }
            i = (i + 1) & mask
        }
    }

    /// Stores `value` for a key that is not present. Returns false when the index is full.
    mutating func insert(_ key: UInt64, _ value: Int32) -> Bool {
        assert(value >= 0 && find(key) == nil)
        guard count < capacity else { return false }
        var i = home(key)
        while values[i] >= 0 { i = (i + 1) & mask }
        keys[i] = key
        values[i] = value
        count += 1
        return true
    }

    /// Removes `key` if present (backward-shift deletion: later entries of the probe run move up).
    mutating func remove(_ key: UInt64) {
        var i = home(key)
        while true {
            if values[i] < 0 { return }
            if keys[i] == key { break }
            i = (i + 1) & mask
        }
        var hole = i
        var j = i
        while true {
            j = (j + 1) & mask
            if values[j] < 0 { break }
            let h = home(keys[j])
            // Entry j may fill the hole when its home is not cyclically in (hole, j].
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                keys[hole] = keys[j]
                values[hole] = values[j]
                hole = j
            }
        }
        values[hole] = -1
        count -= 1
    }

    /// Calls `body` with every stored value (table order). O(table size); not for the hot path.
    func forEachValue(_ body: (Int32) -> Void) {
        for i in 0...mask where values[i] >= 0 { body(values[i]) }
    }
}
