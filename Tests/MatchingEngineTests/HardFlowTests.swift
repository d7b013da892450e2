import AllocCounter
import ChronosCore
import Testing
import Workload

@testable import MatchingEngine

/// A prefaulted engine takes no page fault and makes no allocation on the hard flow (random ids,
/// IOC, stale cancels, modifies that reinsert, a swinging mid, deep books), and keeps its price
/// trees and tables sound through it.
@Suite struct HardFlowTests {
    private func hardFlow(newOrders: Int) throws -> (Engine, [EngineCommand]) {
        var generator = try HardFlowGenerator(.init(seed: 5, newOrders: newOrders, depthTicks: 5_000))
        let commands = generator.generate()
        let engine = try Engine(configuration: .init(orderCapacity: 65_536, symbolCapacity: 1))
        try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
        return (engine, commands)
    }

    @Test func prefaultedEngineTakesNoPageFaultOnTheHardFlow() throws {
        let (engine, commands) = try hardFlow(newOrders: 60_000)
        let warm = commands.count / 4
        for command in commands[..<warm] { engine.submit(command) }
        var events = 0
        let before = threadPageFaults()
        for command in commands[warm...] { events &+= engine.submit(command) }
        let faults = threadPageFaults() - before
        #expect(faults == 0, "\(faults) page faults in \(commands.count - warm) commands")
        #expect(events > commands.count - warm)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func engineWithoutPrefaultFaultsItsPagesInLazily() throws {
        // The counterpart that shows the measurement can see faults: the same pools left to be
        // faulted in as they are first touched.
        let engine = try Engine(configuration: .init(orderCapacity: 262_144, symbolCapacity: 1, prefault: false))
        try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
        let before = threadPageFaults()
        for i in 0..<50_000 {
            engine.submit(
                .new(
                    NewOrder(
                        id: OrderID(UInt64(i + 1) &* 0x9E37_79B9), account: AccountID(1), symbol: SymbolID(0),
                        side: .buy, price: Int64(1 + i), quantity: 1)))
        }
        #expect(threadPageFaults() - before > 100)
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func hardFlowAllocatesNothingPerCommand() throws {
        let (engine, commands) = try hardFlow(newOrders: 30_000)
        let half = commands.count / 2
        for command in commands[..<half] { engine.submit(command) }
        var byKind: [String: Int64] = [:]
        for command in commands[half...] {
            alloc_counter_begin()
            engine.submit(command)
            let n = alloc_counter_end()
            if n > 0 { byKind["\(command)".prefix(8).description, default: 0] += n }
        }
        #expect(byKind.isEmpty, "\(byKind)")
    }

    @Test func hardFlowKeepsEveryInvariantAndMatchesTheReferenceHash() throws {
        // Checked every few thousand commands: the price trees against the level lists, the id
        // tables against the books; the same flow twice gives the same state.
        let (engine, commands) = try hardFlow(newOrders: 20_000)
        let (again, _) = try hardFlow(newOrders: 20_000)
        for (i, command) in commands.enumerated() {
            engine.submit(command)
            again.submit(command)
            if i % 4_999 == 0 {
                let problems = engine.invariantViolations()
                #expect(problems.isEmpty, "after command \(i): \(problems.prefix(3))")
                if !problems.isEmpty { return }
            }
        }
        #expect(engine.invariantViolations().isEmpty)
        #expect(engine.stateHash() == again.stateHash())
    }
}

/// The price tree alone: levels created and removed at random prices keep the tree a treap whose
/// in-order walk is the level list, and every level is found by price.
@Suite struct PriceTreeTests {
    @Test func randomLevelsKeepTreeAndListInStep() throws {
        let engine = try Engine(configuration: .init(orderCapacity: 8_192, symbolCapacity: 1, prefault: false))
        try engine.addSymbol(SymbolConfiguration(name: "X"))
        var rng = SplitMix64(seed: 99)
        var resting: [(OrderID, Side)] = []
        var nextID: UInt64 = 1
        for step in 0..<40_000 {
            if resting.isEmpty || rng.next() % 3 != 0 {
                // Bids below 50,000 and asks above it: never crossing, so every order rests.
                let side: Side = rng.next() & 1 == 0 ? .buy : .sell
                let offset = Int64(1 + rng.next() % 3_000)
                let price = side == .buy ? 50_000 - offset : 50_000 + offset
                let id = OrderID(nextID)
                nextID += 1
                engine.submit(
                    .new(
                        NewOrder(
                            id: id, account: AccountID(UInt32(rng.next() % 50)), symbol: SymbolID(0), side: side,
                            price: price, quantity: 1)))
                if engine.restingOrder(id) != nil { resting.append((id, side)) }
            } else {
                let victim = Int(rng.next() % UInt64(resting.count))
                let (id, _) = resting.remove(at: victim)
                let order = try #require(engine.restingOrder(id))
                engine.submit(.cancel(CancelOrder(id: id, account: order.account, symbol: SymbolID(0))))
            }
            if step % 2_000 == 0 {
                let problems = engine.invariantViolations()
                #expect(problems.isEmpty, "step \(step): \(problems.prefix(3))")
                if !problems.isEmpty { return }
            }
        }
        // Every resting order's level is found by its price through the tree.
        for (id, side) in resting.prefix(500) {
            let order = try #require(engine.restingOrder(id))
            #expect(engine.quantity(at: order.price, side: side, symbol: SymbolID(0)) >= order.leavesQuantity)
        }
    }
}

/// An embedder cancels and replaces by order id alone.
@Suite struct EmbeddingTests {
    @Test func cancelAndReplaceByIDAloneUseTheOrdersOwnAccountAndSymbol() throws {
        let engine = try Engine(configuration: .init(orderCapacity: 64, symbolCapacity: 2, prefault: false))
        try engine.addSymbol(SymbolConfiguration(name: "A"))
        let b = try engine.addSymbol(SymbolConfiguration(name: "B"))
        engine.submit(
            .new(NewOrder(id: OrderID(7), account: AccountID(42), symbol: b, side: .sell, price: 100, quantity: 5)))
        #expect(engine.replace(OrderID(7), price: 101) == 1)
        guard case .replaced(let replaced) = engine.events[0] else {
            Issue.record("expected replaced, got \(engine.events[0])")
            return
        }
        #expect(replaced.account == AccountID(42) && replaced.symbol == b && replaced.price == 101)
        #expect(engine.cancel(OrderID(7)) == 1)
        guard case .canceled(let canceled) = engine.events[0] else {
            Issue.record("expected canceled, got \(engine.events[0])")
            return
        }
        #expect(canceled.account == AccountID(42) && canceled.symbol == b && canceled.quantity == 5)
        #expect(engine.restingOrderCount == 0)
        // Gone now: refused unknown_order, sequence numbers still contiguous.
        let next = engine.nextSequence
        #expect(engine.cancel(OrderID(7)) == 1)
        guard case .rejected(let rejected) = engine.events[0] else {
            Issue.record("expected rejected, got \(engine.events[0])")
            return
        }
        #expect(rejected.reason == .unknownOrder && rejected.command == .cancel && rejected.sequence == next)
        #expect(engine.replace(OrderID(99), quantity: 3) == 1)
        #expect(engine.invariantViolations().isEmpty)
    }
}
