import FencedCollections
import Testing

/// The fences themselves: in a debug build every out-of-range access traps at once (the child
/// process dies) instead of reading or writing beside the memory it was given.
@Suite struct FenceTests {
    @Test func aHandleNeverAllocatedTraps() async {
        await #expect(processExitsWith: .failure) {
            let slab = FixedSlab<Int64>(capacity: 4, memory: PoolMemory(prefault: false))
            _ = slab[2]
        }
    }

    @Test func releasingAHandleNeverAllocatedTraps() async {
        await #expect(processExitsWith: .failure) {
            var slab = FixedSlab<Int64>(capacity: 4, memory: PoolMemory(prefault: false))
            slab.release(3)
        }
    }

    @Test func anIndexPastAnArrayTraps() async {
        await #expect(processExitsWith: .failure) {
            let array = FixedArray(capacity: 4, blank: Int64(0), memory: PoolMemory(prefault: false))
            array[4] = 1
        }
    }

    @Test func aFieldPastItsFrameTraps() async {
        await #expect(processExitsWith: .failure) {
            let bytes = [UInt8](repeating: 0, count: 16)
            _ = bytes.withUnsafeBytes { ByteReader($0, size: 8).u64(4) }
        }
    }

    @Test func removingAnAbsentIDTraps() async {
        await #expect(processExitsWith: .failure) {
            var table = IDTable(maxEntries: 4, memory: PoolMemory(prefault: false))
            table.remove(42)
        }
    }
}
