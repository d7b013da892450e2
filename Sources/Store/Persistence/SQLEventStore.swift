import ChronosCore
import Runtime

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
    /// SQLite keeps the rows of a table keyed by its primary key in that key's B-tree, not in a
    /// rowid table beside a key index: one B-tree to write per row instead of two (stores created
    /// before this keep their rowid tables; both read the same).
    var keyedTable: String { self == .sqlite ? " WITHOUT ROWID" : "" }

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
                PRIMARY KEY (shard, sequence))\(keyedTable)
            """,
            """
            CREATE TABLE IF NOT EXISTS orders (
                shard BIGINT NOT NULL, order_id BIGINT NOT NULL, account BIGINT NOT NULL,
                symbol BIGINT NOT NULL, side BIGINT, order_type BIGINT, time_in_force BIGINT,
                price BIGINT NOT NULL, quantity BIGINT NOT NULL, leaves_qty BIGINT NOT NULL,
                cum_qty BIGINT NOT NULL, status TEXT NOT NULL,
                created_sequence BIGINT NOT NULL, updated_sequence BIGINT NOT NULL,
                PRIMARY KEY (shard, order_id))\(keyedTable)\(self == .postgresql ? " WITH (\(Self.ordersFillFactor))" : "")
            """,
            """
            CREATE TABLE IF NOT EXISTS trades (
                shard BIGINT NOT NULL, trade_id BIGINT NOT NULL, sequence BIGINT NOT NULL,
                symbol BIGINT NOT NULL, taker_order_id BIGINT NOT NULL, maker_order_id BIGINT NOT NULL,
                taker_account BIGINT NOT NULL, maker_account BIGINT NOT NULL, taker_side BIGINT NOT NULL,
                price BIGINT NOT NULL, quantity BIGINT NOT NULL, recorded_at_ns BIGINT,
                PRIMARY KEY (shard, trade_id))\(keyedTable)
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

    /// PostgreSQL's storage parameter of `orders`: a quarter of each page left free, so that the
    /// write path's updates of an order (a fill, a cancel) are HOT updates, the new version on the
    /// same page and no new primary-key entry (measured: about half the server time of an update).
    static let ordersFillFactor = "fillfactor=75"

    /// Adds what ``addedColumns`` and ``indexes`` lack, and gives a PostgreSQL store made before
    /// ``ordersFillFactor`` that parameter (for the pages written from then on). Each is looked up in the catalog first, so
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
                try session.executeSchemaChange("ALTER TABLE \(table) ADD COLUMN \(ifMissing)\(column) \(type)")
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
            if present.first?.first?.int64 ?? 0 == 0 { try session.executeSchemaChange(statement) }
        }
        if self == .postgresql {
            let present = try session.query(
                "SELECT COUNT(*) FROM pg_class WHERE oid = 'orders'::regclass AND ? = ANY(reloptions)",
                [.text(Self.ordersFillFactor)])
            if present.first?.first?.int64 ?? 0 == 0 {
                try session.executeSchemaChange("ALTER TABLE orders SET (\(Self.ordersFillFactor))")
            }
        }
    }
}

/// One open connection, used by one thread; statements use `?` placeholders.
protocol SQLSession {
    func execute(_ sql: String, _ values: [SQLValue]) throws
    func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]]
    /// Runs a schema change that may take long on a large store (an index built over every
    /// event): without the query timeout of a PostgreSQL session.
    func executeSchemaChange(_ sql: String) throws
}

extension SQLSession {
    func executeSchemaChange(_ sql: String) throws { try execute(sql, []) }
}

/// A store whose write path and reads are the shared SQL below.
protocol SQLEventStore: EventStore {
    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    func transaction(_ body: (any SQLSession) throws -> Void) throws
    /// Runs `body`, the schema migration, in one transaction; a store whose statements have a
    /// deadline gives it a longer one (``PostgresEventStore/migrationTimeoutMilliseconds``).
    func migrationTransaction(_ body: (any SQLSession) throws -> Void) throws
    /// Runs `body` outside a transaction (reads).
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// Writes `batch` and `seen` (``EventStore/write(batch:seen:)``) in one transaction: this
    /// store's write path.
    func write(_ batch: StoreBatch, seen: [Int: UInt64]) throws
    var dialect: SQLDialect { get }
}

extension SQLEventStore {
    func migrationTransaction(_ body: (any SQLSession) throws -> Void) throws { try transaction(body) }

    public func migrate() throws {
        try migrationTransaction { session in
            for statement in dialect.schema { try session.execute(statement, []) }
            try dialect.upgrade(session)
            try migrateShardIdentities(session)
        }
    }

    public func write(batch: [StoreItem], seen: [Int: UInt64]) throws {
        guard !batch.isEmpty || !seen.isEmpty else { return }
        // An event the persister did not time is recorded at this transaction's time.
        try write(StoreBatch(batch, now: SystemClock.wallClockNanoseconds()), seen: seen)
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

/// What both stores' write paths share: the high-water mark's read and its walk over what the
/// store holds beyond a batch.
struct SQLWriter {
    let session: any SQLSession

    func highWaterMark(shard: Int) throws -> UInt64 {
        try session.query("SELECT sequence FROM high_water_marks WHERE shard = ?", [SQLValue(shard)]).first?[0]
            .uint64 ?? 0
    }

    /// One step of the walk past `mark`, in one query: the end of the run of stored events that
    /// starts at `mark + 1` (NULL when `mark + 1` is not stored; the run is only looked for when it
    /// is, so a hole with many events stored past it costs one index lookup), and the furthest end
    /// of a recorded gap that covers `mark + 1` (NULL: none). Binds shard, mark + 1, shard, mark,
    /// shard, mark + 1, mark + 1.
    static let nextStep = """
        SELECT CASE WHEN EXISTS (SELECT 1 FROM events WHERE shard = ? AND sequence = ?) THEN
                (SELECT e.sequence FROM events e WHERE e.shard = ? AND e.sequence > ? AND NOT EXISTS
                    (SELECT 1 FROM events f WHERE f.shard = e.shard AND f.sequence = e.sequence + 1)
                 ORDER BY e.sequence LIMIT 1)
            END,
            (SELECT MAX(to_sequence) FROM gaps WHERE shard = ? AND from_sequence <= ? AND to_sequence >= ?)
        """

    /// The walk past `mark` over the stored events and gaps while they are contiguous: a query per
    /// run of events or gap crossed (one when nothing follows, the usual case). Events stored past
    /// a hole by an earlier batch count once the hole is filled.
    func extendFromStore(shard: Int, mark start: UInt64) throws -> UInt64 {
        var mark = start
        while mark < UInt64.max {
            let next = SQLValue(mark + 1)
            let row = try session.query(
                Self.nextStep,
                [SQLValue(shard), next, SQLValue(shard), SQLValue(mark), SQLValue(shard), next, next]
            ).first
            guard let step = Self.step(runEnd: row?[0] ?? .null, gapEnd: row?[1] ?? .null, after: mark) else {
                return mark
            }
            mark = step
        }
        return mark
    }

    /// The mark after one step of the walk (nil: the walk ends at `mark`): a run's end or a gap's,
    /// whichever reaches further.
    static func step(runEnd: SQLValue, gapEnd: SQLValue, after mark: UInt64) -> UInt64? {
        var best: UInt64?
        for value in [runEnd, gapEnd] where value != .null && value.uint64 > mark {
            best = max(best ?? 0, value.uint64)
        }
        return best
    }
}
