import Foundation
import GRDB
import Synchronization

/// The embedded default store: one SQLite file in WAL mode (`synchronous = NORMAL`: a commit is
/// durable against a process crash, and against power loss up to the last checkpoint), through
/// GRDB's `DatabasePool` (one writer, concurrent readers — other processes may read the file).
public final class SQLiteEventStore: SQLEventStore {
    let dialect = SQLDialect.sqlite
    private var pool: DatabasePool?
    /// Started by the first ``write(_:seen:)``.
    private var checkpointer: SQLiteCheckpointer?
    /// The database file.
    public let path: String

    /// Opens (creating it and its folder when missing) and migrates the database at `path`.
    public init(path: String) throws {
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A 64 MiB page cache (the default is 2 MB): the indexes of a growing store are read back
            // from the file on every batch otherwise (measured: the write rate falls by half).
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // The writer checkpoints only as a backstop (a 256 MiB log); ``SQLiteCheckpointer`` does
            // it on its own thread and connection, off the write path (measured: SQLite's default,
            // a checkpoint by the writer every 1,000 pages, halved the write rate).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 65536")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try migrate()
    }

    /// The journal mode the file is in (`wal`).
    public func journalMode() throws -> String {
        try read { try $0.query("PRAGMA journal_mode", [])[0][0].text }
    }

    func transaction(_ body: (any SQLSession) throws -> Void) throws {
        guard let pool else { throw EventStoreError("\(path): closed") }
        try pool.write { db in try body(GRDBSession(db: db)) }
    }

    func write(_ batch: StoreBatch, seen: [Int: UInt64]) throws {
        guard let pool else { throw EventStoreError("\(path): closed") }
        // The persister's store checkpoints on its own thread; a store only read (`chronos audit`,
        // `status --persist-store`) starts none.
        if checkpointer == nil { checkpointer = try SQLiteCheckpointer(path: path) }
        try pool.write { db in try SQLiteBatchWriter(db: db).write(batch, seen: seen) }
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        guard let pool else { throw EventStoreError("\(path): closed") }
        return try pool.read { db in try body(GRDBSession(db: db)) }
    }

    public func close() {
        checkpointer?.stop()
        checkpointer = nil
        try? pool?.close()
        pool = nil
    }
}

/// GRDB's `Database` (valid inside one `read` or `write` closure) as an ``SQLSession``.
struct GRDBSession: SQLSession {
    let db: Database

    func execute(_ sql: String, _ values: [SQLValue]) throws {
        try db.execute(sql: sql, arguments: Self.arguments(values))
    }

    func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]] {
        try Row.fetchAll(db, sql: sql, arguments: Self.arguments(values)).map { row in
            row.databaseValues.map { value in
                switch value.storage {
                case .int64(let v): .int(v)
                case .string(let v): .text(v)
                case .blob(let v): .blob([UInt8](v))
                case .double(let v): .int(Int64(v))
                case .null: .null
                }
            }
        }
    }

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .int(let v): v
                case .text(let v): v
                case .blob(let v): Data(v)
                case .null: nil
                }
            })
    }
}

/// Copies the write-ahead log into the database file from a thread and connection of its own,
/// every 20 ms, with SQLite's passive checkpoint: it never waits for the writer or readers and
/// they never wait for it. The log then stays small (the writer starts it over once everything
/// in it has been copied), and the copying, with its `fsync`, costs the writer nothing.
final class SQLiteCheckpointer: @unchecked Sendable {
    private let queue: DatabaseQueue
    private let stopping = Mutex(false)
    private let stopped = DispatchSemaphore(value: 0)

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(1)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        let thread = Thread { [self] in
            while !stopping.withLock({ $0 }) {
                _ = try? queue.inDatabase { try $0.checkpoint(.passive) }
                Thread.sleep(forTimeInterval: 0.02)
            }
            stopped.signal()
        }
        thread.name = "chronos.sqlite-checkpoint"
        thread.start()
    }

    /// Ends the thread (after its current checkpoint) and closes its connection.
    func stop() {
        stopping.withLock { $0 = true }
        stopped.wait()
        try? queue.close()
    }
}
