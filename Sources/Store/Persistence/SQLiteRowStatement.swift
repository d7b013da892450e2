import Foundation
import GRDB
import GRDBSQLite

/// A statement of GRDB's cache executed once per row through SQLite's C interface: the values bound
/// with `sqlite3_bind_*` and the statement stepped with `sqlite3_step`, so that a row costs no
/// `StatementArguments`, no `Data` and none of GRDB's per-execution bookkeeping (measured: that
/// bookkeeping, retains and a Dispatch lookup per call, was a quarter of the write path's time).
///
/// Invariants:
/// - GRDB owns the statement (its cache finalizes it with the connection); this type only binds
///   and steps it, and leaves it reset after every step, so GRDB finds it as it left it.
/// - ``reset()`` before a row's binds (SQLite refuses binds on a statement stepped since its last
///   reset; every parameter is then bound, NULL included, so no value of the previous row stays).
/// - Used only inside the `Database` closure that produced it (GRDB's writer queue), within the
///   write transaction GRDB opened: an error thrown out of that closure rolls the batch back.
struct SQLiteRowStatement {
    private let statement: Statement
    private let handle: OpaquePointer
    private let connection: OpaquePointer

    /// SQLite copies a value bound with this destructor before the bind returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        guard let connection = db.sqliteConnection else { throw EventStoreError("sqlite: the connection is closed") }
        self.connection = connection
    }

    /// Makes the statement ready for a row's binds.
    func reset() { sqlite3_reset(handle) }

    /// Binds parameter `index` (1-based); nil is NULL.
    func bind(_ value: Int64?, at index: Int32) throws {
        let code = value.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index)
        try check(code, index)
    }

    /// Binds a constant text (SQLite reads it in place: it lives as long as the program).
    func bind(_ text: StaticString, at index: Int32) throws {
        try check(sqlite3_bind_text(handle, index, text.utf8Start, Int32(text.utf8CodeUnitCount), nil), index)
    }

    /// Binds a blob (copied by SQLite).
    func bind(_ bytes: ArraySlice<UInt8>, at index: Int32) throws {
        let code = bytes.withUnsafeBytes {
            sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient)
        }
        try check(code, index)
    }

    /// Resets the statement and binds `values` to parameters 1, 2, … in order. A parameter pack,
    /// not a variadic list: the values are not gathered into an array per row.
    func bind<each Value: BinaryInteger>(_ values: repeat each Value) throws {
        reset()
        var index: Int32 = 0
        for value in repeat each values {
            index += 1
            try bind(Int64(value), at: index)
        }
    }

    /// Runs the statement with the values bound, and resets it.
    func execute() throws {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_reset(handle)
            throw EventStoreError("sqlite: \(statement.sql): \(message) (code \(code))")
        }
        sqlite3_reset(handle)
    }

    /// The rows the last ``execute()`` on this connection inserted, updated or deleted.
    var changes: Int32 { sqlite3_changes(connection) }

    private func check(_ code: Int32, _ index: Int32) throws {
        guard code == SQLITE_OK else {
            throw EventStoreError("sqlite: binding parameter \(index) of \(statement.sql) failed (code \(code))")
        }
    }
}
