import ChronosCore

/// One client order as a session sees it: the client's id for it, what it asked for and what
/// the engine has done with it so far.
///
/// `Key` is the client's order id type: FIX's ClOrdID string, the binary protocol's UInt64.
public struct TrackedOrder<Key: Hashable>: Sendable where Key: Sendable {
    /// The client's current id for the order (the latest accepted ClOrdID of a replace chain).
    public var key: Key
    public let engineID: OrderID
    public let account: AccountID
    public let symbol: SymbolID
    public let side: Side
    public let type: OrderType
    public let timeInForce: TimeInForce
    /// Limit price in price units (0 for market orders).
    public var price: Price
    /// Total ordered quantity: filled plus open (FIX OrderQty).
    public var orderQuantity: Quantity
    public var cumulativeQuantity: Quantity = 0
    public var leavesQuantity: Quantity
    /// Σ price × quantity of the fills, for the average price.
    public var notional: Int128 = 0
    /// False until the engine accepted the order.
    public var acknowledged = false
    /// True once the order can no longer trade (filled, canceled, rejected).
    public var isDone = false
    /// Cancels and replaces sent to the engine and not answered yet, oldest first (the engine
    /// answers a shard's commands in the order they were sent).
    public var pendingChanges: [PendingChange<Key>] = []
    /// The oldest unanswered cancel or replace.
    public var pendingChange: PendingChange<Key>? { pendingChanges.first }
    /// When the new order was sent while its acceptance is awaited (monotonic ns), else nil.
    public var awaitingSince: UInt64?
    /// FIX: the order's Account (1) as the client spelled it, when that differs from how the
    /// gateway names the account (e.g. "1001" for the account named ACC1); reports echo it. Nil
    /// otherwise, so that the common case stores no string.
    public var accountSpelling: String?
}

/// A cancel or replace on its way to the engine.
public struct PendingChange<Key: Hashable>: Sendable where Key: Sendable {
    public enum Kind: Sendable { case cancel, replace }
    public var kind: Kind
    /// The client's id for this request (FIX: the new ClOrdID; binary: the request id).
    public var requestKey: Key
    /// Whether an accepted replace gives the order the request's key (FIX: the new ClOrdID) or the
    /// order keeps its key (binary protocol).
    public var rekeys: Bool = true
    /// When the request was sent (monotonic ns), to find it when its answer is overdue.
    public var sentAt: UInt64 = 0
    /// The UDP client sequence the request came with (0 over TCP), for the answer's header.
    public var clientSequence: UInt64 = 0
}

/// What an engine event did to a tracked order, for the session to report to its client.
public enum OrderUpdate<Key: Hashable & Sendable>: Sendable {
    case accepted(TrackedOrder<Key>)
    /// A new order the engine refused.
    case rejected(TrackedOrder<Key>, RejectReason)
    case filled(TrackedOrder<Key>, price: Price, quantity: Quantity, tradeID: TradeID)
    /// `requestKey` is nil when the client did not ask (IOC/FOK/market remainders).
    case canceled(TrackedOrder<Key>, requestKey: Key?, reason: CancelReason)
    case replaced(TrackedOrder<Key>, requestKey: Key, previousKey: Key)
    /// A cancel or replace the engine refused; the order is as it was.
    case changeRejected(TrackedOrder<Key>, PendingChange<Key>, RejectReason)
}

/// A session's orders: the client's ids ↔ engine ids, and each order's state.
///
/// Plain value logic, no I/O: the session feeds it engine events and reports what comes out.
/// Client ids stay known after their order is done (to refuse duplicates and answer a late
/// cancel with "too late") up to ``keyCapacity`` ids; beyond that the oldest are forgotten.
public struct OrderTable<Key: Hashable & Sendable>: Sendable {
    /// How many client ids of finished orders are remembered.
    public let keyCapacity: Int
    /// How many finished orders are kept whole, newest first, for status requests (0: none).
    public let finishedCapacity: Int
    /// Whether cancel/replace request keys share the space of order keys (FIX: every ClOrdID is
    /// unique in the session) or have their own (binary: request ids apart from client order ids).
    public let requestKeysShareOrderKeys: Bool
    public private(set) var orders: [OrderID: TrackedOrder<Key>] = [:]
    /// The last ``finishedCapacity`` orders that finished, as they ended.
    public private(set) var finished: [OrderID: TrackedOrder<Key>] = [:]
    private var finishedHistory = OldestFirst<OrderID>()
    private var engineIDOfKey: [Key: OrderID] = [:]
    private var keyHistory = OldestFirst<Key>()
    private var requestKeys: Set<Key> = []
    private var requestHistory = OldestFirst<Key>()

    public init(keyCapacity: Int = 1_000_000, requestKeysShareOrderKeys: Bool = true, finishedCapacity: Int = 0) {
        self.keyCapacity = keyCapacity
        self.requestKeysShareOrderKeys = requestKeysShareOrderKeys
        self.finishedCapacity = finishedCapacity
    }

    /// Order `id` as last known: live, or among the kept finished orders; nil otherwise.
    public func status(of id: OrderID) -> TrackedOrder<Key>? { orders[id] ?? finished[id] }

    /// Whether `key` was used for a cancel or replace request (always false when request keys
    /// share the order keys' space: ask ``isKnown(_:)``).
    public func isKnownRequest(_ key: Key) -> Bool { requestKeys.contains(key) }

    /// Whether the client has used `key` (for an order or a request) within memory.
    public func isKnown(_ key: Key) -> Bool { engineIDOfKey[key] != nil }

    /// The engine id `key` names, if remembered.
    public func engineID(of key: Key) -> OrderID? { engineIDOfKey[key] }

    /// The live order `key` names (nil when unknown or done).
    public func liveOrder(_ key: Key) -> TrackedOrder<Key>? {
        guard let id = engineIDOfKey[key], let order = orders[id], !order.isDone else { return nil }
        return order
    }

    /// Starts tracking a new order sent to the engine.
    public mutating func add(_ order: TrackedOrder<Key>) {
        orders[order.engineID] = order
        remember(order.key, order.engineID)
    }

    /// Whether order `id` is still tracked (live, or done with a change request unanswered).
    public func isTracked(_ id: OrderID) -> Bool { orders[id] != nil }

    /// Records a cancel or replace sent for order `id`; its request key becomes known.
    public mutating func beginChange(_ change: PendingChange<Key>, on id: OrderID, at now: UInt64) {
        var change = change
        change.sentAt = now
        orders[id]?.pendingChanges.append(change)
        if requestKeysShareOrderKeys {
            remember(change.requestKey, id)
        } else {
            requestKeys.insert(change.requestKey)
            if let oldest = requestHistory.append(change.requestKey, keeping: keyCapacity) {
                requestKeys.remove(oldest)
            }
        }
    }

    /// Applies an engine event about order `id`; nil when the event does not concern a tracked order.
    public mutating func apply(_ event: EngineEvent, to id: OrderID) -> OrderUpdate<Key>? {
        guard var order = orders[id] else { return nil }
        let update: OrderUpdate<Key>
        switch event {
        case .accepted(let e):
            order.acknowledged = true
            order.awaitingSince = nil
            order.leavesQuantity = e.quantity
            update = .accepted(order)
        case .rejected(let e):
            if e.command == .new {
                order.isDone = true
                order.awaitingSince = nil
                order.leavesQuantity = 0
                update = .rejected(order, e.reason)
            } else if !order.pendingChanges.isEmpty {
                let change = order.pendingChanges.removeFirst()
                update = .changeRejected(order, change, e.reason)
            } else {
                return nil
            }
        case .fill(let e):
            let leaves = e.takerID == id ? e.takerLeaves : e.makerLeaves
            order.cumulativeQuantity += e.quantity
            order.leavesQuantity = leaves
            order.notional += Int128(e.price) * Int128(e.quantity)
            if e.takerID == id { order.acknowledged = true }
            if leaves == 0 { order.isDone = true }
            update = .filled(order, price: e.price, quantity: e.quantity, tradeID: e.tradeID)
        case .canceled(let e):
            var requestKey: Key?
            if e.reason == .requested, let change = order.pendingChange, change.kind == .cancel {
                requestKey = change.requestKey
                order.pendingChanges.removeFirst()
            }
            order.awaitingSince = nil
            order.leavesQuantity = 0
            order.isDone = true
            update = .canceled(order, requestKey: requestKey, reason: e.reason)
        case .replaced(let e):
            guard let change = order.pendingChange, change.kind == .replace else { return nil }
            order.pendingChanges.removeFirst()
            let previous = order.key
            if change.rekeys { order.key = change.requestKey }
            order.price = e.price
            order.leavesQuantity = e.quantity
            order.orderQuantity = order.cumulativeQuantity + e.quantity
            update = .replaced(order, requestKey: change.requestKey, previousKey: previous)
        }
        // A finished order waits for the answers to changes still pending ("too late" rejects).
        if order.isDone && order.pendingChanges.isEmpty {
            orders[id] = nil
            keepFinished(order)
        } else {
            orders[id] = order
        }
        return update
    }

    /// Keeps `order` (just finished) among the last ``finishedCapacity`` finished orders.
    private mutating func keepFinished(_ order: TrackedOrder<Key>) {
        guard finishedCapacity > 0 else { return }
        finished[order.engineID] = order
        if let oldest = finishedHistory.append(order.engineID, keeping: finishedCapacity) { finished[oldest] = nil }
    }

    /// Ends tracking of order `id` without an engine event (its command never reached the engine).
    public mutating func drop(_ id: OrderID) -> TrackedOrder<Key>? {
        orders.removeValue(forKey: id)
    }

    /// Gives up on the pending change of order `id` sent at `sentAt` (its answer is overdue, or it
    /// never left the gateway: `sentAt` nil takes the newest), returning it.
    public mutating func abandonChange(on id: OrderID, sentAt: UInt64? = nil) -> PendingChange<Key>? {
        guard var order = orders[id] else { return nil }
        let index =
            sentAt.map { t in order.pendingChanges.firstIndex { $0.sentAt == t } } ?? order.pendingChanges.indices.last
        guard let index else { return nil }
        let change = order.pendingChanges.remove(at: index)
        if order.isDone && order.pendingChanges.isEmpty {
            orders[id] = nil
            keepFinished(order)
        } else {
            orders[id] = order
        }
        return change
    }

    private mutating func remember(_ key: Key, _ id: OrderID) {
        engineIDOfKey[key] = id
        if let oldest = keyHistory.append(key, keeping: keyCapacity), let known = engineIDOfKey[oldest],
            orders[known] == nil
        {
            engineIDOfKey[oldest] = nil
        }
    }
}

/// The last elements appended, oldest first, for forgetting what falls out of a bounded window:
/// an array with a moving head, compacted once the dropped part is large and over half of it
/// (amortized O(1) per append).
struct OldestFirst<Element: Sendable>: Sendable {
    private var elements: [Element] = []
    private var head = 0

    /// Appends `element`; when more than `capacity` are then kept, drops the oldest and returns it.
    mutating func append(_ element: Element, keeping capacity: Int) -> Element? {
        elements.append(element)
        var dropped: Element?
        if elements.count - head > capacity {
            dropped = elements[head]
            head += 1
        }
        if head > 4096 && head * 2 > elements.count {
            elements.removeFirst(head)
            head = 0
        }
        return dropped
    }
}
