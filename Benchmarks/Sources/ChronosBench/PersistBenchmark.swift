import ArgumentParser
import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Journal
import Logging
import MatchingEngine
import Messaging
import Persistence
import Runtime
import ShardClient
import Workload

/// `chronos bench persist`: the persister's cost to the engine, the store's sustained write rate,
/// and the time to recover a shard with many resting orders.
struct PersistBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persist",
        abstract: "Engine throughput with and without the persister, events/s stored, recovery time.",
        discussion: """
            1. One inproc shard takes --commands resting orders and their cancels (--window in flight) \
            from one client thread, --passes times with the persister detached and attached in turn \
            (same run, so the ratio compares like with like); attached, the time until the store holds \
            every event gives the sustained events/s stored (bounded by the engine and its client \
            sharing the machine with the persister). \
            2. The store's write rate: --write-events events of a realistic order flow (passive adds, \
            cancels, marketable orders: fills and partial fills; one shard), generated beforehand, \
            written through the store's write path in transactions of --batch-size, as the persister \
            writes them; reported overall and per quarter (a sustained rate does not fall as the tables \
            grow). \
            3. --resting resting orders (one symbol, --levels price levels per side) are written to a fresh store in \
            batches of --batch-size (bulk write rate), read back as the recovery log and replayed \
            into a new engine (the recovery time, split into read and rebuild). \
            --store sqlite (a temporary file) or postgresql (the libpq variables PGHOST, PGPORT, PGUSER, \
            PGPASSWORD; a fresh database per store, dropped after).
            """
    )

    @Option(help: "Store: sqlite or postgresql.") var store = "sqlite"
    @Option(help: "Commands per throughput pass (resting orders and their cancels).") var commands = 200_000
    @Option(help: "Commands in flight.") var window = 1_000
    @Option(help: "Passes of each (detached, attached).") var passes = 3
    @Option(help: "Resting orders of the recovery measurement (0: skip it).") var resting = 1_000_000
    @Option(help: "Events per transaction.") var batchSize = 1_000
    @Option(help: "Events of the store write-rate measurement (0: skip it).") var writeEvents = 1_000_000
    @Option(help: "Price levels per side the resting orders of the recovery measurement spread over.")
    var levels = 1_000

    func validate() throws {
        guard PersistenceConfiguration.Store(rawValue: store) != nil else {
            throw ValidationError("--store: must be sqlite or postgresql (got \(store))")
        }
        guard commands > 0, window > 0, passes > 0, resting >= 0, batchSize > 0, levels > 0, writeEvents >= 0 else {
            throw ValidationError(
                "--commands, --window, --passes, --batch-size and --levels must be > 0, --resting and --write-events >= 0"
            )
        }
    }

    func run() throws {
        let stores = try BenchStores(kind: PersistenceConfiguration.Store(rawValue: store)!, batchSize: batchSize)
        defer { stores.removeAll() }
        print("chronos bench persist: store \(stores.kind.rawValue), \(passes) passes × \(commands) commands")
        var detached: [Double] = []
        var attached: [Double] = []
        var stored: [Double] = []
        for pass in 1...passes {
            let without = try Self.throughput(commands: commands, window: window, persistence: nil)
            let with = try Self.throughput(commands: commands, window: window, persistence: try stores.next())
            detached.append(without.commandsPerSecond)
            attached.append(with.commandsPerSecond)
            stored.append(with.storedEventsPerSecond ?? 0)
            print(
                "  pass \(pass): detached \(Int(without.commandsPerSecond)) commands/s, attached "
                    + "\(Int(with.commandsPerSecond)) commands/s (ratio \(ReportFormat.fixed(with.commandsPerSecond / without.commandsPerSecond, 3))), "
                    + "stored \(Int(with.storedEventsPerSecond ?? 0)) events/s sustained")
        }
        let ratios = zip(attached, detached).map { $0 / $1 }.sorted()
        print(
            "engine throughput attached ÷ detached: median \(ReportFormat.fixed(ratios[ratios.count / 2], 3)) "
                + "(range \(ReportFormat.fixed(ratios.first!, 3))–\(ReportFormat.fixed(ratios.last!, 3))); stored events/s median "
                + "\(Int(stored.sorted()[stored.count / 2]))")
        if writeEvents > 0 { try writeRate(stores.next()) }
        if resting > 0 { try recovery(stores.next()) }
    }

    /// Writes `writeEvents` events of a generated order flow to a fresh store in batches of
    /// `batchSize` and prints the events/s, overall and per quarter of the run.
    func writeRate(_ persistence: PersistenceConfiguration) throws {
        var generator = try OrderFlowGenerator(.init(symbols: 4, targetRestingOrders: 20_000))
        let engine = try Engine(
            configuration: EngineConfiguration(orderCapacity: 80_000, symbolCapacity: 4, usedIDBlockCapacity: 1 << 21))
        for s in 0..<4 { try engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
        var items: [StoreItem] = []
        items.reserveCapacity(writeEvents + 16)
        var kinds: [String: Int] = [:]
        let received = UInt64(Date().timeIntervalSince1970 * 1e9)
        while items.count < writeEvents {
            for command in generator.generate(1_000) {
                engine.submit(command)
                for event in engine.events {
                    kinds[Self.kind(event), default: 0] += 1
                    items.append(
                        .event(
                            shard: 0, event, clientTimestampNanos: event.sequence,
                            recordedAtNanos: received + event.sequence))
                }
            }
        }
        items.removeLast(items.count - writeEvents)
        let store = try PersistenceService.storeFactory(persistence, logger: Logger(label: "chronos.bench"))()
        defer { store.close() }
        var quarters: [Int] = []
        let startedCPU = SystemClock.threadCPUNanoseconds()
        let started = SystemClock.monotonicNanoseconds()
        var quarterStart = (events: 0, time: started)
        for start in stride(from: 0, to: items.count, by: batchSize) {
            let end = min(start + batchSize, items.count)
            let last: UInt64
            if case .event(_, let event, _, _) = items[end - 1] { last = event.sequence } else { last = 0 }
            try store.write(batch: Array(items[start..<end]), seen: [0: last])
            if end - quarterStart.events >= writeEvents / 4 || end == items.count {
                let now = SystemClock.monotonicNanoseconds()
                quarters.append(Int(Double(end - quarterStart.events) / (Double(now - quarterStart.time) / 1e9)))
                quarterStart = (end, now)
            }
        }
        let seconds = Double(SystemClock.monotonicNanoseconds() - started) / 1e9
        let cpuPerEvent = Double(SystemClock.threadCPUNanoseconds() - startedCPU) / Double(writeEvents)
        guard try store.highWaterMark(shard: 0) == UInt64(writeEvents) else {
            throw ValidationError("the store's high-water mark is not the last event written")
        }
        let mix = kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print(
            "store write rate (\(persistence.store.rawValue), batches of \(batchSize)): \(Int(Double(writeEvents) / seconds)) "
                + "events/s sustained over \(writeEvents) events (\(ReportFormat.fixed(seconds, 3)) s; per quarter "
                + quarters.map(String.init).joined(separator: ", ") + "); writing thread CPU "
                + "\(Int(cpuPerEvent)) ns/event (PostgreSQL's server work not included); events: \(mix)")
    }

    private static func kind(_ event: EngineEvent) -> String {
        switch event {
        case .accepted: "accepted"
        case .rejected: "rejected"
        case .fill: "fill"
        case .canceled: "canceled"
        case .replaced: "replaced"
        }
    }

    /// Writes `resting` resting orders' events to `persistence`'s store, then reads and replays them.
    func recovery(_ persistence: PersistenceConfiguration) throws {
        let configuration = EngineConfiguration(orderCapacity: resting + 1_024, symbolCapacity: 4)
        let symbol = SymbolConfiguration(name: "BENCH")
        let source = try Engine(configuration: configuration)
        let id = try source.addSymbol(symbol)
        var log: [EngineEvent] = []
        log.reserveCapacity(resting)
        let generated = SystemClock.monotonicNanoseconds()
        for i in 0..<resting {
            let buy = i % 2 == 0
            let level = Int64(i / 2 % levels)
            source.submit(
                .new(
                    NewOrder(
                        id: OrderID(UInt64(i + 1)), account: AccountID(UInt32(i % 100)), symbol: id,
                        side: buy ? .buy : .sell, price: buy ? 1_000_000 - level : 1_000_001 + level, quantity: 10)))
            log += source.events
        }
        let originalSeconds = Double(SystemClock.monotonicNanoseconds() - generated) / 1e9
        let store = try PersistenceService.storeFactory(persistence, logger: Logger(label: "chronos.bench"))()
        defer { store.close() }
        var started = SystemClock.monotonicNanoseconds()
        for start in stride(from: 0, to: log.count, by: batchSize) {
            let batch = log[start..<min(start + batchSize, log.count)]
            try store.write(batch: batch.map { .event(shard: 0, $0, clientTimestampNanos: 0) })
        }
        let writeSeconds = Double(SystemClock.monotonicNanoseconds() - started) / 1e9
        started = SystemClock.monotonicNanoseconds()
        let read = try store.recoveryLog(shard: 0)
        let readSeconds = Double(SystemClock.monotonicNanoseconds() - started) / 1e9
        started = SystemClock.monotonicNanoseconds()
        let recovered = try Engine(configuration: configuration)
        try recovered.addSymbol(symbol)
        let summary = try recovered.recover(from: read.events)
        let rebuildSeconds = Double(SystemClock.monotonicNanoseconds() - started) / 1e9
        guard recovered.stateHash() == source.stateHash(), recovered.restingOrderCount == resting else {
            throw ValidationError("the recovered engine differs from the source")
        }
        print(
            "recovery of \(resting) resting orders (\(summary.events) events): bulk write "
                + "\(Int(Double(log.count) / writeSeconds)) events/s (\(ReportFormat.fixed(writeSeconds, 3)) s); read "
                + "\(ReportFormat.fixed(readSeconds, 3)) s + rebuild \(ReportFormat.fixed(rebuildSeconds, 3)) s = \(ReportFormat.fixed(readSeconds + rebuildSeconds, 3)) s "
                + "(the same orders submitted to the original engine: \(ReportFormat.fixed(originalSeconds, 3)) s); state hash equal"
        )
    }

    struct Pass {
        var commandsPerSecond: Double
        /// Events stored per second, from the first command until the store held every event.
        var storedEventsPerSecond: Double?
    }

    /// One inproc shard, resting orders and their cancels from one client; with `persistence`, a
    /// persister follows the shard into that store.
    static func throughput(commands: Int, window: Int, persistence: PersistenceConfiguration?) throws -> Pass {
        let context = try ZMQContext()
        var exchange = ExchangeConfiguration(engine: EngineConfiguration(orderCapacity: 1 << 20, symbolCapacity: 8))
        let journalRoot = try JournalDirectory.makeTemporary(prefix: "chronos-bench")
        defer { try? FileManager.default.removeItem(atPath: journalRoot) }
        exchange.journal.root = journalRoot
        exchange.shards = [try MessagingBenchmark.shardConfiguration(.inproc, id: 0, context: context)]
        let shard = EngineShard(EngineShard.Configuration(exchange, shard: 0), context: context)
        try shard.start()
        defer { shard.stop() }
        var persister: PersistenceService?
        if let persistence {
            exchange.persistence = persistence
            let service = PersistenceService(
                exchange: exchange, context: context, logger: Logger(label: "chronos.bench"),
                makeStore: try PersistenceService.storeFactory(persistence, logger: Logger(label: "chronos.bench")))
            try service.start()
            while !service.counters.following.load(ordering: .relaxed) { usleep(1_000) }
            persister = service
        }
        defer { persister?.stop() }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "bench")
        let start = SystemClock.monotonicNanoseconds()
        MessagingBenchmark.sendRestingOrdersAndCancels(
            client, commands: commands, window: window, symbols: exchange.shardMap.symbolNames.count)
        let flowSeconds = Double(SystemClock.monotonicNanoseconds() - start) / 1e9
        var pass = Pass(commandsPerSecond: Double(commands) / flowSeconds)
        if let persister {
            let events = shard.counters.events.load(ordering: .relaxed)
            while persister.counters.persistedEvents.load(ordering: .relaxed) < events { usleep(1_000) }
            pass.storedEventsPerSecond = Double(events) / (Double(SystemClock.monotonicNanoseconds() - start) / 1e9)
        }
        return pass
    }
}

/// Fresh stores for the benchmark: temporary SQLite files, or PostgreSQL databases created on the
/// server the libpq variables name; all removed at the end.
final class BenchStores {
    let kind: PersistenceConfiguration.Store
    private let base: PersistenceConfiguration
    private let directory: URL
    private var databases: [String] = []
    private var count = 0

    init(kind: PersistenceConfiguration.Store, batchSize: Int) throws {
        self.kind = kind
        var base = try PersistenceConfiguration().applyingEnvironment(ProcessInfo.processInfo.environment)
        base.store = kind
        base.batchSize = batchSize
        self.base = base
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-bench-persist-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The settings of a new, empty store.
    func next() throws -> PersistenceConfiguration {
        count += 1
        var settings = base
        switch kind {
        case .sqlite:
            settings.sqlitePath = directory.appendingPathComponent("store-\(count).sqlite").path
        case .postgresql:
            settings.postgresqlDatabase = "chronos_bench_\(UUID().uuidString.prefix(8).lowercased())"
            try PostgresEventStore.createDatabaseIfMissing(endpoint(settings))
            databases.append(settings.postgresqlDatabase)
        }
        return settings
    }

    private func endpoint(_ settings: PersistenceConfiguration) throws -> PostgresEventStore.Endpoint {
        try PostgresEventStore.Endpoint(settings)
    }

    func removeAll() {
        try? FileManager.default.removeItem(at: directory)
        for database in databases {
            var settings = base
            settings.postgresqlDatabase = database
            if let endpoint = try? endpoint(settings) { try? PostgresEventStore.dropDatabase(endpoint) }
        }
    }
}
