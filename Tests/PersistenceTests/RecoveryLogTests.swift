import ChronosCore
import MatchingEngine
import Persistence
import TestSupport
import Testing

/// `EventStore.recoveryLog(shard:)`: what a shard is rebuilt from, on both stores.
@Suite struct RecoveryLogTests {
    func items(_ events: [EngineEvent], shard: Int = 0) -> [StoreItem] {
        events.map { .event(shard: shard, $0, clientTimestampNanos: 0) }
    }

    @Test(arguments: StoreKind.available)
    func theLogIsEveryStoredEventUpToTheMarkAndRebuildsTheEngine(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            #expect(try store.recoveryLog(shard: 0).events.isEmpty)  // a new store: a fresh engine

            // A real engine's events (ids and numbering its own), stored in two batches.
            let engine = try Engine(configuration: EngineConfiguration(orderCapacity: 100))
            let symbol = try engine.addSymbol(SymbolConfiguration(name: "AAPL"))
            var published: [EngineEvent] = []
            let commands: [EngineCommand] = [
                .new(
                    NewOrder(
                        id: OrderID(1), account: AccountID(1), symbol: symbol, side: .sell, price: 100, quantity: 10)),
                .new(
                    NewOrder(id: OrderID(2), account: AccountID(2), symbol: symbol, side: .buy, price: 100, quantity: 4)
                ),
                .new(
                    NewOrder(id: OrderID(2), account: AccountID(2), symbol: symbol, side: .buy, price: 100, quantity: 4)
                ),
                .replace(ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: symbol, price: 101)),
                .new(
                    NewOrder(id: OrderID(3), account: AccountID(3), symbol: symbol, side: .buy, price: 90, quantity: 5)),
                .cancel(CancelOrder(id: OrderID(3), account: AccountID(3), symbol: symbol)),
            ]
            for command in commands {
                engine.submit(command)
                published += engine.events
            }
            try store.write(batch: items(Array(published[0..<3])))
            try store.write(batch: items(Array(published[3...])))
            try store.write(batch: items(sampleEvents(), shard: 1))  // another shard's log stays apart

            let log = try store.recoveryLog(shard: 0)
            #expect(log.events == published)
            #expect(log.highWaterMark == UInt64(published.count))
            #expect(log.eventsBeyondMark == 0)
            let recovered = try Engine(configuration: EngineConfiguration(orderCapacity: 100))
            try recovered.addSymbol(SymbolConfiguration(name: "AAPL"))
            _ = try recovered.recover(from: log.events)
            #expect(recovered.stateHash() == engine.stateHash())
        }
    }

    @Test(arguments: StoreKind.available)
    func eventsAfterAHoleAreNotPartOfTheLog(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            let events = sampleEvents()
            try store.write(batch: items(Array(events[0..<3]) + Array(events[4...])))  // 4 is missing
            let log = try store.recoveryLog(shard: 0)
            #expect(log.events == Array(events[0..<3]))
            #expect(log.highWaterMark == 3)
            #expect(log.eventsBeyondMark == events.count - 4)
        }
    }

    @Test(arguments: StoreKind.available)
    func aStoreThatLostEventsCannotRebuildTheBooks(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            let events = sampleEvents()
            try store.write(
                batch: items(Array(events[0..<3])) + [.gap(shard: 0, from: 4, to: 5)] + items(Array(events[5...])))
            #expect(try store.highWaterMark(shard: 0) == UInt64(events.count))
            #expect(throws: EventStoreError.self) { try store.recoveryLog(shard: 0) }
            do {
                _ = try store.recoveryLog(shard: 0)
            } catch {
                #expect("\(error)".contains("events 4–5 were lost"))
            }
        }
    }
}
