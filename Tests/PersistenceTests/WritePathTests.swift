import ChronosCore
import MatchingEngine
import TestSupport
import Testing
import Workload

@testable import Persistence

/// The stores' set-based write paths against ``LegacySQLWriter`` (the per-event write path they
/// replaced): seeded streams of real engine events on two shards — fills, partial fills, cancels,
/// replaces, rejects of every command, duplicate order ids — in batches of random sizes that
/// straddle orders' lives, with replays of stored ranges, batches written out of order (a hole,
/// then its fill) and lost ranges recorded as gaps, must leave exactly the same six tables.
@Suite struct WritePathTests {
    @Test(arguments: StoreKind.available, [1, 2, 3, 4])
    func randomizedStreamsLeaveTheTablesTheLegacyPathLeaves(_ kind: StoreKind, seed: UInt64) async throws {
        try await offThePool {
            let store = try #require(try kind.makeStore() as? any SQLEventStore)
            let oracle = try #require(try kind.makeStore() as? any SQLEventStore)
            defer {
                store.close()
                oracle.close()
            }
            var random = SplitMix64(seed: seed)
            let writes = try randomWrites(&random)
            for (batch, seen) in writes {
                try store.write(batch: batch, seen: seen)
                try oracle.writeThroughLegacyPath(batch: batch, seen: seen)
            }
            for table in Self.tables {
                let stored = try tableRows(store, table)
                let expected = try tableRows(oracle, table)
                #expect(stored.count == expected.count, "\(table): row count")
                if let index = zip(stored, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset
                {
                    Issue.record(
                        "\(table): row \(index) differs: \(stored[index]) but the legacy path has \(expected[index])")
                }
            }
            // The streams did what they were meant to: every kind of effect is in the tables.
            let statuses = Set(try store.orders().map(\.status))
            #expect(statuses == [.open, .filled, .canceled, .rejected])
            #expect(try !store.trades().isEmpty && !store.gaps(shard: 0).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func anEventTwiceInOneBatchHasItsEffectsOnce(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            let events = sampleEvents()
            try store.write(batch: items(Array(events[0..<3]) + [events[2]] + Array(events[3...])))
            #expect(try store.events(shard: 0) == events)
            let orders = Dictionary(uniqueKeysWithValues: try store.orders().map { ($0.id.rawValue, $0) })
            #expect(orders[1]?.cumulativeQuantity == 4 && orders[2]?.cumulativeQuantity == 4)
            #expect(try store.trades().count == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func aHoleFilledLongAfterwardsMovesTheMarkOverEverythingStoredPastIt(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            var random = SplitMix64(seed: 9)
            let events = try engineEvents(&random, commands: 600)
            #expect(events.count > 600)
            // 1…10, then everything past 20 in batches of 50 (the mark waits at 10), then a gap
            // recorded over part of the hole and the rest of it as events: the mark walks to the end.
            try store.write(batch: items(Array(events[0..<10])))
            for start in stride(from: 20, to: events.count, by: 50) {
                try store.write(batch: items(Array(events[start..<min(start + 50, events.count)])))
                #expect(try store.highWaterMark(shard: 0) == 10)
            }
            try store.write(batch: [.gap(shard: 0, from: 11, to: 15)])
            #expect(try store.highWaterMark(shard: 0) == 15)
            try store.write(batch: items(Array(events[15..<20])))
            #expect(try store.highWaterMark(shard: 0) == UInt64(events.count))
        }
    }

    /// PostgreSQL's write path reads which of a batch's events the store holds (one range per run
    /// of consecutive sequences) and inserts only the others, without a conflict clause: a batch
    /// whose events are partly stored — scattered singles and a run, one event twice — then a batch
    /// past everything stored must leave the tables the legacy path leaves.
    @Test(arguments: StoreKind.available)
    func aBatchWhoseEventsPartlyExistStoresAndAppliesOnlyTheOthers(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try #require(try kind.makeStore() as? any SQLEventStore)
            let oracle = try #require(try kind.makeStore() as? any SQLEventStore)
            defer {
                store.close()
                oracle.close()
            }
            var random = SplitMix64(seed: 5)
            let events = try engineEvents(&random, commands: 300)
            try #require(events.count > 260)
            // Received at a time of their own, so that both stores record the same.
            func timed(_ events: [EngineEvent]) -> [StoreItem] {
                events.map {
                    .event(shard: 0, $0, clientTimestampNanos: $0.sequence, recordedAtNanos: 1_000_000 + $0.sequence)
                }
            }
            let scattered = events.enumerated().filter { $0.offset % 3 == 1 || (100..<150).contains($0.offset) }
            let batches = [
                timed(scattered.map(\.element)),
                timed(Array(events[0..<250]) + [events[120], events[201]]),
                timed(Array(events[250...])),
            ]
            for batch in batches {
                try store.write(batch: batch, seen: [0: 1])
                try oracle.writeThroughLegacyPath(batch: batch, seen: [0: 1])
            }
            #expect(try store.events(shard: 0) == events)
            #expect(try store.highWaterMark(shard: 0) == events.last?.sequence)
            for table in Self.tables {
                #expect(try tableRows(store, table) == tableRows(oracle, table), "\(table)")
            }
        }
    }

    /// `orders` on PostgreSQL leaves room on its pages for HOT updates, on a new store and on one
    /// made before (migrating gives it the parameter).
    @Test(.enabled(if: StoreKind.available.contains(.postgresql), "needs scripts/with-postgres.sh"))
    func postgresqlOrdersLeaveRoomForUpdatesOnTheirPage() async throws {
        try await offThePool {
            let store = try #require(try StoreKind.postgresql.makeStore() as? PostgresEventStore)
            defer { store.close() }
            let options = "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'orders'::regclass"
            #expect(try tableRows(store, options) == [[.text(SQLDialect.ordersFillFactor)]])
            try store.read { try $0.execute("ALTER TABLE orders RESET (fillfactor)", []) }
            #expect(try tableRows(store, options) == [[.null]])
            try store.migrate()
            #expect(try tableRows(store, options) == [[.text(SQLDialect.ordersFillFactor)]])
        }
    }

    /// COPY's text rows: integers of every sign and size, NULLs, words, and bytes in hex.
    @Test func copyRowsAreInPostgresqlTextFormat() {
        var rows = PostgresCopyRows(capacity: 16)
        rows.append(0)
        rows.append(-42)
        rows.append(nil)
        rows.append(Int64.min)
        rows.append(Int64.max)
        rows.append(word: "open")
        rows.append(bytes: [0x00, 0x9f, 0xff][...])
        rows.endRow()
        rows.append(7)
        rows.endRow()
        #expect(
            rows.buffer.getString(at: rows.buffer.readerIndex, length: rows.buffer.readableBytes)
                == "0\t-42\t\\N\t-9223372036854775808\t9223372036854775807\topen\t\\\\x009fff\n7\n")
    }

    static let tables = [
        "SELECT * FROM events ORDER BY shard, sequence", "SELECT * FROM orders ORDER BY shard, order_id",
        "SELECT * FROM trades ORDER BY shard, trade_id", "SELECT * FROM gaps ORDER BY shard, from_sequence",
        "SELECT * FROM high_water_marks ORDER BY shard", "SELECT * FROM persister_progress ORDER BY shard",
    ]

    func tableRows(_ store: any SQLEventStore, _ sql: String) throws -> [[SQLValue]] {
        try store.read { try $0.query(sql, []) }
    }
}

/// A seeded session of one engine: new orders (limit and market, good-till-cancel and IOC, some
/// with an invalid price or a used id), cancels and replaces of resting or unknown orders, so the
/// events hold partial and full fills, every cancel reason the flow can produce and rejects of
/// every command.
func engineEvents(_ random: inout SplitMix64, commands: Int) throws -> [EngineEvent] {
    let engine = try Engine(configuration: EngineConfiguration(orderCapacity: 4_096))
    let symbol = try engine.addSymbol(SymbolConfiguration(name: "AAPL", maxQuantity: 1_000, maxPrice: 1_000))
    var events: [EngineEvent] = []
    var nextID: UInt64 = 1
    var sent: [(id: OrderID, account: AccountID)] = []
    for _ in 0..<commands {
        let roll = random.next() % 100
        let account = AccountID(UInt32(1 + random.next() % 5))
        if roll < 55 || sent.isEmpty {
            let reused = roll < 3 && !sent.isEmpty
            let id = reused ? sent[Int(random.next() % UInt64(sent.count))].id : OrderID(nextID)
            if !reused { nextID += 1 }
            let market = random.next() % 12 == 0
            let price: Price = roll == 4 ? 0 : 95 + Price(random.next() % 11)
            sent.append((id, account))
            engine.submit(
                .new(
                    NewOrder(
                        id: id, account: account, symbol: symbol, side: random.next() % 2 == 0 ? .buy : .sell,
                        type: market ? .market : .limit,
                        timeInForce: market || random.next() % 6 == 0 ? .immediateOrCancel : .goodTillCancel,
                        price: market ? 0 : price, quantity: 1 + Quantity(random.next() % 20))))
        } else if roll < 78 {
            let target = sent[Int(random.next() % UInt64(sent.count))]
            let unknown = random.next() % 10 == 0
            engine.submit(
                .cancel(
                    CancelOrder(
                        id: unknown ? OrderID(1_000_000 + nextID) : target.id, account: target.account,
                        symbol: symbol)))
        } else {
            let target = sent[Int(random.next() % UInt64(sent.count))]
            let price: Price? = random.next() % 3 == 0 ? nil : 95 + Price(random.next() % 11)
            let quantity: Quantity? = random.next() % 3 == 0 ? nil : 1 + Quantity(random.next() % 20)
            engine.submit(
                .replace(
                    ReplaceOrder(
                        id: target.id, account: target.account, symbol: symbol, price: price,
                        quantity: quantity ?? (price == nil ? 5 : nil))))
        }
        events += engine.events
    }
    return events
}

/// The writes of a persister that follows two shards and meets every irregularity: each shard's
/// stream with lost ranges recorded as gaps, delivered in batches of 1…300 items mixing both
/// shards, some batches written after the next one (a hole, then its fill), stored ranges written
/// again (a restarted persister's overlap), and `seen` ahead of what is written.
func randomWrites(_ random: inout SplitMix64) throws -> [(batch: [StoreItem], seen: [Int: UInt64])] {
    var streams: [[StoreItem]] = []
    for shard in 0..<2 {
        let events = try engineEvents(&random, commands: 1_500)
        var stream: [StoreItem] = []
        var index = 0
        while index < events.count {
            if random.next() % 400 == 0 || index == 100 {
                let lost = 1 + Int(random.next() % 30)
                let to = min(index + lost, events.count) - 1
                stream.append(.gap(shard: shard, from: events[index].sequence, to: events[to].sequence))
                index = to + 1
                continue
            }
            let event = events[index]
            stream.append(
                .event(
                    shard: shard, event, clientTimestampNanos: random.next() % 1_000_000_000,
                    recordedAtNanos: 1_796_551_200_000_000_000 + event.sequence * 1_000))
            index += 1
        }
        streams.append(stream)
    }
    var batches: [[StoreItem]] = []
    var positions = [0, 0]
    while positions[0] < streams[0].count || positions[1] < streams[1].count {
        var batch: [StoreItem] = []
        let size = 1 + Int(random.next() % 300)
        while batch.count < size && (positions[0] < streams[0].count || positions[1] < streams[1].count) {
            let shard =
                positions[0] >= streams[0].count ? 1 : positions[1] >= streams[1].count ? 0 : Int(random.next() % 2)
            let take = min(1 + Int(random.next() % 40), streams[shard].count - positions[shard], size - batch.count)
            batch += streams[shard][positions[shard]..<positions[shard] + take]
            positions[shard] += take
        }
        batches.append(batch)
        if random.next() % 6 == 0, let earlier = batches.dropLast().randomElement(using: &random) {
            batches.append(Array(earlier.prefix(1 + Int(random.next() % UInt64(earlier.count)))) + batch.prefix(10))
        }
    }
    for index in stride(from: 1, to: batches.count - 1, by: 7) { batches.swapAt(index, index + 1) }
    var seen: [Int: UInt64] = [:]
    return batches.map { batch in
        for item in batch {
            let last: UInt64
            switch item {
            case .event(_, let event, _, _): last = event.sequence
            case .gap(_, _, let to): last = to
            }
            seen[item.shard] = max(seen[item.shard] ?? 0, last + random.next() % 3)
        }
        return (batch, seen)
    }
}
