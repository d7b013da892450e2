import AllocCounter
import ChronosCore
import MatchingEngine
import Testing
import Workload

/// Steady-state matching must not touch the heap: the gate for the hot-path rules.
@Suite struct ZeroAllocationTests {
    /// One warm-up run (lazy metadata and caches allocate once), then count the second run.
    private func mallocs(_ body: () -> Void) -> Int64 {
        body()
        alloc_counter_begin()
        body()
        return alloc_counter_end()
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func realisticFlowAllocatesNothingPerCommand() throws {
        var generator = try OrderFlowGenerator(.init(seed: 11, symbols: 2, targetRestingOrders: 2_000))
        let warm = generator.generate(20_000)
        let measured = generator.generate(50_000)
        let engine = try Engine(configuration: .init(orderCapacity: 16_384, symbolCapacity: 2))
        try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
        try engine.addSymbol(SymbolConfiguration(name: "SYM1"))
        for command in warm { engine.submit(command) }
        var events = 0
        var index = 0
        // The warm-up pass of `mallocs` runs the first half, the counted pass the second.
        let half = measured.count / 2
        let count = mallocs {
            for _ in 0..<half {
                events &+= engine.submit(measured[index])
                for event in engine.events { events &+= Int(truncatingIfNeeded: event.sequence & 1) }
                index += 1
            }
        }
        #expect(count == 0)
        #expect(events > half)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func everyCommandKindAndOutcomeAllocatesNothing() throws {
        let engine = try Engine(configuration: .init(orderCapacity: 64, symbolCapacity: 1))
        let s = try engine.addSymbol(SymbolConfiguration(name: "X"))
        var nextID: UInt64 = 1
        let a = AccountID(1), b = AccountID(2)
        let count = mallocs {
            func new(
                _ account: AccountID, _ side: Side, _ price: Price, _ qty: Quantity,
                _ tif: TimeInForce = .goodTillCancel, type: OrderType = .limit, postOnly: Bool = false
            ) -> OrderID {
                let id = OrderID(nextID)
                nextID += 1
                engine.submit(
                    .new(
                        NewOrder(
                            id: id, account: account, symbol: s, side: side, type: type,
                            timeInForce: tif, price: price, quantity: qty, postOnly: postOnly)))
                return id
            }
            let resting = new(a, .buy, 100, 10)
            _ = new(a, .buy, 99, 10)
            _ = new(b, .sell, 100, 4, .immediateOrCancel)  // partial maker fill
            _ = new(b, .sell, 1, 100, type: .market)  // sweep, market remainder
            let r2 = new(a, .buy, 98, 10)
            _ = new(a, .sell, 98, 5)  // self-trade prevention
            _ = new(b, .sell, 90, 50, .fillOrKill)  // fok_unfillable
            _ = new(b, .buy, 97, 5, postOnly: true)
            engine.submit(.replace(ReplaceOrder(id: r2, account: a, symbol: s, quantity: 3)))
            engine.submit(.replace(ReplaceOrder(id: r2, account: a, symbol: s, quantity: 30)))
            engine.submit(.replace(ReplaceOrder(id: r2, account: a, symbol: s, price: 96)))
            engine.submit(.replace(ReplaceOrder(id: r2, account: b, symbol: s, price: 96)))  // not_owner
            engine.submit(.cancel(CancelOrder(id: resting, account: a, symbol: s)))  // unknown (filled)
            engine.submit(.cancel(CancelOrder(id: r2, account: a, symbol: s)))
            _ = new(b, .sell, 0, 5)  // invalid_price
            engine.submit(.new(NewOrder(id: OrderID(1), account: a, symbol: s, side: .buy, price: 5, quantity: 1)))
            // Leave the book empty for the next run.
            _ = new(b, .sell, 1, 1_000, type: .market)
            _ = new(a, .buy, 1_000_000, 1_000, .immediateOrCancel)
        }
        #expect(count == 0)
        #expect(engine.invariantViolations().isEmpty)
    }
}
