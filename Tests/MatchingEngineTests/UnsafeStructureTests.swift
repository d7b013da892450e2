import Testing
import Workload

@testable import MatchingEngine

/// The fenced unsafe types, checked against the standard library's collections.
@Suite struct UnsafeStructureTests {
    @Test func orderIndexMatchesDictionaryUnderRandomInsertsAndRemoves() {
        var index = OrderIndex(maxEntries: 4_096, memory: PoolMemory(prefault: true, hugePages: false))
        defer { index.deallocate() }
        var model: [UInt64: Int32] = [:]
        var rng = SplitMix64(seed: 3)
        var keys: [UInt64] = []
        for step in 0..<200_000 {
            let roll = rng.next() % 10
            if roll < 6 && model.count < 4_096 {
                // Mix dense, clustered and huge keys (0 and UInt64.max included).
                let key: UInt64 =
                    switch rng.next() % 4 {
                    case 0: UInt64(step)
                    case 1: rng.next()
                    case 2: UInt64.max - rng.next() % 64
                    default: rng.next() % 64
                    }
                if model[key] == nil {
                    let handle = Int32(truncatingIfNeeded: rng.next() % 1_000_000)
                    index.insert(key, handle: handle)
                    model[key] = handle
                    keys.append(key)
                }
            } else if !keys.isEmpty {
                let i = Int(rng.next() % UInt64(keys.count))
                let key = keys.swapAt(i)
                index.remove(key)
                model[key] = nil
            }
            if step % 997 == 0 {
                for (k, v) in model { #expect(index.find(k) == v) }
                #expect(index.find(0xDEAD_BEEF_0000_0001) == (model[0xDEAD_BEEF_0000_0001] ?? -1))
            }
        }
        #expect(index.count == model.count)
        for (k, v) in model { #expect(index.find(k) == v) }
    }

    @Test func usedOrderIDsMatchesSetAndRefusesToGrowPastCapacity() {
        var used = UsedOrderIDs(minimumBlocks: 100, memory: PoolMemory(prefault: false, hugePages: false))
        defer { used.deallocate() }
        var model = Set<UInt64>()
        var rng = SplitMix64(seed: 5)
        // Dense ids share blocks: thousands fit in a small table.
        for id in UInt64(0)..<5_000 where rng.next() % 3 != 0 {
            #expect(used.canInsert(id))
            used.insert(id)
            model.insert(id)
        }
        for id in UInt64(0)..<5_100 { #expect(used.contains(id) == model.contains(id)) }
        // Scattered ids take a block each until the table is full.
        var refused = 0
        for _ in 0..<1_000 {
            let id = rng.next()
            if used.canInsert(id) {
                used.insert(id)
                model.insert(id)
            } else {
                refused += 1
            }
        }
        #expect(refused > 0)
        #expect(used.blockCount <= used.maxBlocks)
        for id in model { #expect(used.contains(id)) }
        #expect(!used.contains(UInt64.max) || model.contains(UInt64.max))
    }

    @Test func fixedSlabReusesReleasedHandlesAndReportsFull() {
        var slab = FixedSlab<Int64>(capacity: 3, memory: PoolMemory(prefault: true, hugePages: true))
        defer { slab.deallocate() }
        let a = slab.allocate(), b = slab.allocate(), c = slab.allocate()
        #expect([a, b, c] == [0, 1, 2])
        #expect(slab.isFull)
        #expect(slab.allocate() == -1)
        slab[b] = 42
        slab.release(b)
        #expect(!slab.isFull)
        #expect(slab.allocate() == b)
        #expect(slab.liveCount == 3)
    }
}

private extension Array {
    /// Removes and returns the element at `i` in O(1), moving the last element into its place.
    mutating func swapAt(_ i: Int) -> Element {
        swapAt(i, count - 1)
        return removeLast()
    }
}
