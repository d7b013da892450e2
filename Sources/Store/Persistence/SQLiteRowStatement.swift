import Foundation
import GRDB

/// A statement of GRDB's cache executed once per row, its parameters bound one by one through
/// GRDB's public binders (`DatabaseValueConvertible.bind(to:at:)`, which call `sqlite3_bind_int64`,
/// `sqlite3_bind_text`, `sqlite3_bind_blob`, `sqlite3_bind_null`): no `StatementArguments` array is
/// built per row.
///
/// Invariants:
/// - ``reset()``, before each row's binds, calls `setUncheckedArguments` with no values: it resets
///   the statement (SQLite refuses binds on a statement stepped since its last reset), sets every
///   parameter to NULL and marks the arguments as bound. Safe because the statement is fresh or was
///   last run successfully (a failed run throws out of the batch, and GRDB drops a statement that
///   failed from its cache), so its reset cannot fail.
/// - `execute()` without arguments then only resets the statement again before stepping it; a
///   reset keeps the bindings, so it runs with the values bound here.
/// - Used only inside the `Database` closure that produced it (GRDB's writer queue).
struct SQLiteRowStatement {
    private let statement: Statement

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
    }

    /// Makes the statement ready for a row's binds (every parameter NULL).
    func reset() { statement.setUncheckedArguments(StatementArguments()) }

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

    /// Resets the statement and binds `values` to parameters 1…`values.count`.
    func bind(_ values: Int64...) throws {
        reset()
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
