import ChronosCore
import Foundation
import GRDB

/// SQLite's write path: one transaction per batch, every statement prepared once per connection
/// (GRDB's statement cache) and executed per row with its values bound directly
/// (``SQLiteRowStatement``). SQLite is in the
/// process, so a statement per row costs no round trip: each event is inserted with
/// `ON CONFLICT DO NOTHING`, and only when SQLite reports the row as inserted are its effects
/// on `orders` and `trades` applied — by the same per-event statements as always (no read of
/// the order first, no fold).
struct SQLiteBatchWriter {
    let db: Database

    func write(_ batch: StoreBatch, seen: [Int: UInt64]) throws {
        // 1. Lost ranges.
        if !batch.gaps.isEmpty {
            let insertGap = try SQLiteRowStatement(
                db,
                sql: """
                    INSERT INTO gaps (shard, from_sequence, to_sequence) VALUES (?, ?, ?)
                    ON CONFLICT (shard, from_sequence) DO NOTHING
                    """)
            for gap in batch.gaps {
                try insertGap.bind(Int64(gap.shard), Int64(bitPattern: gap.from), Int64(bitPattern: gap.to))
                try insertGap.execute()
            }
        }
        // 2. The raw log; a row SQLite did not insert was stored before, and so were its effects.
        let insertEvent = try SQLiteRowStatement(db, sql: Self.insertEvent)
        var effects = OrderStatements(db: db)
        for (index, row) in batch.rows.enumerated() {
            try Self.bind(row, frame: batch.frame(index), to: insertEvent)
            try insertEvent.execute()
            if insertEvent.changes > 0 {
                try effects.apply(batch.events[index], shard: row.shard, recorded: row.recordedAt)
            }
        }
        // 3. High-water marks, contiguous from the stored mark; 4. what the persister has read.
        let writer = SQLWriter(session: GRDBSession(db: db))
        let upsertMark = try SQLiteRowStatement(
            db,
            sql: """
                INSERT INTO high_water_marks (shard, sequence) VALUES (?, ?)
                ON CONFLICT (shard) DO UPDATE SET sequence = excluded.sequence
                """)
        for shard in batch.shards {
            let before = try writer.highWaterMark(shard: shard)
            let mark = try writer.extendFromStore(shard: shard, mark: batch.walk(shard: shard, from: before))
            if mark != before {
                try upsertMark.bind(Int64(shard), Int64(bitPattern: mark))
                try upsertMark.execute()
            }
        }
        let upsertSeen = try SQLiteRowStatement(
            db,
            sql: """
                INSERT INTO persister_progress (shard, seen_sequence) VALUES (?, ?)
                ON CONFLICT (shard) DO UPDATE SET seen_sequence = excluded.seen_sequence
                """)
        for (shard, sequence) in seen.sorted(by: { $0.key < $1.key }) {
            try upsertSeen.bind(Int64(shard), Int64(bitPattern: sequence))
            try upsertSeen.execute()
        }
    }

    static let insertEvent = """
        INSERT INTO events (shard, sequence, kind, order_id, account, symbol, side, price, quantity, leaves_qty,
            counter_order_id, counter_account, counter_leaves_qty, trade_id, reason, client_timestamp_ns, frame,
            recorded_at_ns)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (shard, sequence) DO NOTHING
        """

    /// Binds the 18 values of an `events` row.
    static func bind(_ row: EventRow, frame: ArraySlice<UInt8>, to statement: SQLiteRowStatement) throws {
        statement.reset()
        try statement.bind(row.shard, at: 1)
        try statement.bind(row.sequence, at: 2)
        try statement.bind(row.kind.name, at: 3)
        try statement.bind(row.orderID, at: 4)
        try statement.bind(row.account, at: 5)
        try statement.bind(row.symbol, at: 6)
        try statement.bind(row.side, at: 7)
        try statement.bind(row.price, at: 8)
        try statement.bind(row.quantity, at: 9)
        try statement.bind(row.leavesQuantity, at: 10)
        try statement.bind(row.counterOrderID, at: 11)
        try statement.bind(row.counterAccount, at: 12)
        try statement.bind(row.counterLeavesQuantity, at: 13)
        try statement.bind(row.tradeID, at: 14)
        try statement.bind(row.reason, at: 15)
        try statement.bind(row.clientTimestamp, at: 16)
        try statement.bind(frame, at: 17)
        try statement.bind(row.recordedAt, at: 18)
    }
}

/// The per-event statements of `orders` and `trades` (docs/persistence.md; ``OrderFold`` folds the
/// same effects for PostgreSQL), prepared on first use.
private struct OrderStatements {
    let db: Database
    private var statements: [Kind: SQLiteRowStatement] = [:]

    private enum Kind {
        case insertAccepted, insertRejected, fillOrder, insertTrade, cancelOrder, replaceOrder
    }

    init(db: Database) { self.db = db }

    mutating func apply(_ event: EngineEvent, shard s: Int64, recorded: Int64) throws {
        let sequence = Int64(bitPattern: event.sequence)
        switch event {
        case .accepted(let e):
            let insert = try statement(
                .insertAccepted,
                """
                INSERT INTO orders (shard, order_id, account, symbol, side, order_type, time_in_force, price, quantity,
                    leaves_qty, cum_qty, status, created_sequence, updated_sequence)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'open', ?, ?) ON CONFLICT (shard, order_id) DO NOTHING
                """)
            try insert.bind(
                s, Int64(bitPattern: e.id.rawValue), Int64(e.account.rawValue), Int64(e.symbol.rawValue),
                Int64(e.side.rawValue), Int64(e.type.rawValue), Int64(e.timeInForce.rawValue), e.price, e.quantity,
                e.quantity, sequence, sequence)
            try insert.execute()
        case .rejected(let e):
            guard e.command == .new else { return }  // a refused cancel or replace leaves the order as it was
            let insert = try statement(
                .insertRejected,
                """
                INSERT INTO orders (shard, order_id, account, symbol, price, quantity, leaves_qty, cum_qty, status,
                    created_sequence, updated_sequence)
                VALUES (?, ?, ?, ?, 0, 0, 0, 0, 'rejected', ?, ?) ON CONFLICT (shard, order_id) DO NOTHING
                """)
            try insert.bind(
                s, Int64(bitPattern: e.id.rawValue), Int64(e.account.rawValue), Int64(e.symbol.rawValue), sequence,
                sequence)
            try insert.execute()
        case .fill(let e):
            let fill = try statement(
                .fillOrder,
                """
                UPDATE orders SET leaves_qty = ?, cum_qty = cum_qty + ?,
                    status = CASE WHEN ? = 0 THEN 'filled' ELSE status END, updated_sequence = ?
                WHERE shard = ? AND order_id = ?
                """)
            try fill.bind(e.takerLeaves, e.quantity, e.takerLeaves, sequence, s, Int64(bitPattern: e.takerID.rawValue))
            try fill.execute()
            try fill.bind(e.makerLeaves, e.quantity, e.makerLeaves, sequence, s, Int64(bitPattern: e.makerID.rawValue))
            try fill.execute()
            let trade = try statement(
                .insertTrade,
                """
                INSERT INTO trades (shard, trade_id, sequence, symbol, taker_order_id, maker_order_id, taker_account,
                    maker_account, taker_side, price, quantity, recorded_at_ns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shard, trade_id) DO NOTHING
                """)
            try trade.bind(
                s, Int64(bitPattern: e.tradeID.rawValue), sequence, Int64(e.symbol.rawValue),
                Int64(bitPattern: e.takerID.rawValue), Int64(bitPattern: e.makerID.rawValue),
                Int64(e.takerAccount.rawValue), Int64(e.makerAccount.rawValue), Int64(e.takerSide.rawValue), e.price,
                e.quantity, recorded)
            try trade.execute()
        case .canceled(let e):
            let cancel = try statement(
                .cancelOrder,
                """
                UPDATE orders SET leaves_qty = CASE WHEN leaves_qty > ? THEN leaves_qty - ? ELSE 0 END,
                    status = CASE WHEN leaves_qty <= ? THEN 'canceled' ELSE status END, updated_sequence = ?
                WHERE shard = ? AND order_id = ?
                """)
            try cancel.bind(e.quantity, e.quantity, e.quantity, sequence, s, Int64(bitPattern: e.id.rawValue))
            try cancel.execute()
        case .replaced(let e):
            let replace = try statement(
                .replaceOrder,
                """
                UPDATE orders SET price = ?, leaves_qty = ?, quantity = cum_qty + ?, updated_sequence = ?
                WHERE shard = ? AND order_id = ?
                """)
            try replace.bind(e.price, e.quantity, e.quantity, sequence, s, Int64(bitPattern: e.id.rawValue))
            try replace.execute()
        }
    }

    /// The statement of `kind`, prepared (and its parameters reset) on first use in this batch.
    private mutating func statement(_ kind: Kind, _ sql: String) throws -> SQLiteRowStatement {
        if let statement = statements[kind] { return statement }
        let statement = try SQLiteRowStatement(db, sql: sql)
        statements[kind] = statement
        return statement
    }
}
