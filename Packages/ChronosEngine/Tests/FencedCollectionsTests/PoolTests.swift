import FencedCollections
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// ``FixedSlab``, ``FixedArray`` and ``PoolMemory``: handles, capacity, reuse, blank slots, and
/// memory that is zero-filled and (when asked) already resident.
@Suite struct PoolTests {
    @Test(arguments: [1, 3, 1_000])
    func aSlabHandsOutEveryHandleOnceAndReusesReleasedOnesFirst(_ capacity: Int) {
        var slab = FixedSlab<Int64>(capacity: capacity, memory: PoolMemory(prefault: true, hugePages: true))
        defer { slab.deallocate() }
        var live = Set<Int32>()
        for expected in 0..<Int32(capacity) {
            let handle = slab.allocate()
            #expect(handle == expected)
            slab[handle] = Int64(handle) * 3
            live.insert(handle)
        }
        #expect(slab.isFull && slab.liveCount == Int32(capacity))
        let beyond = slab.allocate(), taken = slab.take()
        #expect(beyond == FixedSlab<Int64>.none && taken == nil)
        // Release a few; they come back last-released first, before anything new.
        var rng = TestRandom(seed: 11)
        var released: [Int32] = []
        for _ in 0..<min(capacity, 5) {
            let handle = Array(live)[Int(rng.next() % UInt64(live.count))]
            live.remove(handle)
            slab.release(handle)
            released.append(handle)
        }
        #expect(slab.liveCount == Int32(live.count))
        for handle in released.reversed() {
            let taken = slab.take()
            #expect(taken == handle)
        }
        for handle in live { #expect(slab[handle] == Int64(handle) * 3) }
    }

    @Test func aSlabUnderRandomTakesAndReleasesNeverHandsOutALiveHandle() {
        var slab = FixedSlab<UInt32>(capacity: 257, memory: PoolMemory(prefault: false))
        defer { slab.deallocate() }
        var live = [Int32: UInt32]()
        var rng = TestRandom(seed: 2)
        for step in 0..<50_000 {
            if rng.next() % 2 == 0, let handle = slab.take() {
                #expect(live[handle] == nil, "handle \(handle) handed out twice")
                #expect(handle >= 0 && handle < 257)
                live[handle] = UInt32(truncatingIfNeeded: step)
                slab[handle] = UInt32(truncatingIfNeeded: step)
            } else if let (handle, _) = live.first {
                live[handle] = nil
                slab.release(handle)
            }
            #expect(slab.liveCount == Int32(live.count) && slab.isFull == (live.count == 257))
        }
        for (handle, value) in live { #expect(slab[handle] == value) }
    }

    @Test func anArrayStartsWithEverySlotBlank() {
        struct Limits: Equatable, BitwiseCopyable {
            var maxQuantity: Int64
            var killed: Bool
        }
        let blank = Limits(maxQuantity: 1_000, killed: false)
        let array = FixedArray(capacity: 300, blank: blank, memory: PoolMemory(prefault: false))
        defer { array.deallocate() }
        #expect(array.capacity == 300)
        for i in Int32(0)..<300 { #expect(array[i] == blank) }
        array[7].killed = true
        array[299] = Limits(maxQuantity: 5, killed: true)
        #expect(array[7] == Limits(maxQuantity: 1_000, killed: true) && array[299].maxQuantity == 5)
        #expect(array[8] == blank)
    }

    @Test func memoryIsZeroFilledAndPrefaultedMemoryTakesNoPageFault() {
        let count = 8 << 20 / MemoryLayout<UInt64>.stride  // 8 MiB
        for prefault in [true, false] {
            let memory = PoolMemory(prefault: prefault)
            let pointer = memory.allocate(UInt64.self, count: count)
            defer { PoolMemory.deallocate(pointer, count: count) }
            let before = Self.minorFaults()
            var sum: UInt64 = 0
            for i in stride(from: 0, to: count, by: 512) {  // one write and read per 4 KiB page
                sum &+= pointer[i]
                pointer[i] = UInt64(i)
            }
            let faults = Self.minorFaults() - before
            #expect(sum == 0, "fresh memory is not zero-filled")
            // One fault per page when lazy; none when prefaulted (AddressSanitizer's shadow memory,
            // an eighth of the size, still faults in that case: hence the ratio, not zero).
            let pages = count / 512
            if prefault {
                #expect(faults * 4 < pages, "\(faults) page faults over \(pages) prefaulted pages")
            } else {
                #expect(faults >= pages, "only \(faults) faults over \(pages) lazy pages")
            }
        }
    }

    /// Minor page faults of the calling thread so far.
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(1, &usage)  // RUSAGE_THREAD (Glibc's module leaves the GNU constant out)
        return usage.ru_minflt
    }
}
