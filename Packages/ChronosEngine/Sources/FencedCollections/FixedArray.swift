// FixedArray: a preallocated array of trivial values addressed by Int32, every slot initialized.
//
// Invariants:
// - `storage` holds `capacity` elements (≥ 1), allocated once in `init` from ``PoolMemory`` and
//   all set to `blank` there; the array never grows. Freed once by its owner (`deallocate()`).
// - Elements are `BitwiseCopyable`: assigning one neither retains nor releases anything.
// Safe because every access is an index in `0..<capacity`, which debug builds assert and every
// caller bounds (a symbol id checked against the configured symbols, for example).

/// A fixed-capacity array of `Element`s, each slot readable from the start (set to a blank value).
@frozen
public struct FixedArray<Element: BitwiseCopyable> {
    @usableFromInline let storage: UnsafeMutablePointer<Element>
    /// Number of slots; indices are `0..<capacity`.
    public let capacity: Int32

    /// `capacity` slots from `memory`, each set to `blank`.
    public init(capacity: Int, blank: Element, memory: PoolMemory) {
        precondition(capacity > 0 && capacity < Int(Int32.max), "array capacity out of range")
        self.capacity = Int32(capacity)
        storage = memory.allocate(Element.self, count: capacity)
        storage.update(repeating: blank, count: capacity)
    }

    /// Frees the memory; the array must not be used afterwards.
    public func deallocate() { PoolMemory.deallocate(storage, count: Int(capacity)) }

    /// The element at `index` (in `0..<capacity`).
    @inlinable
    public subscript(index: Int32) -> Element {
        unsafeAddress {
            assert(index >= 0 && index < capacity, "index out of range")
            return UnsafePointer(storage + Int(index))
        }
        nonmutating unsafeMutableAddress {
            assert(index >= 0 && index < capacity, "index out of range")
            return storage + Int(index)
        }
    }
}
