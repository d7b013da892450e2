import Foundation
import GRDB

/// A statement of GRDB's cache executed once per row, its parameters bound one by one through
/// GRDB's public binders (`DatabaseValueConvertible.bind(to:at:)`, which call `sqlite3_bind_int64`,
/// `sqlite3_bind_text`, `sqlite3_bind_blob`, `sqlite3_bind_null`): no `StatementArguments` array is
/// built per row.
///
/// Invariants:
/// - ``init(_:sql:)`` calls `setUncheckedArguments` once with no values: it resets the statement,
///   sets every parameter to NULL and marks the arguments as bound. Safe because a statement GRDB's
///   cache hands out is fresh or was last run successfully (GRDB drops a statement that failed from
///   its cache), so its reset cannot fail.
/// - `execute()` without arguments then only resets the statement before stepping it; a reset
///   keeps the bindings, so it runs with the values bound here.
/// - Callers bind every parameter before every ``execute()`` (a value left over from the previous
///   row would be silently reused).
/// - Used only inside the `Database` closure that produced it (GRDB's writer queue).
struct SQLiteRowStatement {
    private let statement: Statement

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        statement.setUncheckedArguments(StatementArguments())
    }

    /// Binds parameter `index` (1-based).
    func bind(_ value: Int64?, at index: Int32) throws {
        try check(
            value?.bind(to: statement.sqliteStatement, at: index)
                ?? DatabaseValue.null.bind(
                    to: statement.sqliteStatement, at: index), index)
    }

    func bind(_ value: String, at index: Int32) throws {
        try check(value.bind(to: statement.sqliteStatement, at: index), index)
    }

    func bind(_ bytes: ArraySlice<UInt8>, at index: Int32) throws {
        try check(Data(bytes).bind(to: statement.sqliteStatement, at: index), index)
    }

    /// Binds `values` to parameters 1…`values.count`.
    func bind(_ values: Int64...) throws {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    /// Runs the statement with the values bound.
    func execute() throws { try statement.execute() }

    private func check(_ code: Int32, _ index: Int32) throws {
        guard code == 0 else {  // SQLITE_OK
            throw EventStoreError("sqlite: binding parameter \(index) of \(statement.sql) failed (code \(code))")
        }
    }
}
