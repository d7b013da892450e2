import ChronosConfig
import ChronosCore
import GRDB

/// The checks of `chronos status --persist-store` beyond the marks and gaps
/// (docs/persistence.md, "Status"): each finding is one ALARM line.
///
/// - **SQLite's own check**: `PRAGMA quick_check` over the whole file (``sqliteQuickCheck(path:)``).
/// - **Completeness**: per shard, the events stored at or below the high-water mark plus the
///   events recorded as lost there must be the mark (every sequence 1…mark accounted for once).
/// - **Rows against frames**: each stored frame must decode to an event of the row's shard whose
///   sequence, kind, order id, account and symbol are the row's columns; the first
///   `eventLimit` events of each shard are read (0: all), so that a large store is checked in
///   bounded time (the completeness count always covers every row).
/// - **Identity**: each configured shard's recorded ``ShardIdentity`` must be the configuration's.
public enum StoreIntegrity {
    /// At most this many findings of one kind are listed per shard.
    public static let maximumListed = 5

    /// `PRAGMA quick_check` of the SQLite file at `path`: its complaints (empty: the file is
    /// sound), or the reason it cannot even be read as a database.
    public static func sqliteQuickCheck(path: String) -> [String] {
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            let rows = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            return rows == ["ok"] ? [] : rows
        } catch {
            return ["the file cannot be read as a SQLite database: \(error)"]
        }
    }

    /// The findings about `store` for `shards` (each with its mark and recorded gaps, from
    /// ``StoreStatus``): completeness, rows against frames and, with `exchange`, identities.
    public static func check(
        _ store: any EventStore, status: StoreStatus, exchange: ExchangeConfiguration?, eventLimit: Int
    ) throws -> [String] {
        var findings: [String] = []
        if let sql = store as? any SQLEventStore {
            for shard in status.shards {
                findings += try sql.integrityFindings(shard: shard, eventLimit: eventLimit)
            }
        }
        if let exchange, let identities = store as? any ShardIdentityStore {
            for shard in exchange.shards {
                let recorded: ShardIdentity?
                do {
                    recorded = try identities.storedIdentity(shard: shard.id)
                } catch {
                    findings.append("ALARM store: \(error)")
                    continue
                }
                guard let stored = recorded else { continue }
                let configured = exchange.shardIdentity(shard.id)
                if stored != configured {
                    findings.append(
                        "ALARM shard \(shard.id): the store holds it under another configuration: stored \"\(stored.canonical)\", "
                            + "configured \"\(configured.canonical)\"")
                }
            }
        }
        return findings
    }
}

extension SQLEventStore {
    /// Completeness and rows against frames for one shard of ``StoreStatus``.
    fileprivate func integrityFindings(shard: StoreStatus.Shard, eventLimit: Int) throws -> [String] {
        let id = shard.id
        let mark = shard.highWaterMark
        var findings: [String] = []
        // 1. Every sequence 1…mark stored or recorded as lost, counted in the database.
        let stored = try read { session in
            try session.query(
                "SELECT COUNT(*) FROM events WHERE shard = ? AND sequence >= 1 AND sequence <= ?",
                [SQLValue(id), SQLValue(mark)]
            ).first?.first?.uint64 ?? 0
        }
        let lost = shard.gaps.reduce(UInt64(0)) { total, gap in
            gap.lowerBound > mark ? total : total + min(gap.upperBound, mark) - gap.lowerBound + 1
        }
        if stored + lost != mark {
            let missing = mark > stored + lost ? "\(mark - stored - lost) missing" : "\(stored + lost - mark) too many"
            findings.append(
                "ALARM shard \(id): \(stored) events stored and \(lost) recorded as lost below the high-water mark "
                    + "\(mark): \(missing)")
        }
        // 2. Rows against their frames, in sequence order, in pages; holes listed as found.
        var holes: [ClosedRange<UInt64>] = []
        var mismatches: [String] = []
        var mismatchCount = 0
        var expected: UInt64 = 1
        var after: Int64 = 0
        var checked = 0
        let page = 5_000
        scanning: while eventLimit == 0 || checked < eventLimit {
            let rows = try read { session in
                try session.query(
                    """
                    SELECT sequence, kind, order_id, account, symbol, frame FROM events
                    WHERE shard = ? AND sequence > ? ORDER BY sequence LIMIT ?
                    """, [SQLValue(id), .int(after), SQLValue(page)])
            }
            for row in rows {
                if eventLimit > 0 && checked >= eventLimit { break scanning }
                checked += 1
                let sequence = row[0].uint64
                after = row[0].int64
                if sequence > expected && expected <= mark {
                    holes += Self.unrecorded(expected...min(sequence - 1, mark), gaps: shard.gaps)
                }
                expected = max(expected, sequence + 1)
                if let problem = Self.rowProblem(row, shard: id) {
                    mismatchCount += 1
                    if mismatches.count < StoreIntegrity.maximumListed { mismatches.append(problem) }
                }
            }
            if rows.count < page { break }
        }
        if (eventLimit == 0 || checked < eventLimit) && expected <= mark {
            holes += Self.unrecorded(expected...mark, gaps: shard.gaps)
        }
        if !holes.isEmpty {
            let listed = holes.prefix(StoreIntegrity.maximumListed).map { "\($0.lowerBound)…\($0.upperBound)" }
            let more = holes.count > listed.count ? " and \(holes.count - listed.count) more" : ""
            findings.append(
                "ALARM shard \(id): sequences missing below the high-water mark \(mark), neither stored nor recorded "
                    + "as lost: \(listed.joined(separator: ", "))\(more)")
        }
        for problem in mismatches { findings.append("ALARM shard \(id): \(problem)") }
        if mismatchCount > mismatches.count {
            findings.append(
                "ALARM shard \(id): \(mismatchCount - mismatches.count) more events whose row and frame disagree")
        }
        return findings
    }

    /// The parts of `range` no recorded gap covers.
    private static func unrecorded(_ range: ClosedRange<UInt64>, gaps: [ClosedRange<UInt64>]) -> [ClosedRange<UInt64>] {
        var parts = [range]
        for gap in gaps {
            parts = parts.flatMap { part -> [ClosedRange<UInt64>] in
                guard part.overlaps(gap) else { return [part] }
                var rest: [ClosedRange<UInt64>] = []
                if part.lowerBound < gap.lowerBound { rest.append(part.lowerBound...gap.lowerBound - 1) }
                if part.upperBound > gap.upperBound { rest.append(gap.upperBound + 1...part.upperBound) }
                return rest
            }
        }
        return parts
    }

    /// What is wrong with one `(sequence, kind, order_id, account, symbol, frame)` row, if anything.
    private static func rowProblem(_ row: [SQLValue], shard: Int) -> String? {
        let sequence = row[0].uint64
        let bytes = row[5].bytes
        let decoded = bytes.withUnsafeBytes { WireFrame.decode($0) }
        guard case .success(let frame) = decoded, case .event(let event, _) = frame.message else {
            return "sequence \(sequence): the stored frame (\(bytes.count) bytes) does not decode to an event"
        }
        let (kind, orderID, account, symbol): (String, UInt64, UInt32, UInt32) =
            switch event {
            case .accepted(let e): ("accepted", e.id.rawValue, e.account.rawValue, e.symbol.rawValue)
            case .rejected(let e): ("rejected", e.id.rawValue, e.account.rawValue, e.symbol.rawValue)
            case .fill(let e): ("fill", e.takerID.rawValue, e.takerAccount.rawValue, e.symbol.rawValue)
            case .canceled(let e): ("canceled", e.id.rawValue, e.account.rawValue, e.symbol.rawValue)
            case .replaced(let e): ("replaced", e.id.rawValue, e.account.rawValue, e.symbol.rawValue)
            }
        var differences: [String] = []
        if Int(frame.shard) != shard { differences.append("shard \(frame.shard)") }
        if event.sequence != sequence { differences.append("sequence \(event.sequence)") }
        if kind != row[1].text { differences.append("kind \(kind) (row: \(row[1].text))") }
        if orderID != row[2].uint64 { differences.append("order id \(orderID) (row: \(row[2].uint64))") }
        if UInt64(account) != row[3].uint64 { differences.append("account \(account) (row: \(row[3].uint64))") }
        if UInt64(symbol) != row[4].uint64 { differences.append("symbol \(symbol) (row: \(row[4].uint64))") }
        guard !differences.isEmpty else { return nil }
        return
            "sequence \(sequence): the row and its frame disagree: the frame has \(differences.joined(separator: ", "))"
    }
}
