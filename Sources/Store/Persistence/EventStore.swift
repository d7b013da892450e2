import ChronosCore

/// One thing the persister writes: an event of a shard (with the timestamp of its wire frame, so
/// the stored frame is byte for byte the one the engine published), or a gap the engine's
/// retransmission ring could no longer serve.
///
/// `recordedAtNanos` is the persister's wall clock (Unix epoch, ns) when it received the event,
/// stored as `recorded_at_ns`; nil: the store uses its clock when it writes the batch.
public enum StoreItem: Hashable, Sendable {
    case event(shard: Int, EngineEvent, clientTimestampNanos: UInt64, recordedAtNanos: UInt64? = nil)
    case gap(shard: Int, from: UInt64, to: UInt64)

    /// The shard the item belongs to.
    public var shard: Int {
        switch self {
        case .event(let shard, _, _, _), .gap(let shard, _, _): shard
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
    /// The side, type and time in force (nil for a rejected new order: the engine's rejection
    /// does not carry them).
    public var side: Side?
    public var type: OrderType?
    public var timeInForce: TimeInForce?
    /// Ordered quantity in lots (cum + leaves after a replace; 0 for a rejected new order).
    public var quantity: Quantity
    /// Limit price in ticks.
    public var price: Price
    /// Open quantity in lots.
    public var leavesQuantity: Quantity
    /// Filled quantity in lots.
    public var cumulativeQuantity: Quantity
    public var status: Status
    /// The sequence of the event that created the order (accepted, or the rejection of its new order).
    public var createdSequence: UInt64
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
    public var takerAccount: AccountID
    public var makerAccount: AccountID
    /// The side of the taker (the incoming order); the maker was on the other side.
    public var takerSide: Side
    /// Trade price in ticks.
    public var price: Price
    /// Traded quantity in lots.
    public var quantity: Quantity
    /// The persister's wall clock when it received the fill (Unix epoch, ns); nil for a trade
    /// stored before the store had the `recorded_at_ns` column.
    public var recordedAtNanos: UInt64?
}

/// A stored event with where it was and when the persister received it.
public struct StoredEvent: Hashable, Sendable {
    public var shard: Int
    /// Decoded from the stored wire frame (its sequence is the event's key within the shard).
    public var event: EngineEvent
    /// The persister's wall clock when it received the event (Unix epoch, ns); nil for an event
    /// stored before the store had the `recorded_at_ns` column.
    public var recordedAtNanos: UInt64?

    public init(shard: Int, event: EngineEvent, recordedAtNanos: UInt64?) {
        self.shard = shard
        self.event = event
        self.recordedAtNanos = recordedAtNanos
    }
}

/// Everything the store holds about one order id: its final state and every event that concerns it.
public struct OrderHistory: Hashable, Sendable {
    public var id: OrderID
    /// The order's final state, one row per shard that knows the id (normally exactly one; none
    /// when only refused cancels or replaces named the id).
    public var orders: [StoredOrder]
    /// In (shard, sequence) order: the order's accepted, replaced, canceled and rejected events and
    /// the fills where it was the taker (`order_id`) or the maker (`counter_order_id`).
    public var events: [StoredEvent]
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
    /// `seen`: per shard, the last sequence the persister has read from the engine (stored now or
    /// still in its buffer), recorded in the same transaction (``seenSequence(shard:)``).
    func write(batch: [StoreItem], seen: [Int: UInt64]) throws
    /// The last sequence of `shard` the persister had read when it last wrote (0: none). Above the
    /// high-water mark while it still holds events it has not written: recovery waits for those.
    func seenSequence(shard: Int) throws -> UInt64
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
    /// The history of order `id` across all shards; nil when the store knows nothing of the id.
    func orderHistory(id: OrderID) throws -> OrderHistory?
    /// The trades of `symbol` in trade order (shard, trade id): those the persister received at or
    /// after `since` (Unix epoch, ns) when given (trades without a recorded time are then left out),
    /// at most `limit` of them (the first in trade order) when given.
    func trades(symbol: SymbolID, since: UInt64?, limit: Int?) throws -> [StoredTrade]
    /// The recorded lost ranges of `shard`.
    func gaps(shard: Int) throws -> [ClosedRange<UInt64>]
    /// The shards that have a high-water mark or a recorded gap, in order.
    func storedShards() throws -> [Int]
    /// Releases the connection; the store is unusable afterwards.
    func close()
}

extension EventStore {
    /// Writes `batch` in one transaction (``write(batch:seen:)`` with nothing seen beyond it).
    public func write(batch: [StoreItem]) throws { try write(batch: batch, seen: [:]) }
}

/// A failure of a store, with what the database said.
public struct EventStoreError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
