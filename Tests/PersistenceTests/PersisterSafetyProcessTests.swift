import ChronosConfig
import ChronosCore
import Foundation
import Messaging
import Persistence
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `chronos persist` and `chronos status` as processes: a store that cannot be opened at start
/// ends the persister (exit 1, with the reason) and shows as not ready meanwhile; SIGTERM is
/// honoured within its bound while a PostgreSQL call hangs; `--persist-store` alarms on a damaged
/// SQLite file, a missing event and a row that disagrees with its frame.
@Suite(.serialized) struct PersisterSafetyProcessTests {
    typealias Setup = ProcessSetup

    /// Waits for `process` to exit (at most `seconds`, a guard against hangs); its status, or nil.
    func exitStatus(_ child: ChildProcess, within seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while child.process.isRunning && Date() < deadline { usleep(20_000) }
        if child.process.isRunning {
            child.kill9()
            return nil
        }
        return child.process.terminationStatus
    }

    @Test func aSQLiteFileThatIsNotADatabaseEndsThePersisterAtStartWithTheReason() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let path = dir.appendingPathComponent("chronos.sqlite").path
            try Data(repeating: 0x5A, count: 64 * 1024).write(to: URL(fileURLWithPath: path))
            let setup = try Setup(
                persistence: "sqlite_path = \"\(path)\"\nstartup_timeout_ms = 1500\nretry_max_ms = 200")
            let persister = try setup.persister(1)
            let status = exitStatus(persister, within: 30)
            let log = setup.log("persist-1.log")
            #expect(status == 1, "\(log)")
            #expect(log.contains("could not be opened within 1500 ms"), "\(log)")
            #expect(log.contains("not a database"), "\(log)")
            #expect(!log.contains("chronos persist: ready"))
        }
    }

    @Test func anUnwritableSQLitePathEndsThePersisterAtStart() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let blocker = dir.appendingPathComponent("file")
            try Data().write(to: blocker)  // a plain file where the store's folder should be
            let setup = try Setup(
                persistence: "sqlite_path = \"\(blocker.path)/chronos.sqlite\"\nstartup_timeout_ms = 1000")
            let persister = try setup.persister(1)
            let status = exitStatus(persister, within: 30)
            let log = setup.log("persist-1.log")
            #expect(status == 1, "\(log)")
            #expect(log.contains("could not be opened within 1000 ms"), "\(log)")
            #expect(log.contains("failed; retrying"))
        }
    }

    @Test(.enabled(if: StoreKind.environment["CHRONOS_PG_PORT"] != nil))
    func wrongPostgreSQLCredentialsEndThePersisterAtStart() async throws {
        try await offThePool {
            let setup = try Setup(persistence: "startup_timeout_ms = 1000")
            var environment = pgEnvironment("chronos")
            environment["PGUSER"] = "nobody_\(UUID().uuidString.prefix(6).lowercased())"
            let persister = try setup.persister(1, environment: environment)
            let status = exitStatus(persister, within: 30)
            let log = setup.log("persist-1.log")
            #expect(status == 1, "\(log)")
            #expect(log.contains("could not be opened within 1000 ms"), "\(log)")
        }
    }

    /// While the store cannot be opened the persister is up but not ready: `chronos status
    /// --persist-port` exits 1, saying why, with the store's error from the status file.
    @Test func aPersisterThatCannotOpenItsStoreIsNotReadyInStatus() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let blocker = dir.appendingPathComponent("state")
            try Data().write(to: blocker)
            let setup = try Setup(
                persistence: "sqlite_path = \"\(blocker.path)/chronos.sqlite\"\nretry_max_ms = 200")
            let port = try PersistStatusTests.freePort()
            let persister = try setup.persister(1, metricsPort: port)
            defer { _ = persister.terminate() }
            var result = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            // The metrics show the failure at once; the status file follows within 100 ms.
            for _ in 0..<100 where !result.output.contains("last error: ") {
                usleep(100_000)
                result = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            }
            #expect(result.code == 1, "\(result.output)\(result.error)")
            #expect(result.output.contains("NOT READY: the store is failing: "), "\(result.output)")
            #expect(result.output.contains("last error: opening the store failed: "), "\(result.output)")
            #expect(!setup.log("persist-1.log").contains("chronos persist: ready"))
            // The store becomes usable: ready, exit 0.
            try FileManager.default.removeItem(at: blocker)
            #expect(eventually(seconds: 20) { setup.log("persist-1.log").contains("chronos persist: ready") })
            var healthy = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            for _ in 0..<50 where healthy.code != 0 {
                usleep(100_000)
                healthy = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            }
            #expect(healthy.code == 0, "\(healthy.output)\(healthy.error)")
            #expect(healthy.output.contains("  ready\n"))
            #expect(persister.terminate() == 0)
            #expect(!FileManager.default.fileExists(atPath: PersisterStatusFile.path(port: port)))
        }
    }

    /// A PostgreSQL server of this test's own (the shared test server must not be frozen: a stopped
    /// backend can hold locks every other backend waits for), started as `scripts/with-postgres.sh`
    /// starts one.
    final class PrivatePostgres {
        let dir: URL
        let port: Int
        let server = Process()
        let bin: String

        init() throws {
            let versions = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")
            let version = try #require(versions.compactMap { Int($0) }.max(), "no PostgreSQL in /usr/lib/postgresql")
            bin = "/usr/lib/postgresql/\(version)/bin"
            dir = temporaryDirectory()
            port = try PersistStatusTests.freePort()
            if getuid() == 0 {
                try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: dir.path)
            }
            let initdb = Self.process(
                "\(bin)/initdb",
                [
                    "-D", dir.appendingPathComponent("data").path, "-U", "chronos", "--auth=trust",
                    "-E", "UTF8", "--no-sync",
                ])
            initdb.standardOutput = FileHandle.nullDevice
            try initdb.run()
            initdb.waitUntilExit()
            try #require(initdb.terminationStatus == 0, "initdb failed")
            let log = dir.appendingPathComponent("server.log").path
            FileManager.default.createFile(atPath: log, contents: nil)
            let configured = Self.process(
                "\(bin)/postgres",
                [
                    "-D", dir.appendingPathComponent("data").path, "-c", "listen_addresses=127.0.0.1",
                    "-p", "\(port)", "-k", dir.path, "-c", "fsync=off",
                ])
            server.executableURL = configured.executableURL
            server.arguments = configured.arguments
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            let ready = eventually(seconds: 20) {
                let probe = Process()
                probe.executableURL = URL(fileURLWithPath: "\(self.bin)/pg_isready")
                probe.arguments = ["-q", "-h", "127.0.0.1", "-p", "\(self.port)"]
                try probe.run()
                probe.waitUntilExit()
                return probe.terminationStatus == 0
            }
            try #require(ready, "the private PostgreSQL did not start")
        }

        /// `executable` with `arguments`, as the postgres user when this is root.
        static func process(_ executable: String, _ arguments: [String]) -> Process {
            let process = Process()
            if getuid() == 0 {
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
                process.arguments = ["-u", "postgres", "--", executable] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
            }
            return process
        }

        /// The postmaster and every process it started (its backends and workers).
        func processes() throws -> [pid_t] {
            let pidFile = try String(contentsOf: dir.appendingPathComponent("data/postmaster.pid"), encoding: .utf8)
            let postmaster = try #require(pidFile.split(separator: "\n").first.flatMap { pid_t($0) })
            var children: [pid_t] = []
            for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
                guard let pid = pid_t(entry),
                    let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { continue }
                // `pid (name) state ppid …`: the fields after the name's closing parenthesis.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, pid_t(fields[1]) == postmaster { children.append(pid) }
            }
            return [postmaster] + children
        }

        /// Resumes whatever is stopped, then a fast shutdown.
        func shutDown() {
            for pid in (try? processes()) ?? [] { kill(pid, SIGCONT) }
            if let pid = try? processes().first { kill(pid, SIGINT) }
            let deadline = Date().addingTimeInterval(20)
            while server.isRunning && Date() < deadline { usleep(20_000) }
        }
    }

    /// The persister's PostgreSQL server is stopped (SIGSTOP: its calls hang, the connection stays
    /// open) while the engines trade; SIGTERM then ends the persister within its bound, exit 1, with
    /// the stuck call in its log.
    @Test(.enabled(if: StoreKind.environment["CHRONOS_PG_PORT"] != nil))
    func sigtermIsHonouredWithinItsBoundWhilePostgreSQLHangs() async throws {
        try await offThePool {
            let postgres = try PrivatePostgres()
            defer { postgres.shutDown() }
            let setup = try Setup(persistence: "batch_size = 100")
            let environment = [
                "PGHOST": "127.0.0.1", "PGPORT": "\(postgres.port)", "PGUSER": "chronos", "PGDATABASE": "postgres",
            ]
            let context = try ZMQContext()
            let engines = try [setup.engine(0), setup.engine(1)]
            defer { for engine in engines { _ = engine.terminate() } }
            let flow = try OrderFlow(setup.exchange, context: context, count: 2_000)
            #expect(flow.waitForShards())
            let persister = try setup.persister(1, environment: environment)
            defer { _ = persister.terminate() }
            flow.send(500)
            let endpoint = PostgresEventStore.Endpoint(
                host: "127.0.0.1", port: postgres.port, user: "chronos", database: "postgres")
            #expect(eventually(seconds: 20) { try PostgresEventStore(endpoint).highWaterMark(shard: 0) > 0 })
            let server = try postgres.processes()
            for pid in server { kill(pid, SIGSTOP) }
            flow.send(1_500)  // the next write hangs
            usleep(1_000_000)
            let asked = Date()
            kill(persister.process.processIdentifier, SIGTERM)
            let status = exitStatus(persister, within: 40)
            let took = Date().timeIntervalSince(asked)
            let log = setup.log("persist-1.log")
            #expect(status != nil && status != 0, "\(log)")
            #expect(took < 30, "\(took) s")  // the bound is 15 s; generous against a loaded machine
            #expect(log.contains("persister did not stop within 15 s"), "\(log)")
            #expect(log.contains("writing "), "\(log)")
        }
    }

    /// An engine killed and restarted without its history (its journal folder lost) numbers again
    /// from 1: the persister stops following that shard (nothing reissued is stored) and
    /// `chronos status --persist-port` raises the ALARM (exit 3) with the reason.
    @Test func anEngineRestartedWithoutItsHistoryRaisesTheAlarm() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let setup = try Setup(persistence: "sqlite_path = \"\(dir.path)/chronos.sqlite\"")
            let context = try ZMQContext()
            var engines = try [setup.engine(0), setup.engine(1)]
            defer { for engine in engines { _ = engine.terminate() } }
            let flow = try OrderFlow(setup.exchange, context: context, count: 3_000)
            #expect(flow.waitForShards())
            let port = try PersistStatusTests.freePort()
            let persister = try setup.persister(1, metricsPort: port)
            defer { _ = persister.terminate() }
            flow.send(1_000)
            let store = { try SQLiteEventStore(path: setup.exchange.persistence.sqlitePath) }
            #expect(eventually(seconds: 20) { try store().highWaterMark(shard: 0) > 100 })
            engines[0].kill9()
            let before = try store().highWaterMark(shard: 0)
            // The journal volume is lost: the restarted shard has no history and numbers from 1.
            try FileManager.default.removeItem(atPath: setup.dir.appendingPathComponent("journal/shard-0").path)
            engines[0] = try setup.engine(0, log: "engine-0-again.log")
            // The metrics show the ALARM first; the status file with the reason follows within 100 ms.
            let reason = "reason: shard 0 no longer followed: its engine announced sequence "
            var status = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            for _ in 0..<200 where status.code != 3 || !status.output.contains(reason) {
                usleep(100_000)
                status = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            }
            #expect(status.code == 3, "\(status.output)\(status.error)")
            #expect(status.output.contains("ALARM shard 0: sequence regression: "), "\(status.output)")
            #expect(status.output.contains("NOT READY: shard 0 is not followed"), "\(status.output)")
            #expect(status.output.contains(reason), "\(status.output)")
            #expect(setup.log("persist-1.log").contains("sequence regression"))
            flow.send(2_000)  // the restarted engine numbers past the stored mark
            usleep(1_000_000)
            #expect(try store().highWaterMark(shard: 0) == before)
            #expect(try store().highWaterMark(shard: 1) > 0)
        }
    }

    /// Runs `sql` on the SQLite file at `path` (python3's sqlite3: the tests link no SQLite of their own).
    static func sqlite(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.close()",
            path, sql,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sqlite: \(sql)")
    }

    /// A store of 3,000 events on shard 0 (enough pages to damage one in the middle), closed.
    func writeStore(_ path: String) throws {
        let store = try SQLiteEventStore(path: path)
        defer { store.close() }
        var events: [EngineEvent] = []
        for sequence in UInt64(1)...3_000 {
            events.append(
                .accepted(
                    OrderAccepted(
                        sequence: sequence, id: OrderID(sequence), account: AccountID(1), symbol: SymbolID(0),
                        side: .buy, type: .limit, timeInForce: .goodTillCancel, postOnly: false, price: 100,
                        quantity: 1)))
        }
        for chunk in stride(from: 0, to: events.count, by: 500) {
            try store.write(batch: items(Array(events[chunk..<min(chunk + 500, events.count)])))
        }
    }

    @Test func aSQLiteFileWithOverwrittenPagesAlarms() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let path = dir.appendingPathComponent("chronos.sqlite").path
            try writeStore(path)
            let arguments = ["status", "--persist-store", "--sqlite-path", path]
            let sound = try AuditProcessTests.chronos(arguments)
            #expect(sound.code == 0, "\(sound.output)\(sound.error)")
            #expect(!sound.output.contains("ALARM"))
            // Garbage over two pages in the middle of the file (nothing has it open).
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            let size = try handle.seekToEnd()
            try handle.seek(toOffset: (size / 2) & ~4_095)
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 8_192))
            try handle.close()
            let damaged = try AuditProcessTests.chronos(arguments)
            #expect(damaged.code == 3, "\(damaged.output)\(damaged.error)")
            #expect(damaged.output.contains("ALARM store: SQLite quick_check: "), "\(damaged.output)\(damaged.error)")
        }
    }

    @Test func aDeletedEventAndARowThatDisagreesWithItsFrameAlarm() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let path = dir.appendingPathComponent("chronos.sqlite").path
            try writeStore(path)
            try Self.sqlite(path, "DELETE FROM events WHERE shard = 0 AND sequence = 1234")
            try Self.sqlite(path, "UPDATE events SET order_id = 99 WHERE shard = 0 AND sequence = 2000")
            let result = try AuditProcessTests.chronos(["status", "--persist-store", "--sqlite-path", path])
            #expect(result.code == 3, "\(result.output)\(result.error)")
            #expect(
                result.output.contains(
                    "ALARM shard 0: 2999 events stored and 0 recorded as lost below the high-water mark 3000: 1 missing"
                ),
                "\(result.output)")
            #expect(result.output.contains("recorded as lost: 1234…1234\n"), "\(result.output)")
            #expect(
                result.output.contains(
                    "ALARM shard 0: sequence 2000: the row and its frame disagree: the frame has order id 2000 (row: 99)"
                ),
                "\(result.output)")
            // A bounded check still counts every row; it reads only the first events' frames.
            let bounded = try AuditProcessTests.chronos([
                "status", "--persist-store", "--sqlite-path", path, "--check-events", "100",
            ])
            #expect(bounded.code == 3)
            #expect(bounded.output.contains("1 missing") && !bounded.output.contains("sequence 2000"))
        }
    }
}
