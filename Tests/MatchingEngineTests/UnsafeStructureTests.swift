import FencedCollections
import Testing
import Workload

@testable import MatchingEngine

/// The engine's own fenced table (the shared ones are tested in Packages/ChronosEngine), checked
/// against the standard library's Set.
@Suite struct UnsafeStructureTests {
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
}
