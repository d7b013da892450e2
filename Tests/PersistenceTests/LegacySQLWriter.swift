import ChronosCore
import Runtime

@testable import Persistence

extension SQLEventStore {
    /// Writes `batch` and `seen` in one transaction through ``LegacySQLWriter``.
    func writeThroughLegacyPath(batch: [StoreItem], seen: [Int: UInt64]) throws {
        try transaction { session in
            try LegacySQLWriter(session: session).write(batch)
            for (shard, sequence) in seen.sorted(by: { $0.key < $1.key }) {
                try session.execute(
                    """
                    INSERT INTO persister_progress (shard, seen_sequence) VALUES (?, ?)
                    ON CONFLICT (shard) DO UPDATE SET seen_sequence = excluded.seen_sequence
                    """, [SQLValue(shard), SQLValue(sequence)])
            }
        }
    }
}

/// The write path as it was before the set-based one (a statement per event, a lookup per event
/// of the high-water mark's walk), kept unchanged as the tests' oracle: the stores' write paths
/// must leave exactly the tables this one leaves (`WritePathTests`). Its one known difference: an
/// event twice in the same batch had its effects applied twice (the stores apply them once).
///
/// One transaction: events (multi-row, `ON CONFLICT DO NOTHING RETURNING`), then — for the events
/// that were new only — orders and trades, then gaps and high-water marks.
struct LegacySQLWriter {
    let session: any SQLSession

    /// Rows per multi-row INSERT (18 values each, far below both databases' parameter limits).
    static let rowsPerInsert = 64

    func highWaterMark(shard: Int) throws -> UInt64 {
        try session.query("SELECT sequence FROM high_water_marks WHERE shard = ?", [SQLValue(shard)]).first?[0]
            .uint64 ?? 0
    }

    func write(_ batch: [StoreItem]) throws {
        // An event the persister did not time is recorded at this transaction's time.
        let now = SystemClock.wallClockNanoseconds()
        var events: [(shard: Int, event: EngineEvent, timestamp: UInt64, recorded: UInt64)] = []
        var gaps: [(shard: Int, from: UInt64, to: UInt64)] = []
        for item in batch {
            switch item {
            case .event(let shard, let event, let timestamp, let recorded):
                events.append((shard, event, timestamp, recorded ?? now))
            case .gap(let shard, let from, let to): gaps.append((shard, from, to))
            }
        }
        // 1. The raw log; the database says which rows were new.
        var inserted = Set<Key>()
        var start = 0
        while start < events.count {
            let chunk = events[start..<min(start + Self.rowsPerInsert, events.count)]
            start += chunk.count
            var values: [SQLValue] = []
            values.reserveCapacity(chunk.count * 18)
            for (shard, event, timestamp, recorded) in chunk {
                values += try Self.eventRow(shard: shard, event, timestamp: timestamp, recorded: recorded)
            }
            let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count)
            let returned = try session.query(
                """
                INSERT INTO events (shard, sequence, kind, order_id, account, symbol, side, price, quantity, leaves_qty,
                    counter_order_id, counter_account, counter_leaves_qty, trade_id, reason, client_timestamp_ns, frame,
                    recorded_at_ns)
                VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (shard, sequence) DO NOTHING RETURNING shard, sequence
                """, values)
            for row in returned { inserted.insert(Key(shard: Int(row[0].int64), sequence: row[1].uint64)) }
        }
        // 2. Orders and trades, from the new events only, in sequence order.
        for (shard, event, _, recorded) in events
        where inserted.contains(Key(shard: shard, sequence: event.sequence)) {
            try apply(shard: shard, event, recorded: recorded)
        }
        // 3. Lost ranges.
        for gap in gaps {
            try session.execute(
                "INSERT INTO gaps (shard, from_sequence, to_sequence) VALUES (?, ?, ?) ON CONFLICT (shard, from_sequence) DO NOTHING",
                [SQLValue(gap.shard), SQLValue(gap.from), SQLValue(gap.to)])
        }
        // 4. High-water marks: only over what is contiguous from the stored mark.
        var sequencesByShard: [Int: Set<UInt64>] = [:]
        for (shard, event, _, _) in events { sequencesByShard[shard, default: []].insert(event.sequence) }
        var gapsByShard: [Int: [(from: UInt64, to: UInt64)]] = [:]
        for gap in gaps { gapsByShard[gap.shard, default: []].append((gap.from, gap.to)) }
        for shard in Set(sequencesByShard.keys).union(gapsByShard.keys).sorted() {
            let before = try highWaterMark(shard: shard)
            var mark = before
            let sequences = sequencesByShard[shard] ?? []
            let shardGaps = gapsByShard[shard] ?? []
            while true {
                if sequences.contains(mark + 1) {
                    mark += 1
                } else if let gap = shardGaps.first(where: { $0.from <= mark + 1 && $0.to >= mark + 1 }) {
                    mark = gap.to
                } else {
                    break
                }
            }
            // Events stored past a hole by an earlier batch count once the hole is filled.
            mark = try extendFromStore(shard: shard, mark: mark)
            if mark != before {
                try session.execute(
                    """
                    INSERT INTO high_water_marks (shard, sequence) VALUES (?, ?)
                    ON CONFLICT (shard) DO UPDATE SET sequence = excluded.sequence
                    """, [SQLValue(shard), SQLValue(mark)])
            }
        }
    }

    /// Walks the stored events and gaps past `mark` while they are contiguous (one lookup when
    /// nothing follows, the usual case).
    private func extendFromStore(shard: Int, mark start: UInt64) throws -> UInt64 {
        var mark = start
        while true {
            if try !session.query(
                "SELECT sequence FROM events WHERE shard = ? AND sequence = ?", [SQLValue(shard), SQLValue(mark + 1)]
            ).isEmpty {
                mark += 1
            } else if let row = try session.query(
                "SELECT to_sequence FROM gaps WHERE shard = ? AND from_sequence <= ? AND to_sequence >= ?",
                [SQLValue(shard), SQLValue(mark + 1), SQLValue(mark + 1)]
            ).first {
                mark = row[0].uint64
            } else {
                return mark
            }
        }
    }

    private struct Key: Hashable {
        var shard: Int
        var sequence: UInt64
    }

    /// The 18 column values of an event row, ending with its re-encoded wire frame and the time the
    /// persister received it.
    static func eventRow(shard: Int, _ event: EngineEvent, timestamp: UInt64, recorded: UInt64) throws -> [SQLValue] {
        let frame = try encodeFrame(shard: shard, event, timestamp: timestamp)
        let head: [SQLValue] = [SQLValue(shard), SQLValue(event.sequence)]
        let tail: [SQLValue] = [SQLValue(timestamp), .blob(frame), SQLValue(recorded)]
        switch event {
        case .accepted(let e):
            return head + [
                .text("accepted"), SQLValue(e.id.rawValue), SQLValue(e.account.rawValue), SQLValue(e.symbol.rawValue),
                .int(Int64(e.side.rawValue)), .int(e.price), .int(e.quantity), .int(e.quantity), .null, .null, .null,
                .null, .null,
            ] + tail
        case .rejected(let e):
            return head + [
                .text("rejected"), SQLValue(e.id.rawValue), SQLValue(e.account.rawValue), SQLValue(e.symbol.rawValue),
                .null, .null, .null, .null, .null, .null, .null, .null, .int(Int64(e.reason.rawValue)),
            ] + tail
        case .fill(let e):
            return head + [
                .text("fill"), SQLValue(e.takerID.rawValue), SQLValue(e.takerAccount.rawValue),
                SQLValue(e.symbol.rawValue), .int(Int64(e.takerSide.rawValue)), .int(e.price), .int(e.quantity),
                .int(e.takerLeaves), SQLValue(e.makerID.rawValue), SQLValue(e.makerAccount.rawValue),
                .int(e.makerLeaves), SQLValue(e.tradeID.rawValue), .null,
            ] + tail
        case .canceled(let e):
            return head + [
                .text("canceled"), SQLValue(e.id.rawValue), SQLValue(e.account.rawValue), SQLValue(e.symbol.rawValue),
                .int(Int64(e.side.rawValue)), .null, .int(e.quantity), .null, .null, .null, .null, .null,
                .int(Int64(e.reason.rawValue)),
            ] + tail
        case .replaced(let e):
            return head + [
                .text("replaced"), SQLValue(e.id.rawValue), SQLValue(e.account.rawValue), SQLValue(e.symbol.rawValue),
                .int(Int64(e.side.rawValue)), .int(e.price), .int(e.quantity), .int(e.quantity), .null, .null, .null,
                .null, .null,
            ] + tail
        }
    }

    /// The event's wire frame (96 bytes), as the engine published it.
    static func encodeFrame(shard: Int, _ event: EngineEvent, timestamp: UInt64) throws -> [UInt8] {
        let frame = WireFrame(
            shard: UInt16(truncatingIfNeeded: shard), message: .event(event, clientTimestampNanos: timestamp))
        var bytes = [UInt8](repeating: 0, count: WireFormat.maxFrameSize)
        let result = bytes.withUnsafeMutableBytes { frame.encode(into: $0) }
        guard case .success(let length) = result else {
            throw EventStoreError("shard \(shard) sequence \(event.sequence): the event does not encode")
        }
        return Array(bytes[0..<length])
    }

    /// Applies a new event to the orders and trades tables.
    private func apply(shard: Int, _ event: EngineEvent, recorded: UInt64) throws {
        let s = SQLValue(shard)
        switch event {
        case .accepted(let e):
            try session.execute(
                """
                INSERT INTO orders (shard, order_id, account, symbol, side, order_type, time_in_force, price, quantity,
                    leaves_qty, cum_qty, status, created_sequence, updated_sequence)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'open', ?, ?) ON CONFLICT (shard, order_id) DO NOTHING
                """,
                [
                    s, SQLValue(e.id.rawValue), SQLValue(e.account.rawValue), SQLValue(e.symbol.rawValue),
                    .int(Int64(e.side.rawValue)), .int(Int64(e.type.rawValue)), .int(Int64(e.timeInForce.rawValue)),
                    .int(e.price), .int(e.quantity), .int(e.quantity), SQLValue(e.sequence), SQLValue(e.sequence),
                ])
        case .rejected(let e):
            guard e.command == .new else { return }  // a refused cancel or replace leaves the order as it was
            try session.execute(
                """
                INSERT INTO orders (shard, order_id, account, symbol, price, quantity, leaves_qty, cum_qty, status,
                    created_sequence, updated_sequence)
                VALUES (?, ?, ?, ?, 0, 0, 0, 0, 'rejected', ?, ?) ON CONFLICT (shard, order_id) DO NOTHING
                """,
                [
                    s, SQLValue(e.id.rawValue), SQLValue(e.account.rawValue), SQLValue(e.symbol.rawValue),
                    SQLValue(e.sequence), SQLValue(e.sequence),
                ])
        case .fill(let e):
            for (id, leaves) in [(e.takerID, e.takerLeaves), (e.makerID, e.makerLeaves)] {
                try session.execute(
                    """
                    UPDATE orders SET leaves_qty = ?, cum_qty = cum_qty + ?,
                        status = CASE WHEN ? = 0 THEN 'filled' ELSE status END, updated_sequence = ?
                    WHERE shard = ? AND order_id = ?
                    """, [.int(leaves), .int(e.quantity), .int(leaves), SQLValue(e.sequence), s, SQLValue(id.rawValue)])
            }
            try session.execute(
                """
                INSERT INTO trades (shard, trade_id, sequence, symbol, taker_order_id, maker_order_id, taker_account,
                    maker_account, taker_side, price, quantity, recorded_at_ns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shard, trade_id) DO NOTHING
                """,
                [
                    s, SQLValue(e.tradeID.rawValue), SQLValue(e.sequence), SQLValue(e.symbol.rawValue),
                    SQLValue(e.takerID.rawValue), SQLValue(e.makerID.rawValue), SQLValue(e.takerAccount.rawValue),
                    SQLValue(e.makerAccount.rawValue), .int(Int64(e.takerSide.rawValue)), .int(e.price),
                    .int(e.quantity), SQLValue(recorded),
                ])
        case .canceled(let e):
            try session.execute(
                """
                UPDATE orders SET leaves_qty = CASE WHEN leaves_qty > ? THEN leaves_qty - ? ELSE 0 END,
                    status = CASE WHEN leaves_qty <= ? THEN 'canceled' ELSE status END, updated_sequence = ?
                WHERE shard = ? AND order_id = ?
                """,
                [
                    .int(e.quantity), .int(e.quantity), .int(e.quantity), SQLValue(e.sequence), s,
                    SQLValue(e.id.rawValue),
                ])
        case .replaced(let e):
            try session.execute(
                """
                UPDATE orders SET price = ?, leaves_qty = ?, quantity = cum_qty + ?, updated_sequence = ?
                WHERE shard = ? AND order_id = ?
                """,
                [.int(e.price), .int(e.quantity), .int(e.quantity), SQLValue(e.sequence), s, SQLValue(e.id.rawValue)])
        }
    }
}
