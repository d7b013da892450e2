import ChronosConfig
import ChronosCore
import Foundation
import Messaging
import Persistence
import ShardClient
import TestSupport
import Testing
import Workload

/// `chronos engine` (two shards) and `chronos persist` as separate processes over ipc (helpers in
/// ProcessSupport.swift).
@Suite(.serialized) struct PersistProcessTests {
    @Test(arguments: StoreKind.available)
    func killNineMidStreamThenRestartStoresEveryEventOnce(_ kind: StoreKind) async throws {
        try await offThePool {
            let database = "chronos_kill_\(UUID().uuidString.prefix(8).lowercased())"
            let dir = temporaryDirectory()
            let setup = try ProcessSetup(
                persistence: "sqlite_path = \"\(dir.path)/chronos.sqlite\"\nbatch_size = 200\ndebug_write_delay_ms = 2")
            let environment = try persisterEnvironment(kind, database: database)
            let context = try ZMQContext()
            let engines = try [setup.engine(0), setup.engine(1)]
            defer { for engine in engines { _ = engine.terminate() } }
            let flow = try OrderFlow(setup.exchange, context: context, count: 6_000)
            #expect(flow.waitForShards())
            let observers = try setup.exchange.shards.map { try EventSubscriber(context: context, shard: $0) }
            var persister = try setup.persister(1, environment: environment)
            flow.send(3_000)
            // Mid-stream: some of it persisted, not all.
            #expect(eventually { try openStore(kind, setup, database: database).highWaterMark(shard: 0) > 0 })
            persister.kill9()
            flow.send(3_000)
            persister = try setup.persister(2, environment: environment)
            let observed = try observe(observers)
            #expect(observed.map(\.count).reduce(0, +) > 6_000)
            try expectStoreEquals({ try openStore(kind, setup, database: database) }, observed)
            #expect(persister.terminate() == 0, "\(setup.log("persist-2.log"))")
        }
    }

    @Test func aSlowStoreNeitherSlowsNorChangesTheEngineAndCatchesUp() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            // 50 events per 40 ms at most: ~1,250 events/s, far below the flow's rate.
            let setup = try ProcessSetup(
                persistence: "sqlite_path = \"\(dir.path)/chronos.sqlite\"\nbatch_size = 50\ndebug_write_delay_ms = 40")
            let context = try ZMQContext()
            let engines = try [setup.engine(0), setup.engine(1)]
            defer { for engine in engines { _ = engine.terminate() } }
            let flow = try OrderFlow(setup.exchange, context: context, count: 3_000)
            #expect(flow.waitForShards())
            let observers = try setup.exchange.shards.map { try EventSubscriber(context: context, shard: $0) }
            let persister = try setup.persister(1)
            let started = Date()
            flow.send(3_000)
            let flowSeconds = Date().timeIntervalSince(started)
            let observed = try observe(observers)
            let total = observed.map(\.count).reduce(0, +)
            // Every command was answered and the stream is whole, while the store was still far behind.
            #expect(flow.reports >= 3_000)
            let store = try SQLiteEventStore(path: setup.exchange.persistence.sqlitePath)
            let behind = try UInt64(total) - (0..<2).map { try store.highWaterMark(shard: $0) }.reduce(0, +)
            store.close()
            #expect(behind > 0, "the store kept up: the test proves nothing (flow took \(flowSeconds) s)")
            try expectStoreEquals({ try SQLiteEventStore(path: setup.exchange.persistence.sqlitePath) }, observed)
            #expect(persister.terminate() == 0)
            for engine in engines { #expect(engine.terminate() == 0) }
        }
    }

    @Test(arguments: StoreKind.available)
    func aStoreThatIsDownAtStartIsRetriedAndCaughtUp(_ kind: StoreKind) async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            // SQLite: the file's folder is a plain file, so opening fails until the test moves it away.
            let blocker = dir.appendingPathComponent("state")
            try Data().write(to: blocker)
            let database = "chronos_down_\(UUID().uuidString.prefix(8).lowercased())"  // PostgreSQL: not yet created
            let setup = try ProcessSetup(
                persistence: "sqlite_path = \"\(blocker.path)/chronos.sqlite\"\nretry_max_ms = 200")
            let context = try ZMQContext()
            let engines = try [setup.engine(0), setup.engine(1)]
            defer { for engine in engines { _ = engine.terminate() } }
            let flow = try OrderFlow(setup.exchange, context: context, count: 2_000)
            #expect(flow.waitForShards())
            let observers = try setup.exchange.shards.map { try EventSubscriber(context: context, shard: $0) }
            let persister = try setup.persister(1, environment: kind == .postgresql ? pgEnvironment(database) : [:])
            flow.send(2_000)
            usleep(500_000)  // a few failed attempts
            #expect(setup.log("persist-1.log").contains("failed; retrying"))
            switch kind {
            case .sqlite:
                try FileManager.default.removeItem(at: blocker)
            case .postgresql:
                let endpoint = try StoreKind.postgresEndpoint()
                try PostgresEventStore.createDatabaseIfMissing(
                    .init(host: endpoint.host, port: endpoint.port, user: endpoint.user, database: database))
            }
            let observed = try observe(observers)
            try expectStoreEquals({ try openStore(kind, setup, database: database) }, observed)
            #expect(persister.terminate() == 0)
        }
    }

    /// Runs `sql` on the test server's `postgres` database with psql (trust authentication).
    func postgresAdmin(_ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [
            "-h", "127.0.0.1", "-p", StoreKind.environment["CHRONOS_PG_PORT"] ?? "5432",
            "-U", StoreKind.environment["CHRONOS_PG_USER"] ?? "chronos", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
            "-q", "-c", sql,
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "psql: \(sql)")
    }

    /// The store goes away while the engines trade: the persister's backend is terminated and the
    /// database refuses new connections, then comes back. Every PostgreSQL call has a timeout
    /// (PostgresEventStore), so the persister fails, retries on fresh connections and catches up
    /// from the journals; before the timeouts, a loaded machine once hung it here for good.
    @Test(.enabled(if: StoreKind.environment["CHRONOS_PG_PORT"] != nil, "needs scripts/with-postgres.sh"))
    func aPostgreSQLThatGoesAwayMidRunIsRetriedAndCaughtUp() async throws {
        try await offThePool {
            let database = "chronos_away_\(UUID().uuidString.prefix(8).lowercased())"
            // A write in flight when its backend is terminated can go unanswered until the query
            // timeout (on a loaded machine it did): 5 s here, not the default 30 s.
            let setup = try ProcessSetup(
                persistence: "batch_size = 200\nretry_max_ms = 200\npostgresql_query_timeout_ms = 5000")
            let environment = try persisterEnvironment(.postgresql, database: database)
            let context = try ZMQContext()
            let engines = try [setup.engine(0), setup.engine(1)]
            defer { for engine in engines { _ = engine.terminate() } }
            let flow = try OrderFlow(setup.exchange, context: context, count: 4_000)
            #expect(flow.waitForShards())
            let observers = try setup.exchange.shards.map { try EventSubscriber(context: context, shard: $0) }
            let persister = try setup.persister(1, environment: environment)
            defer { _ = persister.terminate() }
            flow.send(2_000)
            #expect(eventually { try openStore(.postgresql, setup, database: database).highWaterMark(shard: 0) > 0 })
            // Mid-run the server goes away for the persister: its connection is cut and new ones
            // to the database are refused, while the engines trade on.
            try postgresAdmin("ALTER DATABASE \"\(database)\" ALLOW_CONNECTIONS false")
            try postgresAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)'")
            flow.send(2_000)
            #expect(
                eventually(seconds: 30) { setup.log("persist-1.log").contains("failed; retrying") },
                "the persister's log: \(setup.log("persist-1.log").suffix(3_000))")
            try postgresAdmin("ALTER DATABASE \"\(database)\" ALLOW_CONNECTIONS true")
            let observed = try observe(observers)
            try expectStoreEquals({ try openStore(.postgresql, setup, database: database) }, observed)
            #expect(persister.terminate() == 0)
        }
    }
}
