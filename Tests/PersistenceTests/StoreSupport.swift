import ChronosCore
import Foundation
import Persistence
import Testing

/// The stores the tests run against: SQLite always; PostgreSQL when `scripts/with-postgres.sh`
/// started a server (`CHRONOS_PG_PORT`; `make test` always does).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql

    var testDescription: String { rawValue }

    static let environment = ProcessInfo.processInfo.environment

    static var available: [StoreKind] { environment["CHRONOS_PG_PORT"] == nil ? [.sqlite] : [.sqlite, .postgresql] }

    /// The test server, with a fresh database of its own.
    static func postgresEndpoint() throws -> PostgresEventStore.Endpoint {
        let endpoint = PostgresEventStore.Endpoint(
            host: "127.0.0.1", port: Int(environment["CHRONOS_PG_PORT"] ?? "5432") ?? 5432,
            user: environment["CHRONOS_PG_USER"] ?? "chronos",
            database: "chronos_test_\(UUID().uuidString.prefix(8).lowercased())")
        try PostgresEventStore.createDatabaseIfMissing(endpoint)
        return endpoint
    }

    /// A new, empty store of this kind.
    func makeStore() throws -> any EventStore {
        switch self {
        case .sqlite:
            return try SQLiteEventStore(path: temporaryDirectory().appendingPathComponent("chronos.sqlite").path)
        case .postgresql:
            return try PostgresEventStore(try Self.postgresEndpoint())
        }
    }
}

/// A fresh temporary folder (left for the OS to clean: tests may still read files in it).
func temporaryDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "chronos-persist-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Events of a small session on shard 0: two orders trade, one rests and is canceled, one is rejected.
func sampleEvents() -> [EngineEvent] {
    let aapl = SymbolID(0)
    return [
        .accepted(
            OrderAccepted(
                sequence: 1, id: OrderID(1), account: AccountID(1), symbol: aapl, side: .sell, type: .limit,
                timeInForce: .goodTillCancel, postOnly: false, price: 100, quantity: 10)),
        .accepted(
            OrderAccepted(
                sequence: 2, id: OrderID(2), account: AccountID(2), symbol: aapl, side: .buy, type: .limit,
                timeInForce: .goodTillCancel, postOnly: false, price: 100, quantity: 4)),
        .fill(
            Fill(
                sequence: 3, tradeID: TradeID(1), symbol: aapl, takerID: OrderID(2), makerID: OrderID(1),
                takerAccount: AccountID(2), makerAccount: AccountID(1), takerSide: .buy, price: 100, quantity: 4,
                takerLeaves: 0, makerLeaves: 6)),
        .accepted(
            OrderAccepted(
                sequence: 4, id: OrderID(3), account: AccountID(3), symbol: aapl, side: .buy, type: .limit,
                timeInForce: .goodTillCancel, postOnly: false, price: 90, quantity: 5)),
        .canceled(
            OrderCanceled(
                sequence: 5, id: OrderID(3), account: AccountID(3), symbol: aapl, side: .buy, quantity: 5,
                reason: .requested)),
        .rejected(
            OrderRejected(
                sequence: 6, id: OrderID(4), account: AccountID(4), symbol: aapl, command: .new,
                reason: .invalidPrice)),
        .replaced(
            OrderReplaced(
                sequence: 7, id: OrderID(1), account: AccountID(1), symbol: aapl, side: .sell, price: 101, quantity: 3,
                keptPriority: false)),
    ]
}

func items(_ events: [EngineEvent], shard: Int = 0) -> [StoreItem] {
    events.map { .event(shard: shard, $0, clientTimestampNanos: 1_000 + $0.sequence) }
}

/// 2026-12-06T10:00:00Z in Unix epoch nanoseconds.
let auditTenOClock: UInt64 = 1_796_551_200 * 1_000_000_000

/// Events for the audit: on shard 0 (AAPL, symbol 0) order 10 rests, is partly filled as the maker
/// by order 11, replaced (lower quantity, higher price: priority lost), filled again as the maker by
/// order 12, canceled, then a cancel of it is refused. Received at 10:00 (sequences 1…3) and 11:00
/// (4…8). On shard 1 (MSFT, symbol 1) order 21 takes order 20, received at 10:00.
func auditItems() -> [StoreItem] {
    let aapl = SymbolID(0)
    let msft = SymbolID(1)
    let shard0: [EngineEvent] = [
        .accepted(
            OrderAccepted(
                sequence: 1, id: OrderID(10), account: AccountID(1), symbol: aapl, side: .sell, type: .limit,
                timeInForce: .goodTillCancel, postOnly: false, price: 10_000, quantity: 10)),
        .accepted(
            OrderAccepted(
                sequence: 2, id: OrderID(11), account: AccountID(2), symbol: aapl, side: .buy, type: .limit,
                timeInForce: .immediateOrCancel, postOnly: false, price: 10_000, quantity: 4)),
        .fill(
            Fill(
                sequence: 3, tradeID: TradeID(1), symbol: aapl, takerID: OrderID(11), makerID: OrderID(10),
                takerAccount: AccountID(2), makerAccount: AccountID(1), takerSide: .buy, price: 10_000, quantity: 4,
                takerLeaves: 0, makerLeaves: 6)),
        .replaced(
            OrderReplaced(
                sequence: 4, id: OrderID(10), account: AccountID(1), symbol: aapl, side: .sell, price: 10_100,
                quantity: 5, keptPriority: false)),
        .accepted(
            OrderAccepted(
                sequence: 5, id: OrderID(12), account: AccountID(3), symbol: aapl, side: .buy, type: .limit,
                timeInForce: .goodTillCancel, postOnly: false, price: 10_100, quantity: 2)),
        .fill(
            Fill(
                sequence: 6, tradeID: TradeID(2), symbol: aapl, takerID: OrderID(12), makerID: OrderID(10),
                takerAccount: AccountID(3), makerAccount: AccountID(1), takerSide: .buy, price: 10_100, quantity: 2,
                takerLeaves: 0, makerLeaves: 3)),
        .canceled(
            OrderCanceled(
                sequence: 7, id: OrderID(10), account: AccountID(1), symbol: aapl, side: .sell, quantity: 3,
                reason: .requested)),
        .rejected(
            OrderRejected(
                sequence: 8, id: OrderID(10), account: AccountID(1), symbol: aapl, command: .cancel,
                reason: .unknownOrder)),
    ]
    let shard1: [EngineEvent] = [
        .accepted(
            OrderAccepted(
                sequence: 1, id: OrderID(20), account: AccountID(4), symbol: msft, side: .sell, type: .limit,
                timeInForce: .goodTillCancel, postOnly: false, price: 2_000, quantity: 5)),
        .accepted(
            OrderAccepted(
                sequence: 2, id: OrderID(21), account: AccountID(5), symbol: msft, side: .buy, type: .market,
                timeInForce: .immediateOrCancel, postOnly: false, price: 0, quantity: 5)),
        .fill(
            Fill(
                sequence: 3, tradeID: TradeID(1), symbol: msft, takerID: OrderID(21), makerID: OrderID(20),
                takerAccount: AccountID(5), makerAccount: AccountID(4), takerSide: .buy, price: 2_000, quantity: 5,
                takerLeaves: 0, makerLeaves: 0)),
    ]
    let hour: UInt64 = 3_600 * 1_000_000_000
    return shard0.map { event in
        .event(
            shard: 0, event, clientTimestampNanos: event.sequence,
            recordedAtNanos: auditTenOClock + (event.sequence >= 4 ? hour : 0))
    }
        + shard1.map {
            .event(shard: 1, $0, clientTimestampNanos: $0.sequence, recordedAtNanos: auditTenOClock)
        }
}

/// The symbols of the audit events, as a configuration names them (2 price decimals).
let auditSymbols = [
    SymbolConfiguration(name: "AAPL", maxQuantity: 1_000_000, maxPrice: 100_000_000),
    SymbolConfiguration(name: "MSFT", maxQuantity: 1_000_000, maxPrice: 100_000_000),
]
