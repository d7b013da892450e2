import FencedCollections
import Testing

/// ``IDTable`` against a Dictionary: every operation, dense, clustered, scattered and extreme keys,
/// a full table, and backward-shift deletion leaving every probe run intact.
@Suite struct IDTableTests {
    @Test(arguments: [1, 16, 4_096])
    func matchesADictionaryUnderRandomInsertsAndRemoves(_ maxEntries: Int) {
        var table = IDTable(maxEntries: maxEntries, memory: PoolMemory(prefault: true))
        defer { table.deallocate() }
        var model: [UInt64: Int32] = [:]
        var keys: [UInt64] = []
        var rng = TestRandom(seed: UInt64(maxEntries))
        for step in 0..<100_000 {
            let roll = rng.next() % 10
            if roll < 6 {
                let key: UInt64 =
                    switch rng.next() % 5 {
                    case 0: UInt64(step)  // dense, as a gateway's counters
                    case 1: rng.next()  // scattered
                    case 2: UInt64.max - rng.next() % 64  // the top of the range
                    case 3: rng.next() % 64  // 0 included
                    default: (rng.next() % 8) << 40  // many keys sharing a home run
                    }
                let handle = Int32(truncatingIfNeeded: rng.next() % 1_000_000)
                if model[key] != nil {
                    #expect(table.handle(for: key) == model[key])
                } else if table.isFull {
                    #expect(model.count == maxEntries)
                    let inserted = table.insertIfRoom(key, handle: handle)
                    #expect(!inserted)
                    #expect(table.handle(for: key) == nil)
                } else {
                    if rng.next() % 2 == 0 {
                        table.insert(key, handle: handle)
                    } else {
                        let inserted = table.insertIfRoom(key, handle: handle)
                        #expect(inserted)
                    }
                    model[key] = handle
                    keys.append(key)
                }
            } else if roll < 9, !keys.isEmpty {
                let i = Int(rng.next() % UInt64(keys.count))
                keys.swapAt(i, keys.count - 1)
                let key = keys.removeLast()
                if rng.next() % 2 == 0 {
                    table.remove(key)
                } else {
                    let removed = table.removeIfPresent(key)
                    #expect(removed)
                }
                model[key] = nil
            } else {
                // A key that is absent: found nowhere, removed as nothing.
                let key = rng.next() | 1 << 63
                if model[key] == nil {
                    #expect(table.find(key) == -1)
                    let removed = table.removeIfPresent(key)
                    #expect(!removed)
                }
            }
            #expect(table.count == model.count)
            if step % 499 == 0 { Self.expectEqual(table, model) }
        }
        Self.expectEqual(table, model)
    }

    @Test func handlesZeroAndTheLargestHandle() {
        var table = IDTable(maxEntries: 4, memory: PoolMemory(prefault: false))
        defer { table.deallocate() }
        table.insert(0, handle: 0)
        table.insert(UInt64.max, handle: Int32.max - 1)
        #expect(table.find(0) == 0 && table.handle(for: UInt64.max) == Int32.max - 1)
        #expect(table.find(1) == -1)
    }

    static func expectEqual(_ table: IDTable, _ model: [UInt64: Int32]) {
        for (key, handle) in model { #expect(table.handle(for: key) == handle) }
        var seen: [Int32] = []
        table.forEachHandle { seen.append($0) }
        #expect(seen.sorted() == model.values.sorted())
    }
}

/// SplitMix64: a seeded generator, so a failure reproduces.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
