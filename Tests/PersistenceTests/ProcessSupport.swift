import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Journal
import Messaging
import Persistence
import Runtime
import ShardClient
import TestSupport
import Testing
import Workload

#if canImport(Glibc)
    import Glibc
#endif

// What the process tests share (PersistProcessTests, EngineRecoveryProcessTests, PersistStatusTests,
// CrashTrialTests): `chronos` children, a test folder with a two-shard ipc configuration, a
// seeded flow through `ExchangeClient` that records what it receives, and the stores.

/// A `chronos` child process whose standard output and error go to a log file.
final class ChildProcess {
    let process = Process()

    init(_ binary: URL, _ arguments: [String], environment: [String: String] = [:], log: URL) throws {
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: log.path) {
            FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and the exit status (killed after `seconds`: a hang guard, never a speed check).
    func terminate(seconds: Double = 30) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill9() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A test folder with a two-shard ipc configuration (AAPL on shard 0, MSFT on shard 1): the
/// journal (`[journal] dir`), the gateway state and the default SQLite store all inside it, so
/// that no two tests — and no test and a developer's `.chronos-state` — share a journal.
struct ProcessSetup {
    let dir: URL
    let configPath: String
    let exchange: ExchangeConfiguration
    let binary: URL

    /// - Parameters:
    ///   - persistence: lines of the `[persistence]` table.
    ///   - journal: more lines of the `[journal]` table (its `dir` is the folder's `journal`).
    ///   - segmentEvents: events per journal segment (small: tests start many shards, and each
    ///     segment is preallocated).
    init(persistence: String, journal: String = "", segmentEvents: Int = 16_384) throws {
        binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        dir = temporaryDirectory()
        var shards = ""
        for id in 0..<2 {
            shards += """

                [[shards]]
                id = \(id)
                orders = "ipc://\(dir.path)/s\(id)-orders"
                events = "ipc://\(dir.path)/s\(id)-events"
                replay = "ipc://\(dir.path)/s\(id)-replay"
                symbols = ["\(id == 0 ? "AAPL" : "MSFT")"]

                """
        }
        let text = """
            [engine]
            order_capacity = 100000

            [[symbols]]
            name = "AAPL"
            max_qty = 1000000
            max_price = 100000000
            [[symbols]]
            name = "MSFT"
            max_qty = 1000000
            max_price = 100000000

            [gateway]
            state_dir = "\(dir.path)/state"
            fix_port = -1
            binary_port = -1
            udp_port = -1

            [journal]
            dir = "\(dir.path)/journal"
            segment_events = \(segmentEvents)
            \(journal)

            [persistence]
            \(persistence)
            \(shards)
            """
        configPath = dir.appendingPathComponent("chronos.toml").path
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        exchange = try ExchangeConfiguration.load(path: configPath)
    }

    /// `chronos engine --shard K` (its log appended to `log`, default `engine-K.log`).
    func engine(
        _ shard: Int, _ extraArguments: [String] = [], environment: [String: String] = [:],
        log: String? = nil
    ) throws -> ChildProcess {
        try ChildProcess(
            binary,
            ["engine", "--config", configPath, "--shard", "\(shard)", "--metrics-port=-1"] + extraArguments,
            environment: environment, log: dir.appendingPathComponent(log ?? "engine-\(shard).log"))
    }

    /// `chronos persist`, its log in `persist-<n>.log`.
    func persister(_ n: Int, environment: [String: String] = [:], metricsPort: Int = -1) throws -> ChildProcess {
        try ChildProcess(
            binary, ["persist", "--config", configPath, "--metrics-port=\(metricsPort)"], environment: environment,
            log: dir.appendingPathComponent("persist-\(n).log"))
    }

    /// `chronos run` (every shard and the persister in one process; gateway ports off), its log in
    /// `run-<n>.log`.
    func run(_ n: Int, environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(
            binary, ["run", "--config", configPath, "--metrics-port=-1"], environment: environment,
            log: dir.appendingPathComponent("run-\(n).log"))
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    /// Shard `shard`'s journal folder.
    func journalDirectory(_ shard: Int) -> String {
        EngineShard.Configuration(exchange, shard: shard).journalDirectory
    }
}

/// A seeded flow (``OrderFlowGenerator``) sent through both shards by one `ExchangeClient`,
/// recording every sequenced event it receives: per shard and sequence, the event (or, with
/// `keepEvents` false, only a digest of it, for long runs), and every sequence that was received
/// twice as two different events.
final class OrderFlow {
    let client: ExchangeClient
    var commands: [EngineCommand]
    /// The number of commands sent before ``commands``' first (dropped by long runs).
    private(set) var commandBase = 0
    private var generator: OrderFlowGenerator
    var sent = 0
    var reports = 0
    /// Per shard: sequence → event received (with `keepEvents`).
    private(set) var received: [[UInt64: EngineEvent]]
    /// Per shard: the digest of the event received with sequence s at index s - 1 (0: none yet).
    private(set) var digests: [[UInt64]]
    /// Sequences received twice with different events: (shard, sequence, first, second).
    private(set) var conflicts: [(shard: Int, sequence: UInt64, first: String, second: String)] = []
    /// Commands answered with a sequenced answer of their own (accepted, rejected, replaced, canceled).
    private(set) var answered = 0
    let keepEvents: Bool
    private let shardMap: ShardMap

    init(
        _ exchange: ExchangeConfiguration, context: ZMQContext, count: Int, seed: UInt64 = 11,
        name: String = "persist-test", keepEvents: Bool = true
    ) throws {
        client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: name)
        generator = try OrderFlowGenerator(.init(seed: seed, symbols: 2, accounts: 50, targetRestingOrders: 300))
        commands = generator.generate(count)
        shardMap = exchange.shardMap
        self.keepEvents = keepEvents
        received = Array(repeating: [:], count: exchange.shards.count)
        digests = Array(repeating: [], count: exchange.shards.count)
    }

    /// Appends `count` more generated commands (the same seed's stream, continued).
    func generate(_ count: Int) { generator.generate(count, into: &commands) }

    /// Waits until both shards take orders (up to `seconds`, a hang guard).
    func waitForShards(seconds: Double = 10) -> Bool {
        eventually(seconds: seconds) {
            for symbol: UInt32 in [0, 1] {
                let probe = EngineCommand.cancel(
                    CancelOrder(id: OrderID(UInt64.max), account: AccountID(0), symbol: SymbolID(symbol)))
                guard case .sent = client.submit(probe) else { return false }
            }
            return true
        }
    }

    /// Sends `count` more commands, reading reports as it goes; a shard that is down is waited
    /// for (up to `seconds`, a hang guard). Then, when `quiet`, reads reports until none comes for
    /// 50 ms; else returns at once (commands still in flight: a kill now falls mid-flow). Returns
    /// false when the guard expired.
    @discardableResult
    func send(_ count: Int, quiet: Bool = true, seconds: Double = 120) -> Bool {
        let end = min(sent + count, commandBase + commands.count)
        let deadline = Date().addingTimeInterval(seconds)
        while sent < end {
            if case .sent = client.submit(commands[sent - commandBase]) {
                sent += 1
            } else {
                guard Date() < deadline else { return false }
                usleep(1_000)
            }
            drain(timeoutMilliseconds: 0)
        }
        if quiet { drain(timeoutMilliseconds: 50) }
        return true
    }

    /// Sends commands for `milliseconds`, at most `limit` of them, generating more as needed (as
    /// fast as the shards take them, at most `window` unanswered; reports are read until the time
    /// is up); returns how many were sent. A long run drops the commands it sent from ``commands``.
    @discardableResult
    func send(forMilliseconds milliseconds: Int, limit: Int = .max, window: Int = 512) -> Int {
        let started = sent
        let deadline = SystemClock.monotonicNanoseconds() + UInt64(milliseconds) * 1_000_000
        var unanswered = 0
        while SystemClock.monotonicNanoseconds() < deadline {
            if sent == commandBase + commands.count {
                commandBase += commands.count
                commands.removeAll(keepingCapacity: true)
                generate(10_000)
            }
            let open = unanswered < window && sent - started < limit
            if open, case .sent = client.submit(commands[sent - commandBase]) {
                sent += 1
                unanswered += 1
            }
            let before = answered
            drain(timeoutMilliseconds: open ? 0 : 1)
            unanswered = max(0, unanswered - (answered - before))
        }
        return sent - started
    }

    /// Reads every report waiting, then until none arrives for `timeoutMilliseconds`.
    func drain(timeoutMilliseconds: Int) {
        while let frame = client.receive(timeoutMilliseconds: timeoutMilliseconds) { record(frame) }
    }

    private func record(_ frame: WireFrame) {
        reports += 1
        guard case .event(let event, _) = frame.message, event.sequence > 0 else { return }
        let shard = Int(frame.shard)
        guard shard < digests.count else { return }
        if event.answersCommand { answered += 1 }
        let index = Int(event.sequence - 1)
        if digests[shard].count <= index {
            digests[shard].append(contentsOf: repeatElement(0, count: index + 1 - digests[shard].count))
        }
        let digest = event.digest
        if digests[shard][index] == 0 {
            digests[shard][index] = digest
            if keepEvents { received[shard][event.sequence] = event }
        } else if digests[shard][index] != digest {
            conflicts.append(
                (
                    shard, event.sequence, keepEvents ? "\(received[shard][event.sequence]!)" : "digest \(digest)",
                    "\(event)"
                ))
        }
    }

    /// How many distinct sequenced events of `shard` were received.
    func receivedCount(_ shard: Int) -> Int { digests[shard].lazy.filter { $0 != 0 }.count }
}

extension EngineEvent {
    /// 64-bit FNV-1a of the event's wire frame (shard 0, no client timestamp), never 0.
    var digest: UInt64 {
        var bytes = [UInt8](repeating: 0, count: WireFormat.maxFrameSize)
        let count = bytes.withUnsafeMutableBytes { buffer -> Int in
            guard
                case .success(let n) = WireFrame(shard: 0, message: .event(self, clientTimestampNanos: 0))
                    .encode(into: buffer)
            else { return 0 }
            return n
        }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes[0..<count] { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash == 0 ? 1 : hash
    }
}

/// Every event each shard published, from 1, read until the stream is quiet.
func observe(_ observers: [EventSubscriber]) throws -> [[EngineEvent]] {
    try observers.map { observer in
        var events: [EngineEvent] = []
        // The timeout is per receive and the engine heartbeats every second: a longer timeout
        // would never expire while heartbeats flow. The flow is answered before this runs.
        while let event = try observer.next(timeoutMilliseconds: 300) { events.append(event) }
        return events
    }
}

/// The store the persister of `setup` writes: its SQLite file, or `database` on the test server.
func openStore(_ kind: StoreKind, _ setup: ProcessSetup, database: String? = nil) throws -> any EventStore {
    switch kind {
    case .sqlite: return try SQLiteEventStore(path: setup.exchange.persistence.sqlitePath)
    case .postgresql:
        return try PostgresEventStore(
            .init(
                host: "127.0.0.1", port: Int(StoreKind.environment["CHRONOS_PG_PORT"]!)!,
                user: StoreKind.environment["CHRONOS_PG_USER"] ?? "chronos", database: database!))
    }
}

/// Waits until the store holds every observed event, then checks it equals the stream exactly.
func expectStoreEquals(_ store: () throws -> any EventStore, _ observed: [[EngineEvent]]) throws {
    let caughtUp = eventually(seconds: 60) {  // returns when caught up; generous for a loaded machine
        let s = try store()
        defer { s.close() }
        return try observed.indices.allSatisfy { try s.highWaterMark(shard: $0) == UInt64(observed[$0].count) }
    }
    #expect(caughtUp, "the persister did not catch up")
    let s = try store()
    defer { s.close() }
    for (shard, events) in observed.enumerated() {
        #expect(!events.isEmpty)
        let stored = try s.events(shard: shard)
        #expect(stored.count == events.count, "shard \(shard)")
        #expect(stored == events, "shard \(shard): stored events differ from the stream")
        #expect(try s.gaps(shard: shard).isEmpty)
    }
}

/// The libpq variables that select `database` on the test server.
func pgEnvironment(_ database: String) -> [String: String] {
    [
        "PGHOST": "127.0.0.1", "PGPORT": StoreKind.environment["CHRONOS_PG_PORT"] ?? "5432",
        "PGUSER": StoreKind.environment["CHRONOS_PG_USER"] ?? "chronos", "PGDATABASE": database,
    ]
}

/// The environment that points a persister (or `chronos status`, `chronos run`) at `database`,
/// created fresh on the test server, for PostgreSQL; none for SQLite (the file is in the configuration).
func persisterEnvironment(_ kind: StoreKind, database: String) throws -> [String: String] {
    guard kind == .postgresql else { return [:] }
    let endpoint = try StoreKind.postgresEndpoint()
    try PostgresEventStore.createDatabaseIfMissing(
        .init(host: endpoint.host, port: endpoint.port, user: endpoint.user, database: database))
    return pgEnvironment(database)
}

/// The value of `key=` in the last line of `log` containing `marker` (and ` shard=K ` when given:
/// `chronos run` logs every shard in one file).
func logValue(_ key: String, in log: String, after marker: String, shard: Int? = nil) -> String? {
    guard
        let line = log.split(separator: "\n").last(where: { line in
            line.contains(marker) && (shard.map { line.contains(" shard=\($0) ") } ?? true)
        }),
        let range = line.range(of: " \(key)=")
    else { return nil }
    return line[range.upperBound...].split(separator: " ").first.map(String.init)
}

/// The `state_hash=0x…` (16 hex digits, no `0x`) of the last line of `log` containing `marker`.
func stateHash(in log: String, after marker: String, shard: Int? = nil) -> String? {
    logValue("state_hash", in: log, after: marker, shard: shard).map { String($0.dropFirst(2)) }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
