import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The store on a PostgreSQL server, through one postgres-nio connection. The persister's writer is
/// its own thread, so the calls here block on the connection's futures (never call them on an
/// event loop).
///
/// Every wait is bounded: connecting (TCP and the startup handshake) by
/// ``Endpoint/connectTimeoutMilliseconds``; every statement by ``Endpoint/queryTimeoutMilliseconds``
/// on the server (`statement_timeout`, set at connect: a long statement is canceled and the
/// connection stays usable); every wait for an answer — one query, or a batch's queries sent back
/// to back — by the same timeout plus 1 s on the client. Past that the connection is closed and
/// the call throws an ``EventStoreError`` naming the timeout; the store is then unusable (the
/// persister opens a new one).
public final class PostgresEventStore: SQLEventStore {
    /// Where the server is, who connects, and how long to wait for it.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        /// The bound on connecting (TCP connect and the startup handshake), in ms.
        public var connectTimeoutMilliseconds: Int
        /// The bound on every query, in ms: the client closes the connection when no answer came
        /// by then, and the server cancels a statement that runs longer (`statement_timeout`).
        public var queryTimeoutMilliseconds: Int

        /// [persistence]'s default of `postgresql_connect_timeout_ms`.
        public static let defaultConnectTimeoutMilliseconds = 5_000
        /// [persistence]'s default of `postgresql_query_timeout_ms`.
        public static let defaultQueryTimeoutMilliseconds = 30_000

        public init(
            host: String, port: Int, user: String, password: String? = nil, database: String,
            connectTimeoutMilliseconds: Int = Self.defaultConnectTimeoutMilliseconds,
            queryTimeoutMilliseconds: Int = Self.defaultQueryTimeoutMilliseconds
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
            self.queryTimeoutMilliseconds = queryTimeoutMilliseconds
        }
    }

    let dialect = SQLDialect.postgresql
    public let endpoint: Endpoint
    private var connection: PostgresConnection?
    private let logger: Logger

    /// Connects (plain TCP; the server is on loopback or a private network) and migrates.
    ///
    /// - Throws: ``EventStoreError`` when the server does not answer within the connect timeout,
    ///   refuses the connection, or a query of the migration fails or times out.
    public init(_ endpoint: Endpoint, logger: Logger = Logger(label: "chronos.persist.postgresql")) throws {
        self.endpoint = endpoint
        self.logger = logger
        connection = try Self.connect(endpoint, database: endpoint.database, id: 1, logger: logger)
        try migrate()
    }

    deinit { close() }

    /// Opens a connection to `database` within the endpoint's connect timeout (calls
    /// `PostgresConnection.connect`, whose own timer covers the TCP connect and the handshake; this
    /// wait backs it up).
    static func connect(_ endpoint: Endpoint, database: String, id: Int, logger: Logger) throws
        -> PostgresConnection
    {
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.user, password: endpoint.password,
            database: database, tls: .disable)
        let timeout = max(1, endpoint.connectTimeoutMilliseconds)
        configuration.options.connectTimeout = .milliseconds(Int64(timeout))
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", String(max(1, endpoint.queryTimeoutMilliseconds)))
        ]
        let started = DispatchTime.now()
        let future = PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id, logger: logger)
        let name = "postgresql \(endpoint.host):\(endpoint.port)"
        let timedOut = EventStoreError(
            "\(name): connect timed out: no answer within \(timeout) ms (postgresql_connect_timeout_ms)")
        let semaphore = DispatchSemaphore(value: 0)
        future.whenComplete { _ in semaphore.signal() }
        guard semaphore.wait(timeout: started + .milliseconds(timeout + 1_000)) == .success else {
            future.whenSuccess { $0.close().whenComplete { _ in } }
            throw timedOut
        }
        do {
            return try future.wait()
        } catch {
            let elapsed = (DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000
            if elapsed >= UInt64(timeout) { throw timedOut }
            throw EventStoreError("\(name): cannot connect: \(String(reflecting: error))")
        }
    }

    /// Creates `endpoint.database` when missing, connecting to the `postgres` database as the same user.
    public static func createDatabaseIfMissing(
        _ endpoint: Endpoint, logger: Logger = Logger(label: "chronos.persist.postgresql")
    ) throws {
        try administer(endpoint, logger: logger) { session, name in
            let exists = try session.query("SELECT 1 FROM pg_database WHERE datname = ?", [.text(endpoint.database)])
            if exists.isEmpty { try session.execute("CREATE DATABASE \(name)", []) }
        }
    }

    /// Drops `endpoint.database` when it exists (benchmarks' throwaway databases).
    public static func dropDatabase(
        _ endpoint: Endpoint, logger: Logger = Logger(label: "chronos.persist.postgresql")
    ) throws {
        try administer(endpoint, logger: logger) { session, name in
            try session.execute("DROP DATABASE IF EXISTS \(name)", [])
        }
    }

    /// Runs `body` on a connection to the `postgres` database as the same user, with
    /// `endpoint.database` quoted as an SQL identifier.
    private static func administer(
        _ endpoint: Endpoint, logger: Logger, _ body: (any SQLSession, String) throws -> Void
    ) throws {
        let connection = try connect(endpoint, database: "postgres", id: 0, logger: logger)
        let session = PostgresSession(connection: connection, endpoint: endpoint, logger: logger)
        defer { session.close() }
        let name = "\"" + endpoint.database.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try body(session, name)
    }

    func transaction(_ body: (any SQLSession) throws -> Void) throws {
        let session = try session()
        try session.execute("BEGIN", [])
        do {
            try body(session)
            try session.execute("COMMIT", [])
        } catch {
            session.rollback()
            throw error
        }
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T { try body(try session()) }

    /// The deadline of the migration that opening a store runs (server and client side), when the
    /// query timeout is shorter: creating a new database's tables or reading the catalog can wait
    /// on the server's disk or on another process's schema change for longer than a write may
    /// (seen: over 500 ms on a busy machine), and a store that cannot open is a persister that
    /// cannot start. A server that stops answering still fails the opening, after this long.
    public static let migrationTimeoutMilliseconds = 30_000

    func migrationTransaction(_ body: (any SQLSession) throws -> Void) throws {
        let timeout = max(endpoint.queryTimeoutMilliseconds, Self.migrationTimeoutMilliseconds)
        var patient = endpoint
        patient.queryTimeoutMilliseconds = timeout
        let session = PostgresSession(connection: try session().connection, endpoint: patient, logger: logger)
        try session.execute("BEGIN", [])
        do {
            try session.execute("SET LOCAL statement_timeout = \(timeout)", [])
            try body(session)
            try session.execute("COMMIT", [])
            // A schema change sets the session's timeout back to the migration's: the write path's.
            try self.session().execute("SET statement_timeout = \(max(1, endpoint.queryTimeoutMilliseconds))", [])
        } catch {
            session.rollback()
            throw error
        }
    }

    func write(_ batch: StoreBatch, seen: [Int: UInt64]) throws {
        let session = try session()
        do {
            try PostgresBatchWriter(session: session).write(batch, seen: seen)
        } catch {
            session.rollback()
            throw error
        }
    }

    /// The server process of this store's connection (`pg_backend_pid()`; tests stop it to check
    /// the timeouts).
    public func backendProcessID() throws -> Int {
        try read { Int(try $0.query("SELECT pg_backend_pid()::int8", [])[0][0].int64) }
    }

    func session() throws -> PostgresSession {
        guard let connection, !connection.isClosed else {
            throw EventStoreError("postgresql \(endpoint.host):\(endpoint.port): not connected")
        }
        return PostgresSession(connection: connection, endpoint: endpoint, logger: logger)
    }

    public func close() {
        if let connection {
            PostgresSession(connection: connection, endpoint: endpoint, logger: logger).close()
        }
        connection = nil
    }
}

/// One connection as an ``SQLSession``, every wait bounded by the endpoint's query timeout.
/// ``run(_:)`` sends several statements back to back: postgres-nio queues them on the connection
/// and the server answers them in order, so they cost one wait instead of one each.
struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let endpoint: Endpoint
    let logger: Logger
    typealias Endpoint = PostgresEventStore.Endpoint

    func execute(_ sql: String, _ values: [SQLValue]) throws {
        _ = try run([Self.query(sql, values)])
    }

    func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]] {
        try run([Self.query(sql, values)])[0].rows.map { row in
            try row.map { cell -> SQLValue in
                guard cell.bytes != nil else { return .null }
                switch cell.dataType {
                case .int8: return .int(try cell.decode(Int64.self))
                case .int4: return .int(Int64(try cell.decode(Int32.self)))
                case .int2: return .int(Int64(try cell.decode(Int16.self)))
                case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
                case .bytea:
                    let buffer = try cell.decode(ByteBuffer.self)
                    return .blob(Array(buffer.readableBytesView))
                default: return .text(try cell.decode(String.self))
                }
            }
        }
    }

    /// A schema change runs without the server's statement timeout and with a client deadline of
    /// an hour at least: building an index over a large store takes minutes.
    func executeSchemaChange(_ sql: String) throws {
        let long = PostgresSession(
            connection: connection,
            endpoint: Endpoint(
                host: endpoint.host, port: endpoint.port, user: endpoint.user, database: endpoint.database,
                queryTimeoutMilliseconds: max(endpoint.queryTimeoutMilliseconds, 3_600_000)),
            logger: logger)
        _ = try long.run([
            Self.query("SET statement_timeout = 0", []), Self.query(sql, []),
            Self.query("SET statement_timeout = \(max(1, endpoint.queryTimeoutMilliseconds))", []),
        ])
    }

    /// `sql` (with `?` placeholders) and its values as a postgres-nio query.
    static func query(_ sql: String, _ values: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .int(let v): bindings.append(v)
            case .text(let v): bindings.append(v)
            case .blob(let v): bindings.append(ByteBuffer(bytes: v))
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: SQLDialect.postgresql.placeholders(sql), binds: bindings)
    }

    /// How long past the query timeout the client waits for the server's own cancel of a long
    /// statement (`statement_timeout`, which keeps the connection) before it closes the connection.
    static let cancelGraceMilliseconds = 1_000

    /// Sends `queries` back to back and waits for their results, all within one query timeout
    /// (and ``cancelGraceMilliseconds``). Past it the connection is closed (the queries still
    /// queued fail with it).
    ///
    /// - Throws: ``EventStoreError``: the first query's error (a failed statement makes the rest
    ///   of its transaction fail too), or the timeout.
    func run(_ queries: [PostgresQuery]) throws -> [PostgresQueryResult] {
        let futures = queries.map { connection.query($0, logger: logger) }
        try waitWithinTimeout(EventLoopFuture.whenAllComplete(futures, on: connection.eventLoop), "query")
        do {
            return try futures.map { try $0.wait() }
        } catch {
            throw EventStoreError("postgresql: \(String(reflecting: error))")
        }
    }

    /// Waits until `future` completes, within the query timeout and ``cancelGraceMilliseconds``;
    /// past that the connection is closed and the call throws, naming `what` timed out.
    private func waitWithinTimeout<T>(_ future: EventLoopFuture<T>, _ what: String) throws {
        let timeout = max(1, endpoint.queryTimeoutMilliseconds)
        let semaphore = DispatchSemaphore(value: 0)
        future.whenComplete { _ in semaphore.signal() }
        guard semaphore.wait(timeout: .now() + .milliseconds(timeout + Self.cancelGraceMilliseconds)) == .success else {
            close(waitingMilliseconds: Self.cancelGraceMilliseconds)
            throw EventStoreError(
                "postgresql \(endpoint.host):\(endpoint.port): \(what) timed out: no answer within \(timeout) ms "
                    + "(postgresql_query_timeout_ms) and \(Self.cancelGraceMilliseconds) ms for the server's cancel; "
                    + "the connection was closed")
        }
    }

    /// One `COPY table (columns) FROM STDIN` of text-format rows (``PostgresCopyRows``).
    struct Copy {
        var table: String
        var columns: [String]
        var rows: PostgresCopyRows
    }

    /// Runs `copies` one after the other (postgres-nio's `copyFrom`) and waits for them all within
    /// one query timeout, as ``run(_:)`` does: the server's `statement_timeout` bounds each COPY,
    /// and past the timeout and ``cancelGraceMilliseconds`` the connection is closed.
    ///
    /// - Throws: ``EventStoreError``: the first COPY's error (the transaction is then failed), or
    ///   the timeout.
    func copy(_ copies: [Copy]) throws {
        guard !copies.isEmpty else { return }
        let promise = connection.eventLoop.makePromise(of: Void.self)
        let (connection, logger) = (connection, logger)
        let batches = copies.map { ($0.table, $0.columns, $0.rows.buffer) }
        promise.completeWithTask {
            for (table, columns, rows) in batches {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    try await writer.write(rows)
                }
            }
        }
        try waitWithinTimeout(promise.futureResult, "COPY")
        do {
            try promise.futureResult.wait()
        } catch {
            throw EventStoreError("postgresql: \(String(reflecting: error))")
        }
    }

    /// Rolls back the open transaction, if the connection is still there (errors ignored: the
    /// transaction is gone either way).
    func rollback() {
        guard !connection.isClosed else { return }
        _ = try? run([Self.query("ROLLBACK", [])])
    }

    /// Closes the connection, waiting at most `waitingMilliseconds` (the query timeout by default)
    /// for it to be closed.
    func close(waitingMilliseconds: Int? = nil) {
        let semaphore = DispatchSemaphore(value: 0)
        connection.close().whenComplete { _ in semaphore.signal() }
        let wait = waitingMilliseconds ?? max(1, endpoint.queryTimeoutMilliseconds)
        _ = semaphore.wait(timeout: .now() + .milliseconds(wait))
    }
}
