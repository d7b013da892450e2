// FixedPool: a preallocated array of `Element` slots addressed by `Int32`, with a free list.
//
// Invariants:
//   - `storage` holds `capacity` elements, all initialized in `init` (to `blank`), so every
//     slot may be read and assigned; `Element` is a trivial struct (no references).
//   - `freeList[0..<freeCount]` holds the free slots, each exactly once; a slot handed out by
//     `take()` is not in it until `release(_:)` returns it. `used == capacity - freeCount`.
// Memory is allocated once in `init`; nothing here allocates afterwards.

/// Fixed-capacity slot pool. Owned by ``RiskEngine``; freed with ``deallocate()``.
struct FixedPool<Element: BitwiseCopyable> {
    private let storage: UnsafeMutablePointer<Element>
    private let freeList: UnsafeMutablePointer<Int32>
    private var freeCount: Int
    /// Slots in the pool.
    let capacity: Int

    /// A pool of `capacity` slots (≥ 1), each set to `blank`.
    init(capacity: Int, blank: Element) {
        precondition(capacity >= 1 && capacity < Int(Int32.max), "FixedPool capacity out of range")
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: blank, count: capacity)
        freeList = .allocate(capacity: capacity)
        // Lowest slots first, so a small working set stays in few pages.
        for i in 0..<capacity { freeList[i] = Int32(capacity - 1 - i) }
        freeCount = capacity
    }

    /// Frees the storage; the pool must not be used afterwards.
    func deallocate() {
        storage.deallocate()
        freeList.deallocate()
    }

    /// Slots handed out now.
    var used: Int { capacity - freeCount }

    /// A free slot, or nil when every slot is in use. O(1).
    mutating func take() -> Int32? {
        guard freeCount > 0 else { return nil }
        freeCount -= 1
        return freeList[freeCount]
    }

    /// Returns a slot taken with ``take()``. O(1).
    mutating func release(_ slot: Int32) {
        assert(slot >= 0 && Int(slot) < capacity && freeCount < capacity)
        freeList[freeCount] = slot
        freeCount += 1
    }

    /// The element in `slot` (any slot in `0..<capacity`), read and modified in place.
    subscript(slot: Int32) -> Element {
        @inline(__always) get {
            assert(slot >= 0 && Int(slot) < capacity)
            return storage[Int(slot)]
        }
        @inline(__always) nonmutating _modify {
            assert(slot >= 0 && Int(slot) < capacity)
            yield &storage[Int(slot)]
        }
    }
}
