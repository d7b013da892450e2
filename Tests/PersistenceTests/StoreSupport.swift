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
