// FixedSlab: a preallocated pool of trivial values addressed by Int32 handles.
//
// Invariants:
// - `storage` and `freeNext` hold `capacity` elements each, allocated once in `init`
//   (``PoolMemory``: prefaulted when the engine asks for it), freed in `deallocate()` by the
//   owner (the engine's deinit). The slab never grows.
// - Handles in `0..<highWater` have been handed out at least once.
// - A released handle is pushed on a LIFO free list threaded through `freeNext`;
//   `allocate()` pops it before advancing `highWater`.
// - Elements are `BitwiseCopyable`: no initialization or deinitialization is needed, a slot's
//   content is garbage until the caller writes it.
// Safe because every access goes through a handle that `allocate()` returned and the caller
// has not yet released; debug builds assert the handle range.

/// A fixed-capacity pool of `Element`s with O(1) allocate and release.

struct FixedSlab<Element: BitwiseCopyable> {
    /// Marker for "no handle".
    static var none: Int32 { -1 }

    let storage: UnsafeMutablePointer<Element>
    let freeNext: UnsafeMutablePointer<Int32>
    /// Number of slots; handles are `0..<capacity`.
    let capacity: Int32
    var highWater: Int32 = 0
    var freeHead: Int32 = -1
    /// Handles currently allocated.
    var liveCount: Int32 = 0

    /// Allocates room for `capacity` elements from `memory`.
    init(capacity: Int, memory: PoolMemory) {
        precondition(capacity > 0 && capacity < Int(Int32.max), "slab capacity out of range")
        self.capacity = Int32(capacity)
        storage = memory.allocate(Element.self, count: capacity)
        freeNext = memory.allocate(Int32.self, count: capacity)
    }

    /// Frees the memory; the slab must not be used afterwards.
    func deallocate() {
        PoolMemory.deallocate(storage, count: Int(capacity))
        PoolMemory.deallocate(freeNext, count: Int(capacity))
    }

    /// True when no handle is left.
    var isFull: Bool { liveCount == capacity }

    /// Takes a free handle, or returns `none` when the slab is full.

    mutating func allocate() -> Int32 {
        if freeHead >= 0 {
            let handle = freeHead
            freeHead = freeNext[Int(handle)]
            liveCount &+= 1
            return handle
        }
        guard highWater < capacity else { return Self.none }
        let handle = highWater
        highWater &+= 1
        liveCount &+= 1
        return handle
    }

    /// Returns a handle to the pool.

    mutating func release(_ handle: Int32) {
        assert(handle >= 0 && handle < highWater, "release of a handle never allocated")
        freeNext[Int(handle)] = freeHead
        freeHead = handle
        liveCount &-= 1
    }

    /// The element behind a live handle.

    subscript(handle: Int32) -> Element {
        unsafeAddress {
            assert(handle >= 0 && handle < highWater, "handle out of range")
            return UnsafePointer(storage + Int(handle))
        }
        nonmutating unsafeMutableAddress {
            assert(handle >= 0 && handle < highWater, "handle out of range")
            return storage + Int(handle)
        }
    }
}
