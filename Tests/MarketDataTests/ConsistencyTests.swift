import ChronosCore
import MarketData
import MatchingEngine
import TestSupport
import Testing
import Workload

// The consistency property: the real engine runs seeded flows (about 1.5 million commands across
// this suite), every event feeds a market-data book, and at random points the book's levels —
// and the levels of replicas fed by its updates, some of them dropped on purpose — equal the
// engine's own book. Replicas detect every drop as a gap and recover by snapshot.

/// Commands per flow; their sum is the suite's total (at least a million).
enum ConsistencyPlan {
    static let realistic = [(seed: UInt64(21), commands: 300_000), (seed: 22, commands: 300_000)]
    /// New orders of the hard flow (about 1.97 commands each).
    static let hardNewOrders = 200_000
    static let mixed = [(seed: UInt64(31), commands: 250_000), (seed: 32, commands: 250_000)]
}

/// A test-local flow for what the Workload generators do not send: replaces that shrink, grow
/// or keep the quantity, replaces to a crossing price, fill-or-kill, post-only, market orders and
/// few accounts (self-trade prevention), on three symbols with different tick grids.
struct MixedFlow {
    static let symbols = [
        SymbolConfiguration(name: "PLAIN"),
        SymbolConfiguration(name: "GRID", tickSize: 5, lotSize: 10, minQuantity: 10),
        SymbolConfiguration(name: "NARROW", minPrice: 50, maxPrice: 150),
    ]
    private var rng: SplitMix64
    private var nextID: UInt64 = 1
    private var mids: [Int64] = [1_000, 5_000, 100]

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func next(_ engine: Engine) -> EngineCommand {
        let s = Int(rng.next() % 3)
        let symbol = SymbolID(UInt32(s))
        let tick: Int64 = s == 1 ? 5 : 1
        let lot: Int64 = s == 1 ? 10 : 1
        if rng.next() % 50 == 0 {
            // The mid drifts, inside NARROW's price limits for NARROW.
            mids[s] = min(max(mids[s] + (rng.next() & 1 == 0 ? -tick : tick), 60), s == 2 ? 140 : 50_000)
        }
        let account = AccountID(UInt32(rng.next() % 6))
        let side: Side = rng.next() & 1 == 0 ? .buy : .sell
        let quantity = lot * Int64(1 + rng.next() % 20)
        // Up to 8 ticks behind the mid, or up to 3 through it.
        func price(through: Bool) -> Int64 {
            let ticks = Int64(rng.next() % (through ? 4 : 9))
            let offset = (through ? ticks : -ticks - 1) * tick
            return side == .buy ? mids[s] + offset : mids[s] - offset
        }
        let roll = rng.next() % 100
        if roll < 40 || nextID < 20 {
            return new(
                symbol, account, side, price: price(through: rng.next() % 8 == 0), quantity: quantity,
                postOnly: rng.next() % 10 == 0)
        } else if roll < 50 {
            let tif: TimeInForce = rng.next() & 1 == 0 ? .immediateOrCancel : .fillOrKill
            return new(symbol, account, side, price: price(through: true), quantity: quantity, tif: tif)
        } else if roll < 54 {
            return new(symbol, account, side, type: .market, quantity: quantity)
        }
        // Cancel or replace one of the recent orders (it may have left the book: then a reject).
        let id = OrderID(nextID - 1 - rng.next() % min(nextID - 1, 2_000))
        guard let order = engine.restingOrder(id) else {
            return .cancel(CancelOrder(id: id, account: account, symbol: symbol))
        }
        if roll < 75 {
            return .cancel(CancelOrder(id: id, account: order.account, symbol: order.symbol))
        }
        let orderTick: Int64 = order.symbol.rawValue == 1 ? 5 : 1
        let orderLot: Int64 = order.symbol.rawValue == 1 ? 10 : 1
        var newPrice: Price?
        var newQuantity: Quantity?
        switch rng.next() % 4 {
        case 0: newQuantity = max(orderLot, order.leavesQuantity - orderLot * Int64(1 + rng.next() % 3))
        case 1: newQuantity = order.leavesQuantity + orderLot * Int64(1 + rng.next() % 5)
        case 2: newPrice = order.price + orderTick * (Int64(rng.next() % 7) - 3)
        default:
            // Toward and often through the other side.
            let toward = order.side == .buy ? orderTick : -orderTick
            newPrice = order.price + toward * Int64(1 + rng.next() % 10)
            newQuantity = order.leavesQuantity
        }
        return .replace(
            ReplaceOrder(id: id, account: order.account, symbol: order.symbol, price: newPrice, quantity: newQuantity))
    }

    private mutating func new(
        _ symbol: SymbolID, _ account: AccountID, _ side: Side, type: OrderType = .limit, price: Int64 = 0,
        quantity: Int64, tif: TimeInForce = .goodTillCancel, postOnly: Bool = false
    ) -> EngineCommand {
        defer { nextID += 1 }
        return .new(
            NewOrder(
                id: OrderID(nextID), account: account, symbol: symbol, side: side, type: type, timeInForce: tif,
                price: max(price, 1), quantity: quantity, postOnly: postOnly))
    }
}

@Suite struct ConsistencyTests {
    /// Compares at random points, about once per `checkEvery` commands.
    private static let checkEvery: UInt64 = 1_000

    @Test func planHasAtLeastAMillionCommands() {
        let total =
            ConsistencyPlan.realistic.map(\.commands).reduce(0, +)
            + ConsistencyPlan.mixed.map(\.commands).reduce(0, +)
            + Int(Double(ConsistencyPlan.hardNewOrders) * 1.97)
        #expect(total >= 1_000_000)
    }

    @Test(arguments: ConsistencyPlan.realistic)
    func realisticFlowBookAndReplicasMatchTheEngine(seed: UInt64, commands: Int) async throws {
        try await offThePool {
            var generator = try OrderFlowGenerator(
                .init(seed: seed, symbols: 4, accounts: 30, targetRestingOrders: 4_000))
            // The generator's shadow engine is the engine under test: its events are read after
            // each command.
            let engine = generator.shadow
            let book = try MarketDataBook(
                configuration: .init(symbolCapacity: 4, orderCapacity: engine.configuration.orderCapacity))
            let checker = try FeedChecker(engine: engine, book: book, seed: seed, dropOneIn: 3_000)
            var rng = SplitMix64(seed: seed ^ 0xC0FFEE)
            var batch: [EngineCommand] = []
            for _ in 0..<commands {
                batch.removeAll(keepingCapacity: true)
                generator.generate(1, into: &batch)
                checker.afterCommand()
                if rng.next() % Self.checkEvery == 0 { checker.check() }
            }
            checker.finish()
            try expectConsistent(checker, minimumChecks: commands / Int(Self.checkEvery) / 2)
        }
    }

    @Test func hardFlowBookAndReplicasMatchTheEngine() async throws {
        try await offThePool {
            var generator = try HardFlowGenerator(
                .init(seed: 41, newOrders: ConsistencyPlan.hardNewOrders, depthTicks: 2_000))
            let commands = generator.generate()
            #expect(commands.count >= Int(Double(ConsistencyPlan.hardNewOrders) * 1.9))
            let engine = try Engine(
                configuration: .init(
                    orderCapacity: ConsistencyPlan.hardNewOrders, symbolCapacity: 1, prefault: false))
            try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
            let book = try MarketDataBook(
                configuration: .init(
                    symbolCapacity: 1, orderCapacity: ConsistencyPlan.hardNewOrders, levelCapacityPerSide: 65_536))
            let checker = try FeedChecker(engine: engine, book: book, seed: 41, dropOneIn: 2_000)
            var rng = SplitMix64(seed: 42)
            for command in commands {
                engine.submit(command)
                checker.afterCommand()
                if rng.next() % Self.checkEvery == 0 { checker.check() }
            }
            checker.finish()
            try expectConsistent(checker, minimumChecks: commands.count / Int(Self.checkEvery) / 2)
        }
    }

    @Test(arguments: ConsistencyPlan.mixed)
    func mixedFlowWithReplacesBookAndReplicasMatchTheEngine(seed: UInt64, commands: Int) async throws {
        try await offThePool {
            let engine = try Engine(configuration: .init(orderCapacity: 65_536, symbolCapacity: 3, prefault: false))
            for symbol in MixedFlow.symbols { try engine.addSymbol(symbol) }
            let book = try MarketDataBook(configuration: .init(symbolCapacity: 3, orderCapacity: 65_536))
            let checker = try FeedChecker(engine: engine, book: book, seed: seed, dropOneIn: 1_500)
            var flow = MixedFlow(seed: seed)
            var rng = SplitMix64(seed: seed ^ 0xBEEF)
            var replaces = 0
            var trades = 0
            for _ in 0..<commands {
                let command = flow.next(engine)
                if case .replace = command { replaces += 1 }
                engine.submit(command)
                for event in engine.events { if case .fill = event { trades += 1 } }
                checker.afterCommand()
                if rng.next() % Self.checkEvery == 0 { checker.check() }
            }
            checker.finish()
            #expect(replaces > commands / 20)
            #expect(trades > commands / 20)
            try expectConsistent(checker, minimumChecks: commands / Int(Self.checkEvery) / 2)
        }
    }

    private func expectConsistent(
        _ checker: FeedChecker, minimumChecks: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(checker.problems.isEmpty, "\(checker.problems)", sourceLocation: sourceLocation)
        #expect(checker.checks >= minimumChecks, "\(checker.summary)", sourceLocation: sourceLocation)
        #expect(
            checker.dropped > 0 && checker.gaps > 0 && checker.recoveries > 0, "\(checker.summary)",
            sourceLocation: sourceLocation)
        #expect(checker.book.lastEventSequence == checker.engine.nextSequence - 1, sourceLocation: sourceLocation)
        print("consistency: \(checker.summary)")
    }
}
