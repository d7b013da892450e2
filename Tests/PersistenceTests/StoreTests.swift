import ChronosCore
import Foundation
import Persistence
import TestSupport
import Testing

/// Both stores: schema, idempotence, high-water mark contiguity, orders' final state, frames.
@Suite struct StoreTests {
    @Test(arguments: StoreKind.available)
    func storesEveryEventWithItsExactFrameAndMigratesTwice(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            try store.migrate()  // a second migration changes nothing
            let events = sampleEvents()
            try store.write(batch: items(events))
            #expect(try store.events(shard: 0) == events)
            #expect(try store.highWaterMark(shard: 0) == 7)
            #expect(try store.highWaterMark(shard: 1) == 0)
            let frames = try store.frames(shard: 0)
            #expect(frames.count == 7 && frames.allSatisfy { $0.count == 96 })
            // The stored frame is the engine's frame, timestamp included.
            let decoded = frames[2].withUnsafeBytes { WireFrame.decode($0) }
            guard case .success(let frame) = decoded, case .event(let event, let timestamp) = frame.message else {
                Issue.record("frame 3 does not decode")
                return
            }
            #expect(event == events[2] && timestamp == 1_003 && frame.shard == 0)
        }
    }

    @Test(arguments: StoreKind.available)
    func writingTheSameBatchTwiceStoresItOnce(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            let batch = items(sampleEvents())
            try store.write(batch: batch)
            try store.write(batch: batch)
            try store.write(batch: Array(batch[2..<5]))  // an overlapping replay
            #expect(try store.events(shard: 0).map(\.sequence) == Array(1...7))
            #expect(try store.trades().count == 1)
            // The fill was applied once: cum qty 4, not 8.
            let orders = Dictionary(uniqueKeysWithValues: try store.orders().map { ($0.id.rawValue, $0) })
            #expect(orders[2]?.cumulativeQuantity == 4)
            #expect(orders[1]?.cumulativeQuantity == 4)
        }
    }

    @Test(arguments: StoreKind.available)
    func ordersEndInTheirFinalState(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            try store.write(batch: items(sampleEvents()))
            let orders = Dictionary(uniqueKeysWithValues: try store.orders().map { ($0.id.rawValue, $0) })
            #expect(orders.count == 4)
            // Maker: 10 ordered, 4 filled, then replaced to 3 open at 101.
            #expect(orders[1]?.status == .open)
            #expect(orders[1]?.leavesQuantity == 3 && orders[1]?.price == 101 && orders[1]?.quantity == 7)
            #expect(
                orders[2]?.status == .filled && orders[2]?.leavesQuantity == 0 && orders[2]?.cumulativeQuantity == 4)
            #expect(orders[3]?.status == .canceled && orders[3]?.leavesQuantity == 0)
            #expect(orders[4]?.status == .rejected)
            let trade = try #require(try store.trades().first)
            #expect(
                trade.takerID == OrderID(2) && trade.makerID == OrderID(1) && trade.quantity == 4 && trade.price == 100)
        }
    }

    @Test(arguments: StoreKind.available)
    func highWaterMarkAdvancesOnlyContiguously(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            let batch = items(sampleEvents())
            try store.write(batch: Array(batch[0..<2]))
            #expect(try store.highWaterMark(shard: 0) == 2)
            try store.write(batch: Array(batch[4..<6]))  // 5, 6: not contiguous with 2
            #expect(try store.highWaterMark(shard: 0) == 2)
            try store.write(batch: Array(batch[2..<4]))  // 3, 4 fill the hole: the mark walks over 5, 6 too
            #expect(try store.highWaterMark(shard: 0) == 6)
            // A lost range counts as accounted for, and is kept.
            try store.write(batch: [.gap(shard: 0, from: 7, to: 9)] + items([shifted(sampleEvents()[0], to: 10)]))
            #expect(try store.highWaterMark(shard: 0) == 10)
            #expect(try store.gaps(shard: 0) == [7...9])
            // Shards are independent.
            try store.write(batch: items([sampleEvents()[0]], shard: 1))
            #expect(try store.highWaterMark(shard: 1) == 1)
            #expect(try store.highWaterMark(shard: 0) == 10)
        }
    }

    @Test func sqliteIsInWALMode() async throws {
        try await offThePool {
            let store = try SQLiteEventStore(path: temporaryDirectory().appendingPathComponent("wal.sqlite").path)
            defer { store.close() }
            #expect(try store.journalMode() == "wal")
        }
    }

    /// The log is copied into the database file by the store's checkpoint thread, not by the
    /// writer: the writer's own checkpoint starts only past 65,536 pages (256 MiB) of log, far more
    /// than written here, so without that thread the database file would stay at its empty size.
    @Test func sqliteCheckpointsTheLogOffTheWriter() async throws {
        try await offThePool {
            let path = temporaryDirectory().appendingPathComponent("checkpoint.sqlite").path
            let store = try SQLiteEventStore(path: path)
            defer { store.close() }
            let emptySize = try fileSize(path)
            let events = (1...20_000).map { shifted(sampleEvents()[0], to: UInt64($0)) }
            for start in stride(from: 0, to: events.count, by: 1_000) {
                try store.write(batch: items(Array(events[start..<start + 1_000])))
            }
            #expect(try store.highWaterMark(shard: 0) == 20_000)
            // 20,000 events (each ~200 bytes, in rows and indexes): a few MiB once copied.
            let copied = eventually(seconds: 30) { try fileSize(path) > emptySize + 2_000_000 }
            let size = try fileSize(path)
            #expect(copied, "the database file is \(size) bytes")
            #expect(try fileSize(path + "-wal") < 256 * 1_048_576)
        }
    }

    func fileSize(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
    }

    @Test(.enabled(if: StoreKind.environment["CHRONOS_PG_PORT"] != nil, "needs scripts/with-postgres.sh"))
    func postgresqlThatIsNotThereFailsToOpen() async throws {
        try await offThePool {
            #expect(throws: (any Error).self) {
                try PostgresEventStore(.init(host: "127.0.0.1", port: 1, user: "chronos", database: "none"))
            }
        }
    }
}

func shifted(_ event: EngineEvent, to sequence: UInt64) -> EngineEvent {
    guard case .accepted(var e) = event else { return event }
    e.sequence = sequence
    e.id = OrderID(1_000 + sequence)
    return .accepted(e)
}
