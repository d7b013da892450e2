import ChronosCore

/// One thing the persister writes: an event of a shard (with the timestamp of its wire frame, so
/// the stored frame is byte for byte the one the engine published), or a gap the engine's
/// retransmission ring could no longer serve.
public enum StoreItem: Hashable, Sendable {
    case event(shard: Int, EngineEvent, clientTimestampNanos: UInt64)
    case gap(shard: Int, from: UInt64, to: UInt64)

    /// The shard the item belongs to.
    public var shard: Int {
        switch self {
        case .event(let shard, _, _), .gap(let shard, _, _): shard
        }
    }
}

/// An order's state as the store last saw it.
public struct StoredOrder: Hashable, Sendable {
    /// `open` (resting or partly filled), `filled`, `canceled` or `rejected`.
    public enum Status: String, Sendable {
        case open, filled, canceled, rejected
    }

    public var shard: Int
    public var id: OrderID
    public var account: AccountID
    public var symbol: SymbolID
    /// Ordered quantity in lots (cum + leaves after a replace; 0 for a rejected new order).
    public var quantity: Quantity
    /// Limit price in ticks.
    public var price: Price
    /// Open quantity in lots.
    public var leavesQuantity: Quantity
    /// Filled quantity in lots.
    public var cumulativeQuantity: Quantity
    public var status: Status
    /// The sequence of the last event that changed the order.
    public var lastSequence: UInt64
}

/// A trade as stored.
public struct StoredTrade: Hashable, Sendable {
    public var shard: Int
    public var tradeID: TradeID
    public var sequence: UInt64
    public var symbol: SymbolID
    public var takerID: OrderID
    public var makerID: OrderID
    /// Trade price in ticks.
    public var price: Price
    /// Traded quantity in lots.
    public var quantity: Quantity
}

/// A database that keeps the engine's events: the raw event log keyed by (shard, sequence), the
/// orders with their final state, the trades, the gaps that were lost, and each shard's
/// high-water mark. Both implementations (``SQLiteEventStore``, ``PostgresEventStore``) share one
/// schema and one write path (docs/persistence.md).
///
/// A store belongs to one thread (the persister's writer); its methods block.
public protocol EventStore: AnyObject {
    /// Creates the tables when missing (idempotent).
    func migrate() throws
    /// Writes `batch` in one transaction. Idempotent on (shard, sequence): an event already stored
    /// is skipped, and so are its effects on orders and trades. Each shard's high-water mark
    /// advances only over sequences that are contiguous from it (stored events and recorded gaps).
    func write(batch: [StoreItem]) throws
    /// The highest sequence of `shard` up to which every event is stored or recorded as lost (0: none).
    func highWaterMark(shard: Int) throws -> UInt64
    /// The stored events of `shard`, in sequence order, decoded from their stored wire frames.
    func events(shard: Int) throws -> [EngineEvent]
    /// The stored wire frames of `shard` (96 bytes each), in sequence order.
    func frames(shard: Int) throws -> [[UInt8]]
    /// Every order, by shard and id.
    func orders() throws -> [StoredOrder]
    /// Every trade, by shard and trade id.
    func trades() throws -> [StoredTrade]
    /// The recorded lost ranges of `shard`.
    func gaps(shard: Int) throws -> [ClosedRange<UInt64>]
    /// Releases the connection; the store is unusable afterwards.
    func close()
}

/// A failure of a store, with what the database said.
public struct EventStoreError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
