import ChronosCore

/// A value bound to or read from a statement. Unsigned 64-bit ids and sequences are stored as
/// their `Int64` bit pattern (both databases have signed 64-bit integers only).
enum SQLValue: Hashable, Sendable {
    case int(Int64)
    case text(String)
    case blob([UInt8])
    case null

    init(_ value: UInt64) { self = .int(Int64(bitPattern: value)) }
    init(_ value: Int) { self = .int(Int64(value)) }
    init(_ value: UInt32) { self = .int(Int64(value)) }
    init(_ value: Int64) { self = .int(value) }

    var int64: Int64 {
        if case .int(let v) = self { return v }
        return 0
    }
    var uint64: UInt64 { UInt64(bitPattern: int64) }
    var text: String {
        if case .text(let v) = self { return v }
        return ""
    }
    var bytes: [UInt8] {
        if case .blob(let v) = self { return v }
        return []
    }
}

/// The SQL differences between the two stores: placeholders and the binary column type.
enum SQLDialect {
    case sqlite, postgresql

    var blobType: String { self == .sqlite ? "BLOB" : "BYTEA" }

    /// `sql` with each `?` made into this dialect's placeholder (`$1`, `$2`… for PostgreSQL).
    /// The statements here never have a `?` inside a literal.
    func placeholders(_ sql: String) -> String {
        guard self == .postgresql else { return sql }
        var out = ""
        var n = 0
        for ch in sql {
            if ch == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }

    /// The schema, the same tables and columns on both databases (docs/persistence.md). A store
    /// created before a column existed gets it from ``addedColumns`` when migrated.
    var schema: [String] {
        [
            """
            CREATE TABLE IF NOT EXISTS events (
                shard BIGINT NOT NULL, sequence BIGINT NOT NULL, kind TEXT NOT NULL,
                order_id BIGINT NOT NULL, account BIGINT NOT NULL, symbol BIGINT NOT NULL,
                side BIGINT, price BIGINT, quantity BIGINT, leaves_qty BIGINT,
                counter_order_id BIGINT, counter_account BIGINT, counter_leaves_qty BIGINT,
                trade_id BIGINT, reason BIGINT, client_timestamp_ns BIGINT NOT NULL,
                frame \(blobType) NOT NULL, recorded_at_ns BIGINT,
                PRIMARY KEY (shard, sequence))
            """,
            """
            CREATE TABLE IF NOT EXISTS orders (
                shard BIGINT NOT NULL, order_id BIGINT NOT NULL, account BIGINT NOT NULL,
                symbol BIGINT NOT NULL, side BIGINT, order_type BIGINT, time_in_force BIGINT,
                price BIGINT NOT NULL, quantity BIGINT NOT NULL, leaves_qty BIGINT NOT NULL,
                cum_qty BIGINT NOT NULL, status TEXT NOT NULL,
                created_sequence BIGINT NOT NULL, updated_sequence BIGINT NOT NULL,
                PRIMARY KEY (shard, order_id))
            """,
            """
            CREATE TABLE IF NOT EXISTS trades (
                shard BIGINT NOT NULL, trade_id BIGINT NOT NULL, sequence BIGINT NOT NULL,
                symbol BIGINT NOT NULL, taker_order_id BIGINT NOT NULL, maker_order_id BIGINT NOT NULL,
                taker_account BIGINT NOT NULL, maker_account BIGINT NOT NULL, taker_side BIGINT NOT NULL,
                price BIGINT NOT NULL, quantity BIGINT NOT NULL, recorded_at_ns BIGINT,
                PRIMARY KEY (shard, trade_id))
            """,
            """
            CREATE TABLE IF NOT EXISTS gaps (
                shard BIGINT NOT NULL, from_sequence BIGINT NOT NULL, to_sequence BIGINT NOT NULL,
                PRIMARY KEY (shard, from_sequence))
            """,
            """
            CREATE TABLE IF NOT EXISTS high_water_marks (
                shard BIGINT NOT NULL PRIMARY KEY, sequence BIGINT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS persister_progress (
                shard BIGINT NOT NULL PRIMARY KEY, seen_sequence BIGINT NOT NULL)
            """,
        ]
    }

    /// Columns added after the first schema, as (table, column, type): added to an older store by
    /// ``SQLEventStore/migrate()`` (NULL in the rows it already had).
    static let addedColumns = [("events", "recorded_at_ns", "BIGINT"), ("trades", "recorded_at_ns", "BIGINT")]

    /// The indexes of the audit queries (`chronos audit`), by name: an order's events as taker or
    /// owner, as maker, and a symbol's trades by time. Created after ``addedColumns``.
    static let indexes = [
        ("events_by_order", "CREATE INDEX IF NOT EXISTS events_by_order ON events (order_id)"),
        (
            "events_by_counter_order",
            "CREATE INDEX IF NOT EXISTS events_by_counter_order ON events (counter_order_id) WHERE counter_order_id IS NOT NULL"
        ),
        ("trades_by_symbol", "CREATE INDEX IF NOT EXISTS trades_by_symbol ON trades (symbol, recorded_at_ns)"),
    ]

    /// Adds what ``addedColumns`` and ``indexes`` lack. Each is looked up in the catalog first, so
    /// that opening an up-to-date store (every `chronos audit`) takes no lock that would hold up
    /// the persister's writes (PostgreSQL's `ALTER TABLE` locks the table even when it changes
    /// nothing).
    func upgrade(_ session: any SQLSession) throws {
        for (table, column, type) in Self.addedColumns {
            let present =
                self == .sqlite
                ? try session.query(
                    "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?", [.text(table), .text(column)])
                : try session.query(
                    """
                    SELECT COUNT(*) FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?
                    """, [.text(table), .text(column)])
            if present.first?.first?.int64 ?? 0 == 0 {
                let ifMissing = self == .postgresql ? "IF NOT EXISTS " : ""
                try session.execute("ALTER TABLE \(table) ADD COLUMN \(ifMissing)\(column) \(type)", [])
            }
        }
        for (name, statement) in Self.indexes {
            let present =
                self == .sqlite
                ? try session.query(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?", [.text(name)])
                : try session.query(
                    "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?",
                    [.text(name)])
            if present.first?.first?.int64 ?? 0 == 0 { try session.execute(statement, []) }
        }
    }
}

/// One open connection, used by one thread; statements use `?` placeholders.
protocol SQLSession {
    func execute(_ sql: String, _ values: [SQLValue]) throws
    func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]]
}

/// A store whose write path and reads are the shared SQL below.
protocol SQLEventStore: EventStore {
    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    func transaction(_ body: (any SQLSession) throws -> Void) throws
    /// Runs `body` outside a transaction (reads).
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T
    var dialect: SQLDialect { get }
}

extension SQLEventStore {
    public func migrate() throws {
        try transaction { session in
            for statement in dialect.schema { try session.execute(statement, []) }
            try dialect.upgrade(session)
            try migrateShardIdentities(session)
        }
    }

    public func write(batch: [StoreItem], seen: [Int: UInt64]) throws {
        guard !batch.isEmpty || !seen.isEmpty else { return }
        try transaction { session in
            try SQLWriter(session: session).write(batch)
            for (shard, sequence) in seen.sorted(by: { $0.key < $1.key }) {
                try session.execute(
                    """
                    INSERT INTO persister_progress (shard, seen_sequence) VALUES (?, ?)
                    ON CONFLICT (shard) DO UPDATE SET seen_sequence = excluded.seen_sequence
                    """, [SQLValue(shard), SQLValue(sequence)])
            }
        }
    }

    public func seenSequence(shard: Int) throws -> UInt64 {
        try read { session in
            try session.query("SELECT seen_sequence FROM persister_progress WHERE shard = ?", [SQLValue(shard)])
                .first?[0].uint64 ?? 0
        }
    }

    public func highWaterMark(shard: Int) throws -> UInt64 {
        try read { try SQLWriter(session: $0).highWaterMark(shard: shard) }
    }

    public func frames(shard: Int) throws -> [[UInt8]] {
        try read { session in
            try session.query("SELECT frame FROM events WHERE shard = ? ORDER BY sequence", [SQLValue(shard)])
                .map { $0[0].bytes }
        }
    }

    public func events(shard: Int) throws -> [EngineEvent] {
        try frames(shard: shard).map { try Self.decodeEvent($0, shard: shard) }
    }

    /// The event of a stored wire frame.
    static func decodeEvent(_ frame: [UInt8], shard: Int) throws -> EngineEvent {
        let decoded = frame.withUnsafeBytes { WireFrame.decode($0) }
        guard case .success(let wire) = decoded, case .event(let event, _) = wire.message else {
            throw EventStoreError("shard \(shard): a stored frame does not decode to an event")
        }
        return event
    }

    /// The columns ``storedOrder(_:)`` reads, in its order.
    static var orderColumns: String {
        """
        shard, order_id, account, symbol, side, order_type, time_in_force, quantity, price, leaves_qty, cum_qty, \
        status, created_sequence, updated_sequence
        """
    }

    static func storedOrder(_ r: [SQLValue]) -> StoredOrder {
        StoredOrder(
            shard: Int(r[0].int64), id: OrderID(r[1].uint64),
            account: AccountID(UInt32(truncatingIfNeeded: r[2].int64)),
            symbol: SymbolID(UInt32(truncatingIfNeeded: r[3].int64)),
            side: r[4] == .null ? nil : Side(rawValue: UInt8(truncatingIfNeeded: r[4].int64)),
            type: r[5] == .null ? nil : OrderType(rawValue: UInt8(truncatingIfNeeded: r[5].int64)),
            timeInForce: r[6] == .null ? nil : TimeInForce(rawValue: UInt8(truncatingIfNeeded: r[6].int64)),
            quantity: r[7].int64, price: r[8].int64, leavesQuantity: r[9].int64, cumulativeQuantity: r[10].int64,
            status: StoredOrder.Status(rawValue: r[11].text) ?? .open, createdSequence: r[12].uint64,
            lastSequence: r[13].uint64)
    }

    /// The columns ``storedTrade(_:)`` reads, in its order.
    static var tradeColumns: String {
        """
        shard, trade_id, sequence, symbol, taker_order_id, maker_order_id, taker_account, maker_account, taker_side, \
        price, quantity, recorded_at_ns
        """
    }

    static func storedTrade(_ r: [SQLValue]) -> StoredTrade {
        StoredTrade(
            shard: Int(r[0].int64), tradeID: TradeID(r[1].uint64), sequence: r[2].uint64,
            symbol: SymbolID(UInt32(truncatingIfNeeded: r[3].int64)), takerID: OrderID(r[4].uint64),
            makerID: OrderID(r[5].uint64), takerAccount: AccountID(UInt32(truncatingIfNeeded: r[6].int64)),
            makerAccount: AccountID(UInt32(truncatingIfNeeded: r[7].int64)),
            takerSide: Side(rawValue: UInt8(truncatingIfNeeded: r[8].int64)) ?? .buy, price: r[9].int64,
            quantity: r[10].int64, recordedAtNanos: r[11] == .null ? nil : r[11].uint64)
    }

    public func orders() throws -> [StoredOrder] {
        try read { session in
            try session.query(
                """
                SELECT \(Self.orderColumns) FROM orders ORDER BY shard, order_id
                """, []
            ).map(Self.storedOrder)
        }
    }

    public func trades() throws -> [StoredTrade] {
        try read { session in
            try session.query(
                """
                SELECT \(Self.tradeColumns) FROM trades ORDER BY shard, trade_id
                """, []
            ).map(Self.storedTrade)
        }
    }

    public func orderHistory(id: OrderID) throws -> OrderHistory? {
        try read { session in
            let key = SQLValue(id.rawValue)
            let orders = try session.query(
                "SELECT \(Self.orderColumns) FROM orders WHERE order_id = ? ORDER BY shard", [key]
            ).map(Self.storedOrder)
            // Two indexed lookups (owner or taker; maker) rather than one OR, which SQLite may scan.
            var rows = try session.query(
                "SELECT shard, sequence, recorded_at_ns, frame FROM events WHERE order_id = ?", [key])
            rows += try session.query(
                "SELECT shard, sequence, recorded_at_ns, frame FROM events WHERE counter_order_id = ?", [key])
            rows.sort { ($0[0].int64, $0[1].uint64) < ($1[0].int64, $1[1].uint64) }
            let events = try rows.map { r in
                StoredEvent(
                    shard: Int(r[0].int64), event: try Self.decodeEvent(r[3].bytes, shard: Int(r[0].int64)),
                    recordedAtNanos: r[2] == .null ? nil : r[2].uint64)
            }
            if orders.isEmpty && events.isEmpty { return nil }
            return OrderHistory(id: id, orders: orders, events: events)
        }
    }

    public func trades(symbol: SymbolID, since: UInt64?, limit: Int?) throws -> [StoredTrade] {
        try read { session in
            var sql = "SELECT \(Self.tradeColumns) FROM trades WHERE symbol = ?"
            var values = [SQLValue(symbol.rawValue)]
            if let since {
                sql += " AND recorded_at_ns >= ?"
                values.append(SQLValue(since))
            }
            sql += " ORDER BY shard, trade_id"
            if let limit {
                sql += " LIMIT ?"
                values.append(SQLValue(max(0, limit)))
            }
            return try session.query(sql, values).map(Self.storedTrade)
        }
    }

    public func storedShards() throws -> [Int] {
        try read { session in
            try session.query("SELECT shard FROM high_water_marks UNION SELECT shard FROM gaps ORDER BY 1", [])
                .map { Int($0[0].int64) }
        }
    }

    public func gaps(shard: Int) throws -> [ClosedRange<UInt64>] {
        try read { session in
            try session.query(
                "SELECT from_sequence, to_sequence FROM gaps WHERE shard = ? ORDER BY from_sequence", [SQLValue(shard)]
            ).map { $0[0].uint64...max($0[0].uint64, $0[1].uint64) }
        }
    }
}

/// The write path of one transaction: events (multi-row, `ON CONFLICT DO NOTHING RETURNING`),
/// then — for the events that were new only — orders and trades, then gaps and high-water marks.
struct SQLWriter {
    let session: any SQLSession

    /// Rows per multi-row INSERT (18 values each, far below both databases' parameter limits).
    static let rowsPerInsert = 64

    func highWaterMark(shard: Int) throws -> UInt64 {
        try session.query("SELECT sequence FROM high_water_marks WHERE shard = ?", [SQLValue(shard)]).first?[0]
            .uint64 ?? 0
    }

    func write(_ batch: [StoreItem]) throws {
        // An event the persister did not time is recorded at this transaction's time.
        let now = wallClockNanoseconds()
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
