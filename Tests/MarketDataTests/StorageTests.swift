import ChronosCore
import Testing
import Workload

@testable import MarketData

/// The two fenced storage types against plain Swift collections, over seeded random operations.
@Suite struct StorageTests {
    @Test func restingOrderTableAgreesWithADictionary() {
        var table = RestingOrderTable(capacity: 500)
        var reference: [UInt64: Int64] = [:]
        var rng = SplitMix64(seed: 1)
        for step in 0..<200_000 {
            // Ids from a small range, so that probe runs collide and removals shift entries back.
            let id = rng.next() % 2_000
            if rng.next() % 2 == 0 {
                let absent = table.find(id) == nil
                let full = table.isFull
                let inserted =
                    absent
                    && table.insert(
                        TrackedOrder(
                            id: id, price: Int64(step), leaves: Int64(step), symbol: 0, side: .buy, occupied: true))
                if inserted { reference[id] = Int64(step) }
                #expect(inserted == (absent && !full))
            } else if let slot = table.find(id) {
                let leaves = table[slot: slot].leaves
                #expect(leaves == reference[id])
                table.remove(slot: slot)
                reference[id] = nil
            } else {
                #expect(reference[id] == nil)
            }
            if step % 10_000 == 0 {
                for (id, leaves) in reference {
                    let found = table.find(id).map { table[slot: $0].leaves }
                    #expect(found == leaves)
                }
            }
        }
        let count = table.count
        #expect(count == reference.count)
        #expect(count <= 500)
    }

    @Test func fullTableRefusesAndRecovers() {
        var table = RestingOrderTable(capacity: 3)
        func order(_ id: UInt64) -> TrackedOrder {
            TrackedOrder(id: id, price: 1, leaves: 1, symbol: 0, side: .sell, occupied: true)
        }
        var inserted = (1...3).map { table.insert(order($0)) }
        #expect(inserted == [true, true, true])
        let full = table.isFull
        #expect(full)
        inserted = [table.insert(order(4))]
        #expect(inserted == [false])
        if let slot = table.find(2) { table.remove(slot: slot) }
        inserted = [table.insert(order(4))]
        #expect(inserted == [true])
        let found = (table.find(2), table.find(4))
        #expect(found.0 == nil && found.1 != nil)
    }

    @Test func priceLaddersStaySortedBestLastAndAgreeWithADictionary() {
        var ladders = PriceLadders(ladderCount: 2, capacity: 300)
        var reference: [[Int64: (Int64, Int64)]] = [[:], [:]]
        var rng = SplitMix64(seed: 2)
        for _ in 0..<100_000 {
            let k = Int(rng.next() % 2)
            let price = Int64(rng.next() % 400)
            let current = reference[k][price]
            let quantity = Int64(1 + rng.next() % 50)
            let change: LadderChange
            if current == nil || rng.next() % 2 == 0 {
                change = ladders.adjust(k, price: price, quantityDelta: quantity, orderDelta: 1)
                if change != .full { reference[k][price] = ((current?.0 ?? 0) + quantity, (current?.1 ?? 0) + 1) }
            } else {
                let (q, n) = current!
                change = ladders.adjust(
                    k, price: price, quantityDelta: -min(quantity, q), orderDelta: quantity >= q ? -n : 0)
                reference[k][price] = quantity >= q ? nil : (q - quantity, n)
            }
            let count = ladders.count(k)
            #expect(count == reference[k].count)
            _ = change
        }
        for k in 0..<2 {
            let best = k == 0 ? reference[k].keys.max() : reference[k].keys.min()
            let bestPrice = ladders.best(k)?.price
            #expect(bestPrice == best)
            var previous: Int64?
            for rank in 0..<ladders.count(k) {
                guard let level = ladders.level(k, rank: rank) else { break }
                let expected = reference[k][level.price].map {
                    PriceLevel(price: level.price, quantity: $0.0, orderCount: $0.1)
                }
                #expect(expected == level)
                if let previous { #expect(k == 0 ? level.price < previous : level.price > previous) }
                previous = level.price
            }
        }
    }

    @Test func ladderSetReportsWhatItDid() {
        var ladders = PriceLadders(ladderCount: 2, capacity: 2)
        func level(_ price: Int64, _ quantity: Int64, _ count: Int64) -> PriceLevel {
            PriceLevel(price: price, quantity: quantity, orderCount: count)
        }
        var changes: [LadderChange] = []
        changes.append(ladders.set(1, price: 10, quantity: 5, orderCount: 1))
        changes.append(ladders.set(1, price: 10, quantity: 7, orderCount: 2))
        changes.append(ladders.set(1, price: 11, quantity: 1, orderCount: 1))
        changes.append(ladders.set(1, price: 12, quantity: 1, orderCount: 1))
        changes.append(ladders.set(1, price: 13, quantity: 0, orderCount: 0))
        let bestBefore = ladders.best(1)?.price
        changes.append(ladders.set(1, price: 10, quantity: 0, orderCount: 0))
        let bestAfter = ladders.best(1)?.price
        changes.append(ladders.set(7, price: 1, quantity: 1, orderCount: 1))  // no such ladder
        #expect(
            changes == [
                .updated(.new, level(10, 5, 1), balanced: true), .updated(.change, level(10, 7, 2), balanced: true),
                .updated(.new, level(11, 1, 1), balanced: true), .full, .missing,
                .updated(.delete, level(10, 0, 0), balanced: true), .missing,
            ])
        #expect(bestBefore == 10 && bestAfter == 11)
    }
}
