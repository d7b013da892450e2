import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The store on a PostgreSQL server, through one postgres-nio connection. The persister's writer is
/// its own thread, so the calls here block on the connection's futures (never call them on an
/// event loop).
public final class PostgresEventStore: SQLEventStore {
    /// Where the server is and who connects.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String

        public init(host: String, port: Int, user: String, password: String? = nil, database: String) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
        }
    }

    let dialect = SQLDialect.postgresql
    public let endpoint: Endpoint
    private var connection: PostgresConnection?
    private let logger: Logger

    /// Connects (plain TCP; the server is on loopback or a private network) and migrates.
    public init(_ endpoint: Endpoint, logger: Logger = Logger(label: "chronos.persist.postgresql")) throws {
        self.endpoint = endpoint
        self.logger = logger
        let configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.user, password: endpoint.password,
            database: endpoint.database, tls: .disable)
        connection = try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger
        ).wait()
        try migrate()
    }

    deinit { close() }

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
        let configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.user, password: endpoint.password,
            database: "postgres", tls: .disable)
        let connection = try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 0, logger: logger
        ).wait()
        defer { try? connection.close().wait() }
        let name = "\"" + endpoint.database.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try body(PostgresSession(connection: connection, logger: logger), name)
    }

    func transaction(_ body: (any SQLSession) throws -> Void) throws {
        let session = try session()
        try session.execute("BEGIN", [])
        do {
            try body(session)
            try session.execute("COMMIT", [])
        } catch {
            try? session.execute("ROLLBACK", [])
            throw error
        }
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T { try body(try session()) }

    private func session() throws -> PostgresSession {
        guard let connection, !connection.isClosed else {
            throw EventStoreError("postgresql \(endpoint.host):\(endpoint.port): not connected")
        }
        return PostgresSession(connection: connection, logger: logger)
    }

    public func close() {
        if let connection { try? connection.close().wait() }
        connection = nil
    }
}

private struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger

    func execute(_ sql: String, _ values: [SQLValue]) throws {
        _ = try run(sql, values)
    }

    func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]] {
        try run(sql, values).rows.map { row in
            try row.map { cell -> SQLValue in
                guard cell.bytes != nil else { return .null }
                switch cell.dataType {
                case .int8: return .int(try cell.decode(Int64.self))
                case .int4: return .int(Int64(try cell.decode(Int32.self)))
                case .int2: return .int(Int64(try cell.decode(Int16.self)))
                case .bytea:
                    let buffer = try cell.decode(ByteBuffer.self)
                    return .blob(Array(buffer.readableBytesView))
                default: return .text(try cell.decode(String.self))
                }
            }
        }
    }

    private func run(_ sql: String, _ values: [SQLValue]) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .int(let v): bindings.append(v)
            case .text(let v): bindings.append(v)
            case .blob(let v): bindings.append(ByteBuffer(bytes: v))
            case .null: bindings.appendNull()
            }
        }
        let query = PostgresQuery(unsafeSQL: SQLDialect.postgresql.placeholders(sql), binds: bindings)
        do {
            return try connection.query(query, logger: logger).wait()
        } catch let error as PSQLError {
            throw EventStoreError("postgresql: \(String(reflecting: error))")
        }
    }
}
