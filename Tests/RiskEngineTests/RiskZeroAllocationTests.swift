import AllocCounter
import ChronosCore
import RiskEngine
import Testing

/// Checking an order and following the engine's events must not touch the heap (debug and
/// release: `make test` runs `--filter ZeroAllocationTests` in release too).
@Suite struct RiskZeroAllocationTests {
    private func mallocs(_ body: () -> Void) -> Int64 {
        body()
        alloc_counter_begin()
        body()
        return alloc_counter_end()
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func checksAndEventsAllocateNothing() {
        let h = RiskHarness {
            $0.orderCapacity = 1_024
            $0.maxMessagesPerSecond = 1_000
            $0.maxOpenOrders = 100
        }
        var limits = h.risk.symbolLimits(h.symbol)!
        limits.referencePrice = 100
        h.risk.setSymbolLimits(limits, for: h.symbol)
        var nextID: UInt64 = 1
        var now: UInt64 = 0
        var rejects = 0
        // A pass, then rejects by the band, the quantity limit and the notional limit.
        // (Iterating an array of tuples allocates in debug builds: two arrays, one index.)
        let prices: [Price] = [100, 1_000, 100, 100_000]
        let quantities: [Quantity] = [10, 1, 2_000_000, 1_000]
        let count = mallocs {
            for _ in 0..<200 {
                let maker = nextID
                let taker = nextID + 1
                nextID += 2
                now += 1_000_000
                for i in 0..<prices.count {
                    if h.check(nextID, 3, .buy, prices[i], quantities[i], now: now).action == .reject { rejects += 1 }
                    h.rejectedNew(nextID, 3, .postOnlyWouldCross)
                    nextID += 1
                }
                if h.check(nextID, 3, .sell, 0, 5, type: .market, now: now).action == .pass {
                    h.canceled(nextID, 3, .sell, 5, reason: .marketRemainder)
                }
                nextID += 1
                h.enter(maker, 1, .sell, 100, 10)
                _ = h.replace(maker, 1, price: 101, now: now)
                h.replaced(maker, 1, .sell, price: 101, qty: 10)
                h.enter(taker, 2, .buy, 101, 4)
                h.fill(taker: taker, 2, .buy, maker: maker, 1, price: 101, qty: 4, takerLeaves: 0, makerLeaves: 6)
                h.canceled(maker, 1, .sell, 6)
                h.risk.setKillSwitch(account: AccountID(4), on: true)
                if h.check(nextID, 4, .buy, 100, 1, now: now).action == .reject { rejects += 1 }
                nextID += 1
            }
        }
        #expect(count == 0)
        #expect(rejects > 0)
        #expect(h.risk.workingOrderCount == 0)
    }
}
