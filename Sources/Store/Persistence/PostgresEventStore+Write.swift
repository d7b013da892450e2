import NIOCore
import PostgresNIO

/// PostgreSQL's write path: a batch in two round trips of statements sent back to back, each
/// column of a table bound once as an array (``PostgresArrayColumn``) and read with `unnest`, so
/// the statements are the same whatever the batch's size and no SQL is built per event.
///
/// 1. `BEGIN`; a transaction-scoped advisory lock per shard of the batch (two persisters on one
///    store take turns: the fold below reads the orders before writing them); the gaps; the events
///    (`INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING`, answering how many rows were new and,
///    only when some were not, which); the current rows of every order the events name (one
///    index lookup each); the shards' high-water marks.
/// 2. The new events' effects folded per order in Swift, in batch order (``OrderFold``), written
///    as one upsert of the final rows; the trades in one statement; the high-water marks walked
///    over the batch in Swift, then over what the store holds beyond it in the same statement
///    that writes them (a recursive query, one step per run of events or gap); the persister's
///    progress; `COMMIT`.
///
/// A failure anywhere rolls the whole batch back (``PostgresEventStore``).
struct PostgresBatchWriter {
    let session: PostgresSession

    /// The advisory lock class of the persister's write path ("CHRP"), with the shard as the object.
    static let lockClass: Int64 = 0x4348_5250

    func write(_ batch: StoreBatch, seen: [Int: UInt64]) throws {
        // 1. Lock, store the log and gaps, read what the effects depend on.
        var first: [PostgresQuery] = [PostgresSession.query("BEGIN", [])]
        if !batch.shards.isEmpty {
            var shards = PostgresArrayColumn.int8(capacity: batch.shards.count)
            for shard in batch.shards { shards.append(Int64(shard)) }
            first.append(
                Self.query(
                    "SELECT pg_advisory_xact_lock(\(Self.lockClass)::int4, s::int4) FROM unnest($1::int8[]) AS s",
                    [shards]))
        }
        if !batch.gaps.isEmpty { first.append(Self.insertGaps(batch.gaps)) }
        let insertsEvents = !batch.rows.isEmpty
        if insertsEvents { first.append(Self.insertEvents(batch)) }
        var keys: [OrderKey] = []
        var keySet = Set<OrderKey>()
        for (row, event) in zip(batch.rows, batch.events) {
            let (a, b) = OrderFold.keys(of: event, shard: row.shard)
            for key in [a, b] {
                if let key, keySet.insert(key).inserted { keys.append(key) }
            }
        }
        if !keys.isEmpty { first.append(Self.readOrders(keys)) }
        if !batch.shards.isEmpty { first.append(Self.readMarks(batch)) }
        var results = try session.run(first)[1...]
        if !batch.shards.isEmpty { results.removeFirst() }
        if !batch.gaps.isEmpty { results.removeFirst() }

        // 2. Which events are new (only those have effects), and the effects folded per order.
        var isNew: (Int, EventRow) -> Bool = { _, _ in true }
        if insertsEvents {
            let inserted = try Self.insertedEvents(results.removeFirst(), expected: batch.rows.count)
            if let inserted {
                var applied = Set<EventKey>()
                isNew = { _, row in
                    let key = EventKey(shard: row.shard, sequence: row.sequence)
                    return inserted.contains(key) && applied.insert(key).inserted
                }
            }
        }
        var fold = OrderFold(rows: keys.isEmpty ? [:] : try Self.orders(results.removeFirst()))
        for (index, row) in batch.rows.enumerated() where isNew(index, row) {
            try fold.apply(batch.events[index], shard: row.shard, recorded: row.recordedAt)
        }
        var marks: [(shard: Int, before: UInt64, walked: UInt64)] = []
        if !batch.shards.isEmpty {
            var stored: [Int: UInt64] = [:]
            for row in results.removeFirst().rows {
                let (shard, sequence) = try row.decode((Int64, Int64).self)
                stored[Int(shard)] = UInt64(bitPattern: sequence)
            }
            for shard in batch.shards {
                let before = stored[shard] ?? 0
                marks.append((shard, before, batch.walk(shard: shard, from: before)))
            }
        }

        // 3. Write the effects, the marks and the progress, and commit.
        var second: [PostgresQuery] = []
        if !fold.changed.isEmpty { second.append(Self.upsertOrders(fold)) }
        if !fold.trades.isEmpty { second.append(Self.insertTrades(fold.trades)) }
        if !marks.isEmpty { second.append(Self.advanceMarks(marks)) }
        if !seen.isEmpty {
            var shards = PostgresArrayColumn.int8(capacity: seen.count)
            var sequences = PostgresArrayColumn.int8(capacity: seen.count)
            for (shard, sequence) in seen.sorted(by: { $0.key < $1.key }) {
                shards.append(Int64(shard))
                sequences.append(Int64(bitPattern: sequence))
            }
            second.append(
                Self.query(
                    """
                    INSERT INTO persister_progress (shard, seen_sequence)
                    SELECT * FROM unnest($1::int8[], $2::int8[])
                    ON CONFLICT (shard) DO UPDATE SET seen_sequence = excluded.seen_sequence
                    """, [shards, sequences]))
        }
        second.append(PostgresSession.query("COMMIT", []))
        _ = try session.run(second)
    }

    private struct EventKey: Hashable {
        var shard: Int64
        var sequence: Int64
    }

    static func query(_ sql: String, _ columns: [PostgresArrayColumn]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: columns.count)
        for column in columns { bindings.append(column) }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func insertGaps(_ gaps: [StoreBatch.Gap]) -> PostgresQuery {
        var shards = PostgresArrayColumn.int8(capacity: gaps.count)
        var froms = PostgresArrayColumn.int8(capacity: gaps.count)
        var tos = PostgresArrayColumn.int8(capacity: gaps.count)
        for gap in gaps {
            shards.append(Int64(gap.shard))
            froms.append(Int64(bitPattern: gap.from))
            tos.append(Int64(bitPattern: gap.to))
        }
        return query(
            """
            INSERT INTO gaps (shard, from_sequence, to_sequence) SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[])
            ON CONFLICT (shard, from_sequence) DO NOTHING
            """, [shards, froms, tos])
    }

    /// The events, and one row back: how many were inserted and, when fewer than the batch's rows
    /// (some were stored before, or a (shard, sequence) is twice in the batch), which.
    static func insertEvents(_ batch: StoreBatch) -> PostgresQuery {
        let n = batch.rows.count
        var int8Columns = (0..<16).map { _ in PostgresArrayColumn.int8(capacity: n) }
        var kinds = PostgresArrayColumn.text(capacity: n)
        var frames = PostgresArrayColumn.bytea(capacity: n, bytesPerElement: 96)
        for (index, row) in batch.rows.enumerated() {
            int8Columns[0].append(row.shard)
            int8Columns[1].append(row.sequence)
            kinds.append(text: row.kind.rawValue)
            int8Columns[2].append(row.orderID)
            int8Columns[3].append(row.account)
            int8Columns[4].append(row.symbol)
            int8Columns[5].append(row.side)
            int8Columns[6].append(row.price)
            int8Columns[7].append(row.quantity)
            int8Columns[8].append(row.leavesQuantity)
            int8Columns[9].append(row.counterOrderID)
            int8Columns[10].append(row.counterAccount)
            int8Columns[11].append(row.counterLeavesQuantity)
            int8Columns[12].append(row.tradeID)
            int8Columns[13].append(row.reason)
            int8Columns[14].append(row.clientTimestamp)
            frames.append(bytes: batch.frame(index))
            int8Columns[15].append(row.recordedAt)
        }
        var bindings = PostgresBindings(capacity: 19)
        bindings.append(int8Columns[0])
        bindings.append(int8Columns[1])
        bindings.append(kinds)
        for column in int8Columns[2...14] { bindings.append(column) }
        bindings.append(frames)
        bindings.append(int8Columns[15])
        bindings.append(Int64(n))
        return PostgresQuery(
            unsafeSQL: """
                WITH inserted AS (
                    INSERT INTO events (shard, sequence, kind, order_id, account, symbol, side, price, quantity,
                        leaves_qty, counter_order_id, counter_account, counter_leaves_qty, trade_id, reason,
                        client_timestamp_ns, frame, recorded_at_ns)
                    SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::int8[], $5::int8[], $6::int8[],
                        $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[],
                        $14::int8[], $15::int8[], $16::int8[], $17::bytea[], $18::int8[])
                    ON CONFLICT (shard, sequence) DO NOTHING
                    RETURNING shard, sequence)
                SELECT count(*)::int8, CASE WHEN count(*) < $19 THEN array_agg(shard) END,
                    CASE WHEN count(*) < $19 THEN array_agg(sequence) END
                FROM inserted
                """, binds: bindings)
    }

    /// The keys of the events ``insertEvents(_:)`` inserted; nil when it inserted them all.
    private static func insertedEvents(_ result: PostgresQueryResult, expected: Int) throws -> Set<EventKey>? {
        guard let row = result.rows.first else {
            throw EventStoreError("postgresql: the events insert returned no row")
        }
        let cells = Array(row)
        guard cells.count == 3 else { throw EventStoreError("postgresql: the events insert returned no count") }
        if try cells[0].decode(Int64.self) == Int64(expected) { return nil }
        let shards = try PostgresArrayReader.int8(cells[1])
        let sequences = try PostgresArrayReader.int8(cells[2])
        var keys = Set<EventKey>()
        for (shard, sequence) in zip(shards, sequences) {
            guard let shard, let sequence else { throw EventStoreError("postgresql: a NULL key was inserted") }
            keys.insert(EventKey(shard: shard, sequence: sequence))
        }
        return keys
    }

    /// The stored rows of `keys`, as one row of arrays.
    static func readOrders(_ keys: [OrderKey]) -> PostgresQuery {
        var shards = PostgresArrayColumn.int8(capacity: keys.count)
        var ids = PostgresArrayColumn.int8(capacity: keys.count)
        for key in keys {
            shards.append(key.shard)
            ids.append(key.orderID)
        }
        return query(
            """
            SELECT array_agg(o.shard), array_agg(o.order_id), array_agg(o.account), array_agg(o.symbol),
                array_agg(o.side), array_agg(o.order_type), array_agg(o.time_in_force), array_agg(o.price),
                array_agg(o.quantity), array_agg(o.leaves_qty), array_agg(o.cum_qty), array_agg(o.status),
                array_agg(o.created_sequence), array_agg(o.updated_sequence)
            FROM unnest($1::int8[], $2::int8[]) AS k (shard, order_id)
            JOIN orders o ON o.shard = k.shard AND o.order_id = k.order_id
            """, [shards, ids])
    }

    private static func orders(_ result: PostgresQueryResult) throws -> [OrderKey: OrderRow] {
        guard let row = result.rows.first else { return [:] }
        let cells = Array(row)
        guard cells.count == 14 else { throw EventStoreError("postgresql: the orders read returned no arrays") }
        var columns: [[Int64?]] = []
        for index in 0..<14 where index != 11 { columns.append(try PostgresArrayReader.int8(cells[index])) }
        let statuses = try PostgresArrayReader.text(cells[11])
        var rows: [OrderKey: OrderRow] = [:]
        rows.reserveCapacity(statuses.count)
        guard columns.allSatisfy({ $0.count == statuses.count }) else {
            throw EventStoreError("postgresql: the orders read returned arrays of different lengths")
        }
        for i in 0..<statuses.count {
            func value(_ column: Int) throws -> Int64 {
                guard let v = columns[column][i] else {
                    throw EventStoreError("postgresql: orders: a NULL in a NOT NULL column")
                }
                return v
            }
            guard let status = statuses[i] else { throw EventStoreError("postgresql: orders: a NULL status") }
            rows[OrderKey(shard: try value(0), orderID: try value(1))] = OrderRow(
                account: try value(2), symbol: try value(3), side: columns[4][i], type: columns[5][i],
                timeInForce: columns[6][i], price: try value(7), quantity: try value(8), leavesQuantity: try value(9),
                cumulativeQuantity: try value(10), status: status, createdSequence: try value(11),
                updatedSequence: try value(12))
        }
        return rows
    }

    /// The folded rows, created or replaced whole.
    static func upsertOrders(_ fold: OrderFold) -> PostgresQuery {
        let n = fold.changed.count
        var columns = (0..<13).map { _ in PostgresArrayColumn.int8(capacity: n) }
        var statuses = PostgresArrayColumn.text(capacity: n)
        for key in fold.changed {
            guard let row = fold.rows[key] else { continue }  // changed rows are never removed
            columns[0].append(key.shard)
            columns[1].append(key.orderID)
            columns[2].append(row.account)
            columns[3].append(row.symbol)
            columns[4].append(row.side)
            columns[5].append(row.type)
            columns[6].append(row.timeInForce)
            columns[7].append(row.price)
            columns[8].append(row.quantity)
            columns[9].append(row.leavesQuantity)
            columns[10].append(row.cumulativeQuantity)
            statuses.append(text: row.status)
            columns[11].append(row.createdSequence)
            columns[12].append(row.updatedSequence)
        }
        return query(
            """
            INSERT INTO orders (shard, order_id, account, symbol, side, order_type, time_in_force, price, quantity,
                leaves_qty, cum_qty, status, created_sequence, updated_sequence)
            SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[],
                $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::text[], $13::int8[], $14::int8[])
            ON CONFLICT (shard, order_id) DO UPDATE SET account = excluded.account, symbol = excluded.symbol,
                side = excluded.side, order_type = excluded.order_type, time_in_force = excluded.time_in_force,
                price = excluded.price, quantity = excluded.quantity, leaves_qty = excluded.leaves_qty,
                cum_qty = excluded.cum_qty, status = excluded.status, created_sequence = excluded.created_sequence,
                updated_sequence = excluded.updated_sequence
            """, Array(columns[0...10]) + [statuses] + Array(columns[11...12]))
    }

    static func insertTrades(_ trades: [TradeRow]) -> PostgresQuery {
        var columns = (0..<12).map { _ in PostgresArrayColumn.int8(capacity: trades.count) }
        for t in trades {
            for (index, value) in [
                t.shard, t.tradeID, t.sequence, t.symbol, t.takerOrderID, t.makerOrderID, t.takerAccount,
                t.makerAccount, t.takerSide, t.price, t.quantity, t.recordedAt,
            ].enumerated() {
                columns[index].append(value)
            }
        }
        return query(
            """
            INSERT INTO trades (shard, trade_id, sequence, symbol, taker_order_id, maker_order_id, taker_account,
                maker_account, taker_side, price, quantity, recorded_at_ns)
            SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[],
                $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[])
            ON CONFLICT (shard, trade_id) DO NOTHING
            """, columns)
    }

    /// The stored high-water marks of the batch's shards.
    static func readMarks(_ batch: StoreBatch) -> PostgresQuery {
        var shards = PostgresArrayColumn.int8(capacity: batch.shards.count)
        for shard in batch.shards { shards.append(Int64(shard)) }
        return query("SELECT shard, sequence FROM high_water_marks WHERE shard = ANY($1::int8[])", [shards])
    }

    /// Each shard's high-water mark, from `walked` (the stored mark walked over the batch in Swift,
    /// ``StoreBatch/walk(shard:from:)``) over what the store holds beyond it, while contiguous:
    /// one recursive step per run of stored events or gap crossed (``SQLWriter/nextStep``; one
    /// lookup, finding nothing, in the usual case). Written when it differs from `before`.
    static func advanceMarks(_ marks: [(shard: Int, before: UInt64, walked: UInt64)]) -> PostgresQuery {
        var shards = PostgresArrayColumn.int8(capacity: marks.count)
        var befores = PostgresArrayColumn.int8(capacity: marks.count)
        var walked = PostgresArrayColumn.int8(capacity: marks.count)
        for mark in marks {
            shards.append(Int64(mark.shard))
            befores.append(Int64(bitPattern: mark.before))
            walked.append(Int64(bitPattern: mark.walked))
        }
        return query(
            """
            WITH RECURSIVE walk (shard, before, mark) AS (
                SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[])
              UNION ALL
                SELECT w.shard, w.before, next.mark FROM walk w CROSS JOIN LATERAL (
                    SELECT GREATEST(
                        CASE WHEN EXISTS (SELECT 1 FROM events WHERE shard = w.shard AND sequence = w.mark + 1) THEN
                            (SELECT e.sequence FROM events e WHERE e.shard = w.shard AND e.sequence > w.mark
                                AND NOT EXISTS (SELECT 1 FROM events f WHERE f.shard = e.shard
                                    AND f.sequence = e.sequence + 1)
                             ORDER BY e.sequence LIMIT 1)
                        END,
                        (SELECT MAX(to_sequence) FROM gaps WHERE shard = w.shard AND from_sequence <= w.mark + 1
                            AND to_sequence >= w.mark + 1)) AS mark
                ) next
                WHERE next.mark > w.mark)
            INSERT INTO high_water_marks (shard, sequence)
            SELECT shard, MAX(mark) FROM walk GROUP BY shard HAVING MAX(mark) <> MAX(before)
            ON CONFLICT (shard) DO UPDATE SET sequence = excluded.sequence
            """, [shards, befores, walked])
    }
}
