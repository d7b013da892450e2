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
@frozen
public struct FixedSlab<Element: BitwiseCopyable> {
    /// Marker for "no handle".
    @inlinable public static var none: Int32 { -1 }

    @usableFromInline let storage: UnsafeMutablePointer<Element>
    @usableFromInline let freeNext: UnsafeMutablePointer<Int32>
    /// Number of slots; handles are `0..<capacity`.
    public let capacity: Int32
    /// Handles below this have been handed out at least once.
    @usableFromInline var highWater: Int32 = 0
    @usableFromInline var freeHead: Int32 = -1
    @usableFromInline var live: Int32 = 0

    /// Handles currently allocated.
    @inlinable public var liveCount: Int32 { live }

    /// Allocates room for `capacity` elements from `memory`.
    public init(capacity: Int, memory: PoolMemory) {
        precondition(capacity > 0 && capacity < Int(Int32.max), "slab capacity out of range")
        self.capacity = Int32(capacity)
        storage = memory.allocate(Element.self, count: capacity)
        freeNext = memory.allocate(Int32.self, count: capacity)
    }

    /// Frees the memory; the slab must not be used afterwards.
    public func deallocate() {
        PoolMemory.deallocate(storage, count: Int(capacity))
        PoolMemory.deallocate(freeNext, count: Int(capacity))
    }

    /// True when no handle is left.
    @inlinable public var isFull: Bool { live == capacity }

    /// Takes a free handle, or returns `none` when the slab is full.
    @inlinable
    public mutating func allocate() -> Int32 {
        if freeHead >= 0 {
            let handle = freeHead
            freeHead = freeNext[Int(handle)]
            live &+= 1
            return handle
        }
        guard highWater < capacity else { return Self.none }
        let handle = highWater
        highWater &+= 1
        live &+= 1
        return handle
    }

    /// Takes a free handle, or nil when the slab is full (``allocate()`` as an optional).
    @inlinable
    public mutating func take() -> Int32? {
        let handle = allocate()
        return handle < 0 ? nil : handle
    }

    /// Returns a handle to the pool.
    @inlinable
    public mutating func release(_ handle: Int32) {
        assert(handle >= 0 && handle < highWater, "release of a handle never allocated")
        freeNext[Int(handle)] = freeHead
        freeHead = handle
        live &-= 1
    }

    /// The element behind a live handle.
    @inlinable
    public subscript(handle: Int32) -> Element {
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
