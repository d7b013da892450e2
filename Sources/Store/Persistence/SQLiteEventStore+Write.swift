import ChronosCore
import Foundation
import GRDB

/// SQLite's write path: one transaction per batch, every statement prepared once per connection
/// (GRDB's statement cache) and executed per row with its values bound directly. SQLite is in the
/// process, so a statement per row costs no round trip: each event is inserted with
/// `ON CONFLICT DO NOTHING`, and only when SQLite reports the row as inserted are its effects
/// on `orders` and `trades` applied — by the same per-event statements as always (no read of
/// the order first, no fold).
struct SQLiteBatchWriter {
    let db: Database

    func write(_ batch: StoreBatch, seen: [Int: UInt64]) throws {
        // 1. Lost ranges.
        if !batch.gaps.isEmpty {
            let insertGap = try db.cachedStatement(
                sql: """
                    INSERT INTO gaps (shard, from_sequence, to_sequence) VALUES (?, ?, ?)
                    ON CONFLICT (shard, from_sequence) DO NOTHING
                    """)
            for gap in batch.gaps {
                try insertGap.execute(
                    arguments: [Int64(gap.shard), Int64(bitPattern: gap.from), Int64(bitPattern: gap.to)])
            }
        }
        // 2. The raw log; a row SQLite did not insert was stored before, and so were its effects.
        let insertEvent = try db.cachedStatement(sql: Self.insertEvent)
        var applied = OrderStatements(db: db)
        for (index, row) in batch.rows.enumerated() {
            try insertEvent.execute(arguments: Self.arguments(row, frame: batch.frame(index)))
            if db.changesCount > 0 {
                try applied.apply(batch.events[index], shard: row.shard, recorded: row.recordedAt)
            }
        }
        // 3. High-water marks, contiguous from the stored mark; 4. what the persister has read.
        let writer = SQLWriter(session: GRDBSession(db: db))
        let upsertMark = try db.cachedStatement(
            sql: """
                INSERT INTO high_water_marks (shard, sequence) VALUES (?, ?)
                ON CONFLICT (shard) DO UPDATE SET sequence = excluded.sequence
                """)
        for shard in batch.shards {
            let before = try writer.highWaterMark(shard: shard)
            let mark = try writer.extendFromStore(shard: shard, mark: batch.walk(shard: shard, from: before))
            if mark != before { try upsertMark.execute(arguments: [Int64(shard), Int64(bitPattern: mark)]) }
        }
        let upsertSeen = try db.cachedStatement(
            sql: """
                INSERT INTO persister_progress (shard, seen_sequence) VALUES (?, ?)
                ON CONFLICT (shard) DO UPDATE SET seen_sequence = excluded.seen_sequence
                """)
        for (shard, sequence) in seen.sorted(by: { $0.key < $1.key }) {
            try upsertSeen.execute(arguments: [Int64(shard), Int64(bitPattern: sequence)])
        }
    }

    static let insertEvent = """
        INSERT INTO events (shard, sequence, kind, order_id, account, symbol, side, price, quantity, leaves_qty,
            counter_order_id, counter_account, counter_leaves_qty, trade_id, reason, client_timestamp_ns, frame,
            recorded_at_ns)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (shard, sequence) DO NOTHING
        """

    /// The 18 values of an `events` row.
    static func arguments(_ row: EventRow, frame: ArraySlice<UInt8>) -> StatementArguments {
        func value(_ v: Int64?) -> DatabaseValue { v.map { $0.databaseValue } ?? .null }
        return StatementArguments([
            row.shard.databaseValue, row.sequence.databaseValue, row.kind.rawValue.databaseValue,
            row.orderID.databaseValue, row.account.databaseValue, row.symbol.databaseValue, value(row.side),
            value(row.price), value(row.quantity), value(row.leavesQuantity), value(row.counterOrderID),
            value(row.counterAccount), value(row.counterLeavesQuantity), value(row.tradeID), value(row.reason),
            row.clientTimestamp.databaseValue, Data(frame).databaseValue, row.recordedAt.databaseValue,
        ])
    }
}

/// The per-event statements of `orders` and `trades` (docs/persistence.md; ``OrderFold`` folds the
/// same effects for PostgreSQL), prepared on first use.
private struct OrderStatements {
    let db: Database
    private var insertAccepted: Statement?
    private var insertRejected: Statement?
    private var fillOrder: Statement?
    private var insertTrade: Statement?
    private var cancelOrder: Statement?
    private var replaceOrder: Statement?

    init(db: Database) { self.db = db }

    mutating func apply(_ event: EngineEvent, shard s: Int64, recorded: Int64) throws {
        let sequence = Int64(bitPattern: event.sequence)
        switch event {
        case .accepted(let e):
            try statement(
                &insertAccepted,
                """
                INSERT INTO orders (shard, order_id, account, symbol, side, order_type, time_in_force, price, quantity,
                    leaves_qty, cum_qty, status, created_sequence, updated_sequence)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'open', ?, ?) ON CONFLICT (shard, order_id) DO NOTHING
                """
            ).execute(arguments: [
                s, Int64(bitPattern: e.id.rawValue), Int64(e.account.rawValue), Int64(e.symbol.rawValue),
                Int64(e.side.rawValue), Int64(e.type.rawValue), Int64(e.timeInForce.rawValue), e.price, e.quantity,
                e.quantity, sequence, sequence,
            ])
        case .rejected(let e):
            guard e.command == .new else { return }  // a refused cancel or replace leaves the order as it was
            try statement(
                &insertRejected,
                """
                INSERT INTO orders (shard, order_id, account, symbol, price, quantity, leaves_qty, cum_qty, status,
                    created_sequence, updated_sequence)
                VALUES (?, ?, ?, ?, 0, 0, 0, 0, 'rejected', ?, ?) ON CONFLICT (shard, order_id) DO NOTHING
                """
            ).execute(arguments: [
                s, Int64(bitPattern: e.id.rawValue), Int64(e.account.rawValue), Int64(e.symbol.rawValue), sequence,
                sequence,
            ])
        case .fill(let e):
            let fill = try statement(
                &fillOrder,
                """
                UPDATE orders SET leaves_qty = ?, cum_qty = cum_qty + ?,
                    status = CASE WHEN ? = 0 THEN 'filled' ELSE status END, updated_sequence = ?
                WHERE shard = ? AND order_id = ?
                """)
            try fill.execute(arguments: [
                e.takerLeaves, e.quantity, e.takerLeaves, sequence, s, Int64(bitPattern: e.takerID.rawValue),
            ])
            try fill.execute(arguments: [
                e.makerLeaves, e.quantity, e.makerLeaves, sequence, s, Int64(bitPattern: e.makerID.rawValue),
            ])
            try statement(
                &insertTrade,
                """
                INSERT INTO trades (shard, trade_id, sequence, symbol, taker_order_id, maker_order_id, taker_account,
                    maker_account, taker_side, price, quantity, recorded_at_ns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shard, trade_id) DO NOTHING
                """
            ).execute(arguments: [
                s, Int64(bitPattern: e.tradeID.rawValue), sequence, Int64(e.symbol.rawValue),
                Int64(bitPattern: e.takerID.rawValue), Int64(bitPattern: e.makerID.rawValue),
                Int64(e.takerAccount.rawValue), Int64(e.makerAccount.rawValue), Int64(e.takerSide.rawValue), e.price,
                e.quantity, recorded,
            ])
        case .canceled(let e):
            try statement(
                &cancelOrder,
                """
                UPDATE orders SET leaves_qty = CASE WHEN leaves_qty > ? THEN leaves_qty - ? ELSE 0 END,
                    status = CASE WHEN leaves_qty <= ? THEN 'canceled' ELSE status END, updated_sequence = ?
                WHERE shard = ? AND order_id = ?
                """
            ).execute(arguments: [
                e.quantity, e.quantity, e.quantity, sequence, s, Int64(bitPattern: e.id.rawValue),
            ])
        case .replaced(let e):
            try statement(
                &replaceOrder,
                """
                UPDATE orders SET price = ?, leaves_qty = ?, quantity = cum_qty + ?, updated_sequence = ?
                WHERE shard = ? AND order_id = ?
                """
            ).execute(arguments: [e.price, e.quantity, e.quantity, sequence, s, Int64(bitPattern: e.id.rawValue)])
        }
    }

    private func statement(_ cached: inout Statement?, _ sql: String) throws -> Statement {
        if let cached { return cached }
        let statement = try db.cachedStatement(sql: sql)
        cached = statement
        return statement
    }
}
