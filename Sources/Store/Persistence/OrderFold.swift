import ChronosCore

/// The key of an `orders` row: (shard, order id as its `Int64` bit pattern).
struct OrderKey: Hashable {
    var shard: Int64
    var orderID: Int64
}

/// An `orders` row but its key, as stored (docs/persistence.md).
struct OrderRow: Equatable {
    var account: Int64
    var symbol: Int64
    var side: Int64?
    var type: Int64?
    var timeInForce: Int64?
    var price: Int64
    var quantity: Int64
    var leavesQuantity: Int64
    var cumulativeQuantity: Int64
    var status: String
    var createdSequence: Int64
    var updatedSequence: Int64
}

/// A `trades` row.
struct TradeRow {
    var shard: Int64
    var tradeID: Int64
    var sequence: Int64
    var symbol: Int64
    var takerOrderID: Int64
    var makerOrderID: Int64
    var takerAccount: Int64
    var makerAccount: Int64
    var takerSide: Int64
    var price: Int64
    var quantity: Int64
    var recordedAt: Int64
}

/// The effects of a batch's new events on `orders`, folded in Swift into each order's final row,
/// so that a store writes every changed order once per batch (one set-based upsert) instead of a
/// statement per event. Applies exactly what the per-event statements of the write path did:
///
/// | event | effect on the order's row |
/// |---|---|
/// | accepted | inserted (`open`, cum 0, leaves = quantity) unless a row exists |
/// | rejected (of a new order) | inserted (`rejected`, no side/type/tif, price, quantities 0) unless a row exists |
/// | fill, for the taker and then the maker | leaves = its leaves after the fill, cum += quantity, `filled` when leaves is 0 |
/// | canceled | leaves -= quantity (0 at least), `canceled` when the leaves were at most the quantity |
/// | replaced | price, leaves = quantity, quantity = cum + quantity |
///
/// Every effect on an existing row sets `updated_sequence`; an effect on an order without a row
/// does nothing. Fills also give the batch's `trades` rows.
struct OrderFold {
    /// The rows as they stand: as read from the store (``keys(of:shard:)`` of every event), then
    /// changed by the events applied. No entry: the order has no row.
    var rows: [OrderKey: OrderRow]
    /// The keys of the rows the events changed or created, in the order of their first change.
    private(set) var changed: [OrderKey] = []
    private var changedSet = Set<OrderKey>()
    /// The trades of the fills applied, in batch order.
    private(set) var trades: [TradeRow] = []

    init(rows: [OrderKey: OrderRow]) { self.rows = rows }

    /// The orders `event` may change (read them before folding).
    static func keys(of event: EngineEvent, shard: Int64) -> (OrderKey?, OrderKey?) {
        switch event {
        case .accepted(let e): (OrderKey(shard: shard, orderID: Int64(bitPattern: e.id.rawValue)), nil)
        case .rejected(let e):
            e.command == .new ? (OrderKey(shard: shard, orderID: Int64(bitPattern: e.id.rawValue)), nil) : (nil, nil)
        case .fill(let e):
            (
                OrderKey(shard: shard, orderID: Int64(bitPattern: e.takerID.rawValue)),
                OrderKey(shard: shard, orderID: Int64(bitPattern: e.makerID.rawValue))
            )
        case .canceled(let e): (OrderKey(shard: shard, orderID: Int64(bitPattern: e.id.rawValue)), nil)
        case .replaced(let e): (OrderKey(shard: shard, orderID: Int64(bitPattern: e.id.rawValue)), nil)
        }
    }

    /// Applies a new event (one the batch stored now) of `shard`, received at `recorded`.
    ///
    /// - Throws: ``EventStoreError`` when a quantity overflows 64 bits (the databases refuse it too).
    mutating func apply(_ event: EngineEvent, shard: Int64, recorded: Int64) throws {
        let sequence = Int64(bitPattern: event.sequence)
        switch event {
        case .accepted(let e):
            create(
                OrderKey(shard: shard, orderID: Int64(bitPattern: e.id.rawValue)),
                OrderRow(
                    account: Int64(e.account.rawValue), symbol: Int64(e.symbol.rawValue), side: Int64(e.side.rawValue),
                    type: Int64(e.type.rawValue), timeInForce: Int64(e.timeInForce.rawValue), price: e.price,
                    quantity: e.quantity, leavesQuantity: e.quantity, cumulativeQuantity: 0, status: "open",
                    createdSequence: sequence, updatedSequence: sequence))
        case .rejected(let e):
            guard e.command == .new else { return }  // a refused cancel or replace leaves the order as it was
            create(
                OrderKey(shard: shard, orderID: Int64(bitPattern: e.id.rawValue)),
                OrderRow(
                    account: Int64(e.account.rawValue), symbol: Int64(e.symbol.rawValue), side: nil, type: nil,
                    timeInForce: nil, price: 0, quantity: 0, leavesQuantity: 0, cumulativeQuantity: 0,
                    status: "rejected", createdSequence: sequence, updatedSequence: sequence))
        case .fill(let e):
            for (id, leaves) in [(e.takerID, e.takerLeaves), (e.makerID, e.makerLeaves)] {
                let key = OrderKey(shard: shard, orderID: Int64(bitPattern: id.rawValue))
                guard var row = rows[key] else { continue }
                row.leavesQuantity = leaves
                row.cumulativeQuantity = try Self.sum(row.cumulativeQuantity, e.quantity, key)
                if leaves == 0 { row.status = "filled" }
                row.updatedSequence = sequence
                update(key, row)
            }
            trades.append(
                TradeRow(
                    shard: shard, tradeID: Int64(bitPattern: e.tradeID.rawValue), sequence: sequence,
                    symbol: Int64(e.symbol.rawValue), takerOrderID: Int64(bitPattern: e.takerID.rawValue),
                    makerOrderID: Int64(bitPattern: e.makerID.rawValue), takerAccount: Int64(e.takerAccount.rawValue),
                    makerAccount: Int64(e.makerAccount.rawValue), takerSide: Int64(e.takerSide.rawValue),
                    price: e.price, quantity: e.quantity, recordedAt: recorded))
        case .canceled(let e):
            let key = OrderKey(shard: shard, orderID: Int64(bitPattern: e.id.rawValue))
            guard var row = rows[key] else { return }
            let before = row.leavesQuantity
            row.leavesQuantity = before > e.quantity ? try Self.difference(before, e.quantity, key) : 0
            if before <= e.quantity { row.status = "canceled" }
            row.updatedSequence = sequence
            update(key, row)
        case .replaced(let e):
            let key = OrderKey(shard: shard, orderID: Int64(bitPattern: e.id.rawValue))
            guard var row = rows[key] else { return }
            row.price = e.price
            row.leavesQuantity = e.quantity
            row.quantity = try Self.sum(row.cumulativeQuantity, e.quantity, key)
            row.updatedSequence = sequence
            update(key, row)
        }
    }

    private mutating func create(_ key: OrderKey, _ row: OrderRow) {
        guard rows[key] == nil else { return }
        update(key, row)
    }

    private mutating func update(_ key: OrderKey, _ row: OrderRow) {
        rows[key] = row
        if changedSet.insert(key).inserted { changed.append(key) }
    }

    private static func sum(_ a: Int64, _ b: Int64, _ key: OrderKey) throws -> Int64 {
        try checked(a.addingReportingOverflow(b), key)
    }

    private static func difference(_ a: Int64, _ b: Int64, _ key: OrderKey) throws -> Int64 {
        try checked(a.subtractingReportingOverflow(b), key)
    }

    private static func checked(_ result: (partialValue: Int64, overflow: Bool), _ key: OrderKey) throws -> Int64 {
        guard !result.overflow else {
            throw EventStoreError("shard \(key.shard) order \(UInt64(bitPattern: key.orderID)): quantity out of range")
        }
        return result.partialValue
    }
}
