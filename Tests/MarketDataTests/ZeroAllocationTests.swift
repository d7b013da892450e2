import AllocCounter
import ChronosCore
import MarketData
import MatchingEngine
import Testing
import Workload

/// Once warmed up, applying an event to the book and an update to a replica touches no heap.
@Suite struct ZeroAllocationTests {
    /// Runs `warm` commands of a flow, then counts the mallocs of `book.apply` (and, separately,
    /// of the replicas' `apply`) over `measured` more.
    private func mallocs(
        engine: Engine, flow: (Engine) -> EngineCommand, warm: Int, measured: Int
    ) throws -> (book: Int64, replicas: Int64, events: Int) {
        let book = try MarketDataBook(
            configuration: .init(symbolCapacity: engine.symbolCount, orderCapacity: engine.configuration.orderCapacity))
        let replicas = try (0..<engine.symbolCount).map { try MarketDataReplica(symbol: SymbolID(UInt32($0))) }
        var sink = MarketDataUpdateBuffer()
        var bookMallocs: Int64 = 0
        var replicaMallocs: Int64 = 0
        var events = 0
        for i in 0..<(warm + measured) {
            engine.submit(flow(engine))
            let counting = i >= warm
            for event in engine.events {
                sink.clear()
                if counting { alloc_counter_begin() }
                let outcome = book.apply(event, into: &sink)
                if counting { bookMallocs += alloc_counter_end() }
                #expect(outcome == .applied)
                for update in sink.updates {
                    let replica = replicas[Int(update.symbol.rawValue)]
                    if counting { alloc_counter_begin() }
                    replica.apply(update)
                    if counting { replicaMallocs += alloc_counter_end() }
                }
                if counting { events += 1 }
            }
        }
        // The counterpart that shows the counter sees this code's allocations: a snapshot's arrays.
        alloc_counter_begin()
        let snapshot = book.snapshot(SymbolID(0))
        let snapshotMallocs = alloc_counter_end()
        #expect(snapshotMallocs > 0 && snapshot != nil)
        return (bookMallocs, replicaMallocs, events)
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func realisticFlowAllocatesNothingPerEvent() throws {
        var generator = try OrderFlowGenerator(.init(seed: 5, symbols: 2, accounts: 30, targetRestingOrders: 2_000))
        let commands = generator.generate(60_000)
        let engine = try Engine(configuration: .init(orderCapacity: 16_384, symbolCapacity: 2))
        try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
        try engine.addSymbol(SymbolConfiguration(name: "SYM1"))
        var next = 0
        let result = try mallocs(
            engine: engine,
            flow: { _ in
                defer { next += 1 }
                return commands[next]
            }, warm: 20_000, measured: 40_000)
        #expect(result.book == 0, "\(result.book) mallocs in \(result.events) events")
        #expect(result.replicas == 0, "\(result.replicas) mallocs")
        #expect(result.events > 40_000)
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func replacesAndEveryOrderKindAllocateNothingPerEvent() throws {
        let engine = try Engine(configuration: .init(orderCapacity: 16_384, symbolCapacity: 3))
        for symbol in MixedFlow.symbols { try engine.addSymbol(symbol) }
        var flow = MixedFlow(seed: 9)
        let result = try mallocs(engine: engine, flow: { flow.next($0) }, warm: 20_000, measured: 40_000)
        #expect(result.book == 0, "\(result.book) mallocs in \(result.events) events")
        #expect(result.replicas == 0, "\(result.replicas) mallocs")
    }
}
