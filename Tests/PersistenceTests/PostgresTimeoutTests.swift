import ChronosConfig
import Foundation
import TestSupport
import Testing

@testable import Persistence

#if canImport(Glibc)
    import Glibc
#endif

/// PostgreSQL calls never hang: a server that accepts and never answers fails the connect within
/// the connect timeout, a backend that stops answering fails the query within the query timeout
/// (the connection is closed; a new store works), and a statement running longer than the query
/// timeout is canceled by the server (the connection stays usable).
@Suite struct PostgresTimeoutTests {
    @Test func aConnectToAServerThatNeverAnswersFailsWithinTheConnectTimeout() async throws {
        try await offThePool {
            let listener = try SilentListener()
            defer { listener.close() }
            let started = ContinuousClock.now
            do {
                _ = try PostgresEventStore(
                    .init(
                        host: "127.0.0.1", port: listener.port, user: "chronos", database: "none",
                        connectTimeoutMilliseconds: 300))
                Issue.record("connected to a server that never answers")
            } catch {
                #expect("\(error)".contains("connect timed out"), "\(error)")
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(5), "\(elapsed)")
        }
    }

    @Test(.enabled(if: StoreKind.environment["CHRONOS_PG_PORT"] != nil, "needs scripts/with-postgres.sh"))
    func aWriteToABackendThatStoppedAnsweringFailsWithinTheQueryTimeout() async throws {
        try await offThePool {
            var endpoint = try StoreKind.postgresEndpoint()
            endpoint.queryTimeoutMilliseconds = 500
            let store = try PostgresEventStore(endpoint)
            defer { store.close() }
            try Self.expectTimeout(of: store, "a write", saying: "query timed out") {
                try store.write(batch: items(sampleEvents()))
            }
            // A new store writes.
            let fresh = try PostgresEventStore(endpoint)
            defer { fresh.close() }
            try fresh.write(batch: items(sampleEvents()))
            #expect(try fresh.highWaterMark(shard: 0) == 7)
        }
    }

    @Test(.enabled(if: StoreKind.environment["CHRONOS_PG_PORT"] != nil, "needs scripts/with-postgres.sh"))
    func aCopyToABackendThatStoppedAnsweringFailsWithinTheQueryTimeout() async throws {
        try await offThePool {
            var endpoint = try StoreKind.postgresEndpoint()
            endpoint.queryTimeoutMilliseconds = 500
            let store = try PostgresEventStore(endpoint)
            defer { store.close() }
            let batch = try StoreBatch(items(sampleEvents()), now: 0)
            let copy = PostgresBatchWriter.copyEvents(batch, isNew: batch.rows.map { _ in true })
            try Self.expectTimeout(of: store, "a COPY", saying: "COPY timed out") { try store.session().copy([copy]) }
        }
    }

    /// Stops `store`'s backend (SIGSTOP) and runs `call` on it: it must fail with an error
    /// `saying` so after the query timeout (500 ms) and the cancel grace (1 s), not before and not
    /// much later, and leave the store closed.
    static func expectTimeout(
        of store: PostgresEventStore, _ what: String, saying message: String, _ call: () throws -> Void
    ) throws {
        let backend = pid_t(try store.backendProcessID())
        try #require(kill(backend, SIGSTOP) == 0, "cannot stop the backend \(backend): errno \(errno)")
        let started = ContinuousClock.now
        do {
            try call()
            Issue.record("\(what) to a stopped backend succeeded")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
        let elapsed = ContinuousClock.now - started
        kill(backend, SIGCONT)
        #expect(elapsed >= .milliseconds(1_400) && elapsed < .seconds(10), "\(elapsed)")
        // The connection was closed: this store is done.
        #expect(throws: EventStoreError.self) { try store.highWaterMark(shard: 0) }
    }

    @Test(.enabled(if: StoreKind.environment["CHRONOS_PG_PORT"] != nil, "needs scripts/with-postgres.sh"))
    func aStatementLongerThanTheQueryTimeoutIsCanceledByTheServer() async throws {
        try await offThePool {
            var endpoint = try StoreKind.postgresEndpoint()
            endpoint.queryTimeoutMilliseconds = 300
            let store = try PostgresEventStore(endpoint)
            defer { store.close() }
            let started = ContinuousClock.now
            do {
                _ = try store.read { try $0.query("SELECT pg_sleep(5)", []) }
                Issue.record("a 5 s statement outlived a 300 ms timeout")
            } catch {
                #expect("\(error)".contains("57014"), "\(error)")  // query_canceled: statement timeout
            }
            #expect(ContinuousClock.now - started < .seconds(1))
            // The connection is still usable. (A read: a write's statements, bound by the same
            // 300 ms, can outlast it on a machine busy with the rest of the test run.)
            #expect(try store.highWaterMark(shard: 0) == 0)
        }
    }

    /// Opening a store (its migration) outlasts a short query timeout: here its `CREATE TABLE`
    /// waits 1.5 s for another transaction creating the same table, five times the 300 ms a
    /// statement of the write path may take. The store opens, and its statements are bound by the
    /// query timeout again afterwards.
    @Test(.enabled(if: StoreKind.environment["CHRONOS_PG_PORT"] != nil, "needs scripts/with-postgres.sh"))
    func openingAStoreWaitsLongerThanTheQueryTimeout() async throws {
        try await offThePool {
            var endpoint = try StoreKind.postgresEndpoint()
            endpoint.queryTimeoutMilliseconds = 300
            let blocker = PostgresSession(
                connection: try PostgresEventStore.connect(
                    endpoint, database: endpoint.database, id: 9, logger: .init(label: "test")),
                endpoint: endpoint, logger: .init(label: "test"))
            defer { blocker.close() }
            try blocker.execute("BEGIN", [])
            try blocker.execute("CREATE TABLE events (blocking BIGINT)", [])
            let opened = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var outcome: Result<PostgresEventStore, any Error>?
            Thread.detachNewThread { [endpoint] in
                outcome = Result { try PostgresEventStore(endpoint) }
                opened.signal()
            }
            Thread.sleep(forTimeInterval: 1.5)
            #expect(outcome == nil, "the opening did not wait for the other transaction")
            try blocker.execute("ROLLBACK", [])
            try #require(opened.wait(timeout: .now() + 30) == .success)
            let store = try #require(try outcome?.get())
            defer { store.close() }
            #expect(try store.highWaterMark(shard: 0) == 0)
            let timeout = try store.read { try $0.query("SHOW statement_timeout", []) }
            #expect(timeout.first?.first == .text("300ms"), "\(timeout)")
        }
    }

    @Test func theTimeoutsAreReadFromPersistence() async throws {
        try await offThePool {
            let exchange = try ExchangeConfiguration.parse(
                toml: """
                    [persistence]
                    store = "postgresql"
                    postgresql_connect_timeout_ms = 1500
                    postgresql_query_timeout_ms = 2500
                    """)
            let endpoint = try PostgresEventStore.Endpoint(exchange.persistence)
            #expect(endpoint.connectTimeoutMilliseconds == 1_500 && endpoint.queryTimeoutMilliseconds == 2_500)
            let defaults = try PostgresEventStore.Endpoint(PersistenceConfiguration())
            #expect(defaults.connectTimeoutMilliseconds == 5_000 && defaults.queryTimeoutMilliseconds == 30_000)
            #expect(throws: ConfigurationError.self) {
                try ExchangeConfiguration.parse(toml: "[persistence]\npostgresql_query_timeout_ms = 0")
            }
        }
    }
}

/// A TCP socket on 127.0.0.1 that listens and never accepts: the kernel completes a client's
/// handshake and queues it, and nothing ever answers (a hung server).
struct SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw EventStoreError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 8) == 0
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(descriptor)
            throw EventStoreError("bind/listen: errno \(errno)")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}
