import ChronosCore
import Foundation
import Journal
import Messaging
import Persistence
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `chronos status` for the persister: `--persist-store` (the store's marks and gaps) and
/// `--persist-port` (a running persister's metrics), with the ALARM line and exit 3 for lost events.
@Suite(.serialized) struct PersistStatusTests {
    /// A TCP port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test(arguments: StoreKind.available)
    func aCompleteStoreIsHealthyAndARecordedGapIsAnAlarm(_ kind: StoreKind) async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let sqlitePath = dir.appendingPathComponent("chronos.sqlite").path
            let config = dir.appendingPathComponent("chronos.toml").path
            try """
            [[shards]]
            id = 0
            orders = "ipc://\(dir.path)/s0-orders"
            events = "ipc://\(dir.path)/s0-events"
            replay = "ipc://\(dir.path)/s0-replay"
            [[shards]]
            id = 1
            orders = "ipc://\(dir.path)/s1-orders"
            events = "ipc://\(dir.path)/s1-events"
            replay = "ipc://\(dir.path)/s1-replay"
            """.write(toFile: config, atomically: true, encoding: .utf8)
            var arguments = ["status", "--persist-store", "--config", config, "--sqlite-path", sqlitePath]
            var environment: [String: String] = [:]
            let store: any EventStore
            switch kind {
            case .sqlite:
                store = try SQLiteEventStore(path: sqlitePath)
            case .postgresql:
                let endpoint = try StoreKind.postgresEndpoint()
                store = try PostgresEventStore(endpoint)
                arguments += ["--store", "postgresql"]
                environment = [
                    "PGHOST": endpoint.host, "PGPORT": String(endpoint.port), "PGUSER": endpoint.user,
                    "PGDATABASE": endpoint.database,
                ]
            }
            defer { store.close() }
            try store.write(batch: auditItems())

            let healthy = try AuditProcessTests.chronos(arguments, environment: environment)
            #expect(healthy.code == 0, "\(healthy.error)")
            #expect(healthy.output.contains("  shard 0: high-water mark 8, no gaps\n"))
            #expect(healthy.output.contains("  shard 1: high-water mark 3, no gaps\n"))
            #expect(!healthy.output.contains("ALARM"))

            try store.write(batch: [.gap(shard: 1, from: 4, to: 40)])
            let lossy = try AuditProcessTests.chronos(arguments, environment: environment)
            #expect(lossy.code == 3, "\(lossy.error)")
            #expect(lossy.output.contains("  shard 1: high-water mark 40, 1 gap (37 events)\n"))
            #expect(lossy.output.contains("ALARM shard 1: 37 events lost, recorded in gaps (sequences 4…40)"))
        }
    }

    @Test func badStatusArgumentsAreUsageErrors() async throws {
        try await offThePool {
            let both = try AuditProcessTests.chronos(["status", "--port", "9464", "--persist-port", "9580"])
            #expect(both.code == 64)
            #expect(both.error.contains("give --port or --persist-port, not both"))
            let storeWithoutFlag = try AuditProcessTests.chronos(["status", "--sqlite-path", "x.sqlite"])
            #expect(storeWithoutFlag.code == 64)
            let missing = temporaryDirectory().appendingPathComponent("none.sqlite").path
            let noStore = try AuditProcessTests.chronos(["status", "--persist-store", "--sqlite-path", missing])
            #expect(noStore.code == 1)
            #expect(noStore.error.contains("no store: \(missing) does not exist"))
        }
    }

    /// The engines run the flow first, with no persister; they stop (a final snapshot) and prune
    /// their journals as `keep_segments = 0` does: the segments that snapshot covers are deleted.
    /// Restarted from the snapshot, they no longer have the start of their streams: the persister,
    /// started now, counts the lost events and stores the gaps, and both views of `chronos status`
    /// raise the ALARM (exit 3).
    @Test func eventsPrunedFromTheJournalBeforeThePersisterReadThemRaiseTheAlarm() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let setup = try ProcessSetup(
                persistence: "sqlite_path = \"\(dir.path)/chronos.sqlite\"",
                journal: "snapshot_every_events = 0\nkeep_snapshots = 1\nkeep_segments = 0", segmentEvents: 1_024)
            let context = try ZMQContext()
            var engines = try [setup.engine(0), setup.engine(1)]
            defer { for engine in engines { _ = engine.terminate() } }
            let flow = try OrderFlow(setup.exchange, context: context, count: 4_000)
            #expect(flow.waitForShards())
            flow.send(4_000)
            for engine in engines { #expect(engine.terminate() == 0) }
            let lastSequences = (0..<2).map { shard in
                UInt64(
                    logValue("last_sequence", in: setup.log("engine-\(shard).log"), after: "engine shard stopped") ?? ""
                )
                    ?? 0
            }
            // More than a segment each: the first segment is covered by the final snapshot and pruned.
            #expect(lastSequences.allSatisfy { $0 > 1_100 }, "\(lastSequences)")
            let firstKept = try (0..<2).map {
                try JournalDirectory.segments(setup.journalDirectory($0)).first?.first ?? 0
            }
            #expect(firstKept.allSatisfy { $0 > 1 }, "\(firstKept)")
            engines = try [
                setup.engine(0, log: "engine-0-restarted.log"), setup.engine(1, log: "engine-1-restarted.log"),
            ]
            let port = try Self.freePort()
            let persister = try setup.persister(1, metricsPort: port)
            defer { _ = persister.terminate() }
            let caughtUp = eventually(seconds: 20) {
                let store = try SQLiteEventStore(path: setup.exchange.persistence.sqlitePath)
                defer { store.close() }
                return try (0..<2).allSatisfy { try store.highWaterMark(shard: $0) == lastSequences[$0] }
            }
            #expect(caughtUp, "\(setup.log("persist-1.log"))")

            var metrics = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            for _ in 0..<50 where metrics.code != 3 {
                usleep(100_000)
                metrics = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            }
            #expect(metrics.code == 3, "\(metrics.output)\(metrics.error)")
            #expect(metrics.output.contains("chronos status: http://127.0.0.1:\(port)/metrics up (200 OK"))
            for shard in 0..<2 {
                #expect(metrics.output.contains("  shard \(shard): high-water mark \(lastSequences[shard]), lost "))
                #expect(metrics.output.contains("ALARM shard \(shard): "))
            }
            // The plain check of the same endpoint (the liveness probe) stays healthy.
            let plain = try AuditProcessTests.chronos(["status", "--port", "\(port)"])
            #expect(plain.code == 0 && !plain.output.contains("ALARM"))

            let stored = try AuditProcessTests.chronos(["status", "--persist-store", "--config", setup.configPath])
            #expect(stored.code == 3, "\(stored.error)")
            for shard in 0..<2 {
                #expect(stored.output.contains("ALARM shard \(shard): "))
                #expect(stored.output.contains("recorded in gaps (sequences 1…\(firstKept[shard] - 1))"))
            }
            // Both at once: one report each, still exit 3.
            let both = try AuditProcessTests.chronos([
                "status", "--persist-port", "\(port)", "--persist-store", "--config", setup.configPath,
            ])
            #expect(both.code == 3)
            #expect(both.output.components(separatedBy: "ALARM shard 0").count == 3)
            #expect(persister.terminate() == 0)
        }
    }

    @Test func aServiceWithoutPersisterMetricsIsNotAPersister() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let setup = try ProcessSetup(persistence: "sqlite_path = \"\(dir.path)/chronos.sqlite\"")
            let port = try Self.freePort()
            let engine = try ChildProcess(
                setup.binary, ["engine", "--config", setup.configPath, "--shard", "0", "--metrics-port=\(port)"],
                log: dir.appendingPathComponent("engine-0.log"))
            defer { _ = engine.terminate() }
            var result = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            for _ in 0..<100 where result.error.contains("is down") {
                usleep(100_000)
                result = try AuditProcessTests.chronos(["status", "--persist-port", "\(port)"])
            }
            #expect(result.code == 1)
            #expect(result.error.contains("is not a persister (no chronos_persist_* metrics)"))
        }
    }

    // MARK: The reports, from values

    @Test(arguments: StoreKind.available)
    func storeStatusReadsTheConfiguredAndTheStoredShards(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            try store.write(batch: auditItems())
            defer { store.close() }
            try store.write(batch: [.gap(shard: 1, from: 4, to: 9)])
            #expect(try store.storedShards() == [0, 1])
            let status = try StoreStatus.read(store, shards: [0, 2])
            #expect(status.shards.map(\.id) == [0, 1, 2])
            #expect(status.shards.map(\.highWaterMark) == [8, 9, 0])
            #expect(status.shards.map(\.gaps) == [[], [4...9], []])
            #expect(status.alarms == ["ALARM shard 1: 6 events lost, recorded in gaps (sequences 4…9)"])
        }
    }

    @Test func storeStatusAlarmsOnRecordedGaps() {
        let complete = StoreStatus(shards: [.init(id: 0, highWaterMark: 7, gaps: [])])
        #expect(complete.alarms.isEmpty)
        #expect(
            complete.report(store: "sqlite x.sqlite")
                == "chronos status: store sqlite x.sqlite\n  shard 0: high-water mark 7, no gaps\n")
        let lossy = StoreStatus(shards: [
            .init(id: 0, highWaterMark: 7, gaps: []), .init(id: 1, highWaterMark: 500, gaps: [1...400, 410...419]),
        ])
        #expect(lossy.alarms == ["ALARM shard 1: 410 events lost, recorded in gaps (sequences 1…400, 410…419)"])
        #expect(lossy.report(store: "s").contains("  shard 1: high-water mark 500, 2 gaps (410 events)\n"))
    }

    @Test func persisterMetricsAreReadFromTheExposition() {
        let exposition = """
            # TYPE chronos_persist_high_water_mark gauge
            chronos_persist_high_water_mark{shard="0"} 1200.0
            chronos_persist_high_water_mark{shard="1"} 980
            # TYPE chronos_persist_lost_events_total counter
            chronos_persist_lost_events_total{shard="0"} 0
            chronos_persist_lost_events_total{shard="1"} 412
            chronos_persist_rejected_frames_total{shard="1"} 3
            chronos_persist_buffer_events 17
            chronos_persist_retries_total 2
            chronos_persist_events_total 2180
            chronos_persist_write_seconds_bucket{le="0.005"} 4
            chronos_engine_last_sequence{shard="0"} 99
            """
        let metrics = PersisterMetrics(exposition: exposition)
        #expect(metrics.isPersister)
        #expect(metrics.shards.map(\.id) == [0, 1])
        #expect(metrics.shards.map(\.highWaterMark) == [1_200, 980])
        #expect(metrics.shards.map(\.lostEvents) == [0, 412] && metrics.shards[1].rejectedFrames == 3)
        #expect(metrics.bufferEvents == 17 && metrics.retries == 2 && metrics.eventsWritten == 2_180)
        #expect(metrics.alarms.count == 1 && metrics.alarms[0].hasPrefix("ALARM shard 1: 412 events lost"))
        let report = metrics.report()
        #expect(report.contains("  persister: 2180 events written, buffer 17 events, 2 retries\n"))
        #expect(report.contains("  shard 0: high-water mark 1200, lost 0, rejected frames 0\n"))
        #expect(report.contains("  shard 1: high-water mark 980, lost 412, rejected frames 3\n"))
        #expect(!PersisterMetrics(exposition: "chronos_engine_events_total{shard=\"0\"} 5\n").isPersister)
    }
}
