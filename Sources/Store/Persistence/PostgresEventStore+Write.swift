import NIOCore
import PostgresNIO

/// PostgreSQL's write path: a batch in two round trips of statements sent back to back and one
/// COPY between them. Parameters are whole columns bound once as arrays (``PostgresArrayColumn``)
/// and read with `unnest`, bulk rows are COPY text (``PostgresCopyRows``), so the statements are the
/// same whatever the batch's size and no SQL is built per event.
///
/// 1. `BEGIN`; a transaction-scoped advisory lock per shard of the batch (two persisters on one
///    store take turns: what is read below stays true until the commit); the gaps; which of the
///    batch's events the store holds already (an index range scan per run of consecutive
///    sequences, finding nothing in the usual case); the current rows of every order the events
///    name (one index lookup each); the shards' high-water marks.
/// 2. The new events — the first of each (shard, sequence) the store lacks — and their effects
///    folded per order in Swift, in batch order (``OrderFold``). Since nothing conflicts, no
///    statement needs `ON CONFLICT` (a speculative insertion per row, which cost the server more
///    than the insert itself): the new events and the orders without a row are copied in (COPY
///    parses about twice as fast as `unnest` of arrays), the orders with a row are updated in one
///    statement (HOT updates mostly: ``SQLDialect/ordersFillFactor``).
/// 3. The trades in one statement; the high-water marks walked over the batch in Swift, then over
///    what the store holds beyond it in the same statement that writes them (a recursive query,
///    one step per run of events or gap); the persister's progress; `COMMIT`.
///
/// A failure anywhere rolls the whole batch back (``PostgresEventStore``); so does a row that
/// another writer, not taking the lock, inserted meanwhile (a unique violation: the persister
/// retries the batch, and then reads it as stored).
struct PostgresBatchWriter {
    let session: PostgresSession

    /// The advisory lock class of the persister's write path ("CHRP"), with the shard as the object.
    static let lockClass: Int64 = 0x4348_5250

    func write(_ batch: StoreBatch, seen: [Int: UInt64]) throws {
        // 1. Lock, store the gaps, read what the writes depend on.
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
        let readsEvents = !batch.rows.isEmpty
        if readsEvents { first.append(Self.readStoredEvents(batch)) }
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

        // 2. Which events are new (the first of each (shard, sequence) the store lacks: only those
        //    are inserted and have effects), and their effects folded per order.
        var isNew: [Bool] = []
        if readsEvents {
            let stored = try Self.storedEvents(results.removeFirst())
            isNew.reserveCapacity(batch.rows.count)
            var taken = Set<EventKey>()
            taken.reserveCapacity(batch.rows.count)
            for row in batch.rows {
                let key = EventKey(shard: row.shard, sequence: row.sequence)
                isNew.append(!stored.contains(key) && taken.insert(key).inserted)
            }
        }
        let storedOrders = keys.isEmpty ? [:] : try Self.orders(results.removeFirst())
        var fold = OrderFold(rows: storedOrders)
        for (index, row) in batch.rows.enumerated() where isNew[index] {
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

        // 3. Copy the new events and orders in; update the orders, write the trades, the marks and
        //    the progress, and commit.
        var copies: [PostgresSession.Copy] = []
        if isNew.contains(true) { copies.append(Self.copyEvents(batch, isNew: isNew)) }
        let created = fold.changed.filter { storedOrders[$0] == nil }
        let updated = fold.changed.filter { storedOrders[$0] != nil }
        if !created.isEmpty { copies.append(Self.copyOrders(created, fold)) }
        try session.copy(copies)
        var second: [PostgresQuery] = []
        if !updated.isEmpty { second.append(Self.updateOrders(updated, fold)) }
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

    /// The batch's runs of consecutive sequences per shard, as (shard, first, last): each run is
    /// one index range scan of ``readStoredEvents(_:)`` (one run per shard in the usual batch).
    static func runs(_ batch: StoreBatch) -> [(shard: Int64, first: Int64, last: Int64)] {
        var runs: [(shard: Int64, first: Int64, last: Int64)] = []
        var keys = batch.rows.map { EventKey(shard: $0.shard, sequence: $0.sequence) }
        keys.sort { ($0.shard, $0.sequence) < ($1.shard, $1.sequence) }  // signed, as the index orders them
        for key in keys {
            if let last = runs.last, last.shard == key.shard, last.last == Int64.max || key.sequence <= last.last + 1 {
                runs[runs.count - 1].last = max(last.last, key.sequence)
            } else {
                runs.append((key.shard, key.sequence, key.sequence))
            }
        }
        return runs
    }

    /// The keys of the batch's events the store holds already, as one row of arrays: an index range
    /// scan per run of consecutive sequences (``runs(_:)``), finding nothing in the usual case.
    /// Read after the shards' locks, so no other persister inserts any of them before the commit.
    static func readStoredEvents(_ batch: StoreBatch) -> PostgresQuery {
        let runs = runs(batch)
        var shards = PostgresArrayColumn.int8(capacity: runs.count)
        var firsts = PostgresArrayColumn.int8(capacity: runs.count)
        var lasts = PostgresArrayColumn.int8(capacity: runs.count)
        for run in runs {
            shards.append(run.shard)
            firsts.append(run.first)
            lasts.append(run.last)
        }
        return query(
            """
            SELECT array_agg(e.shard), array_agg(e.sequence)
            FROM unnest($1::int8[], $2::int8[], $3::int8[]) AS r (shard, first, last)
            CROSS JOIN LATERAL (SELECT shard, sequence FROM events
                WHERE shard = r.shard AND sequence >= r.first AND sequence <= r.last) e
            """, [shards, firsts, lasts])
    }

    private static func storedEvents(_ result: PostgresQueryResult) throws -> Set<EventKey> {
        guard let row = result.rows.first else { return [] }
        let cells = Array(row)
        guard cells.count == 2 else { throw EventStoreError("postgresql: the events read returned no arrays") }
        let shards = try PostgresArrayReader.int8(cells[0])
        let sequences = try PostgresArrayReader.int8(cells[1])
        var keys = Set<EventKey>()
        for (shard, sequence) in zip(shards, sequences) {
            guard let shard, let sequence else { throw EventStoreError("postgresql: a NULL event key") }
            keys.insert(EventKey(shard: shard, sequence: sequence))
        }
        return keys
    }

    static let eventColumns = [
        "shard", "sequence", "kind", "order_id", "account", "symbol", "side", "price", "quantity", "leaves_qty",
        "counter_order_id", "counter_account", "counter_leaves_qty", "trade_id", "reason", "client_timestamp_ns",
        "frame", "recorded_at_ns",
    ]

    /// The rows `isNew` marks, copied into `events` (none of them is stored: ``readStoredEvents(_:)``).
    static func copyEvents(_ batch: StoreBatch, isNew: [Bool]) -> PostgresSession.Copy {
        var rows = PostgresCopyRows(capacity: batch.rows.count * 400)
        for (index, row) in batch.rows.enumerated() where isNew[index] {
            rows.append(row.shard)
            rows.append(row.sequence)
            rows.append(word: row.kind.name.description)
            rows.append(row.orderID)
            rows.append(row.account)
            rows.append(row.symbol)
            rows.append(row.side)
            rows.append(row.price)
            rows.append(row.quantity)
            rows.append(row.leavesQuantity)
            rows.append(row.counterOrderID)
            rows.append(row.counterAccount)
            rows.append(row.counterLeavesQuantity)
            rows.append(row.tradeID)
            rows.append(row.reason)
            rows.append(row.clientTimestamp)
            rows.append(bytes: batch.frame(index))
            rows.append(row.recordedAt)
            rows.endRow()
        }
        return PostgresSession.Copy(table: "events", columns: eventColumns, rows: rows)
    }

    /// The stored rows of `keys`, as one row of arrays: one primary-key lookup per key (the `LIMIT`,
    /// a no-op on a key, keeps the planner from hashing the whole table instead, which it chose
    /// for a batch's keys once the table held a few thousand rows).
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
            CROSS JOIN LATERAL (SELECT * FROM orders WHERE shard = k.shard AND order_id = k.order_id LIMIT 1) o
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

    /// The folded rows of `keys` as bound columns, in the table's column order.
    private static func orderColumns(_ keys: [OrderKey], _ fold: OrderFold) -> [PostgresArrayColumn] {
        let n = keys.count
        var columns = (0..<13).map { _ in PostgresArrayColumn.int8(capacity: n) }
        var statuses = PostgresArrayColumn.text(capacity: n)
        for key in keys {
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
        return Array(columns[0...10]) + [statuses] + Array(columns[11...12])
    }

    /// The folded rows of orders the store had no row of (``readOrders(_:)``, under the shards'
    /// locks), copied into `orders`.
    static func copyOrders(_ keys: [OrderKey], _ fold: OrderFold) -> PostgresSession.Copy {
        var rows = PostgresCopyRows(capacity: keys.count * 160)
        for key in keys {
            guard let row = fold.rows[key] else { continue }  // changed rows are never removed
            rows.append(key.shard)
            rows.append(key.orderID)
            rows.append(row.account)
            rows.append(row.symbol)
            rows.append(row.side)
            rows.append(row.type)
            rows.append(row.timeInForce)
            rows.append(row.price)
            rows.append(row.quantity)
            rows.append(row.leavesQuantity)
            rows.append(row.cumulativeQuantity)
            rows.append(word: row.status)
            rows.append(row.createdSequence)
            rows.append(row.updatedSequence)
            rows.endRow()
        }
        return PostgresSession.Copy(
            table: "orders",
            columns: [
                "shard", "order_id", "account", "symbol", "side", "order_type", "time_in_force", "price", "quantity",
                "leaves_qty", "cum_qty", "status", "created_sequence", "updated_sequence",
            ], rows: rows)
    }

    /// The folded rows of orders the store had a row of, replaced whole: one index lookup each.
    static func updateOrders(_ keys: [OrderKey], _ fold: OrderFold) -> PostgresQuery {
        query(
            """
            UPDATE orders o SET account = u.account, symbol = u.symbol, side = u.side, order_type = u.order_type,
                time_in_force = u.time_in_force, price = u.price, quantity = u.quantity, leaves_qty = u.leaves_qty,
                cum_qty = u.cum_qty, status = u.status, created_sequence = u.created_sequence,
                updated_sequence = u.updated_sequence
            FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[],
                $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::text[], $13::int8[], $14::int8[])
                AS u (shard, order_id, account, symbol, side, order_type, time_in_force, price, quantity,
                    leaves_qty, cum_qty, status, created_sequence, updated_sequence)
            WHERE o.shard = u.shard AND o.order_id = u.order_id
            """, orderColumns(keys, fold))
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
