import ArgumentParser
import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Histogram
import Journal
import MatchingEngine
import Messaging
import Runtime
import ShardClient
import Synchronization
import Workload

/// `chronos bench journal`: what the journal costs per command, in each durability mode, and how
/// long a shard takes to recover.
struct JournalBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Journal cost per command (process and machine durability) and recovery time.",
        discussion: """
            1. Engine thread CPU time per command on the seeded realistic flow: the engine alone, then \
            engine + frame encoding + journal append (process durability), then the same with a journal \
            thread fdatasync'ing in groups (machine durability). Passes alternate; medians reported. \
            2. Order → report round trips through an inproc engine shard with process and with machine \
            durability (alternating batches), p50/p99/p99.9. \
            3. Recovery: a journal of --recovery-events events is written, then a shard recovers from it \
            (a) from the journal alone and (b) from a snapshot plus the journal tail after it \
            (--tail-events), timed as the shard's start does it.
            """
    )

    @Option(help: "Commands per pass of the CPU-cost measurement.") var commands = 1_000_000
    @Option(help: "Passes per variant.") var passes = 3
    @Option(help: "Round trips per durability mode.") var roundTrips = 4_000
    @Option(help: "Events in the journal the recovery is measured on.") var recoveryEvents = 10_000_000
    @Option(help: "Events after the snapshot in the snapshot + tail recovery.") var tailEvents = 2_000_000
    @Option(help: "Folder for the journals (default: a temporary folder, removed at the end).") var dir: String?

    func run() throws {
        let root = try dir ?? JournalDirectory.makeTemporary(prefix: "chronos-bench-journal")
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: root) } }
        print("chronos bench journal — release build expected; thread CPU time (CLOCK_THREAD_CPUTIME_ID)")
        try cpuCost(root: root)
        try latency(root: root)
        try recovery(root: root)
    }

    // MARK: 1. CPU per command

    enum Variant: String, CaseIterable { case engine, process, machine }

    func cpuCost(root: String) throws {
        var generator = try OrderFlowGenerator(.init(seed: 42, symbols: 4, targetRestingOrders: 10_000))
        let stream = generator.generate(commands)
        var results: [Variant: [Double]] = [:]
        var events = 0
        for pass in 0..<passes {
            for variant in Variant.allCases {
                let (ns, produced) = try onePass(stream, variant: variant, root: "\(root)/cpu-\(pass)-\(variant)")
                results[variant, default: []].append(ns)
                events = produced
            }
        }
        func median(_ v: Variant) -> Double { results[v]!.sorted()[results[v]!.count / 2] }
        print("1. engine thread CPU per command, \(commands) commands (\(events) events), median of \(passes):")
        let base = median(.engine)
        for variant in Variant.allCases {
            let m = median(variant)
            let extra = variant == .engine ? "" : String(format: "  (+%.0f ns for the journal)", m - base)
            print(String(format: "   %-8@ %7.0f ns/command%@", variant.rawValue as NSString, m, extra as NSString))
        }
    }

    /// One pass; returns the engine thread's CPU ns per command and the events produced.
    func onePass(_ stream: [EngineCommand], variant: Variant, root: String) throws -> (Double, Int) {
        let symbols = ExchangeConfiguration.defaultLiveSymbols
        let engine = try Engine(configuration: EngineConfiguration(orderCapacity: 1 << 20, symbolCapacity: 8))
        for symbol in symbols { try engine.addSymbol(symbol) }
        var writer: JournalWriter?
        let stopping = StopFlag()
        var background: Thread?
        if variant != .engine {
            try JournalDirectory.create(root)
            let settings = JournalSettings(root: root, durability: variant == .machine ? .machine : .process)
            let identity = ShardIdentity(shard: 0, symbols: symbols, shardOfSymbol: [0, 0, 0, 0])
            let shadow = try Engine(configuration: EngineConfiguration(orderCapacity: 1 << 20, symbolCapacity: 8))
            for symbol in symbols { try shadow.addSymbol(symbol) }
            writer = try ShardJournal.recover(
                directory: root, shard: 0, identityText: identity.canonical, fingerprint: identity.fingerprint,
                settings: settings, engine: shadow
            ).writer
            let files = writer!.files
            let thread = Thread { [stopping] in
                while !stopping.value.load(ordering: .acquiring) {
                    if files.doWork() == 0 { usleep(files.durability == .machine ? 50 : 2_000) }
                }
            }
            thread.start()
            background = thread
        }
        defer {
            stopping.value.store(true, ordering: .releasing)
            while background?.isFinished == false { usleep(1_000) }
            try? FileManager.default.removeItem(atPath: root)
        }
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)
        defer { frame.deallocate() }
        var events = 0
        let started = SystemClock.threadCPUNanoseconds()
        for command in stream {
            events &+= engine.submit(command)
            guard let writer else { continue }
            try Self.journal(engine.events, into: writer, frame: frame)
        }
        let cpu = SystemClock.threadCPUNanoseconds() - started
        return (Double(cpu) / Double(stream.count), events)
    }

    /// Encodes one command's events into `frame` and appends them to `writer`, then commits: what
    /// the shard's engine thread does per command.
    static func journal(
        _ events: EngineEvents, into writer: JournalWriter, frame: UnsafeMutableRawBufferPointer
    ) throws {
        for event in events {
            guard
                case .success(let n) = WireFrame(message: .event(event, clientTimestampNanos: 1)).encode(into: frame),
                writer.append(sequence: event.sequence, frame: UnsafeRawBufferPointer(rebasing: frame[0..<n]))
            else { throw ValidationError("journal append failed at \(event.sequence)") }
        }
        writer.commit()
    }

    // MARK: 2. Round trips

    func latency(root: String) throws {
        var histograms: [JournalDurability: Histogram<UInt64>] = [:]
        var shards: [JournalDurability: (EngineShard, ExchangeClient)] = [:]
        let context = try ZMQContext()
        for durability in JournalDurability.allCases {
            var exchange = ExchangeConfiguration(engine: EngineConfiguration(orderCapacity: 1 << 16, symbolCapacity: 8))
            exchange.shards = [try MessagingBenchmark.shardConfiguration(.inproc, id: 0, context: context)]
            exchange.journal = JournalSettings(root: "\(root)/latency-\(durability.rawValue)", durability: durability)
            let shard = EngineShard(EngineShard.Configuration(exchange, shard: 0), context: context)
            try shard.start()
            let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "bench")
            shards[durability] = (shard, client)
            histograms[durability] = MessagingBenchmark.histogram()
        }
        defer { shards.values.forEach { $0.0.stop() } }
        var id: UInt64 = 1
        let batch = 200
        for round in 0..<(roundTrips / batch + 1) {
            for durability in JournalDurability.allCases {
                let (_, client) = shards[durability]!
                for _ in 0..<batch {
                    let order = NewOrder(
                        id: OrderID(id), account: AccountID(1), symbol: SymbolID(0), side: id % 2 == 0 ? .buy : .sell,
                        price: id % 2 == 0 ? 9_000 : 11_000, quantity: 1)
                    id += 1
                    let sent = SystemClock.monotonicNanoseconds()
                    guard case .sent = client.submit(.new(order), clientTimestampNanos: sent) else {
                        usleep(1_000)
                        continue
                    }
                    while let frame = client.receive(timeoutMilliseconds: 2_000) {
                        if case .event(let event, _) = frame.message, event.answersCommand { break }
                    }
                    if round > 0 { _ = histograms[durability]!.record(SystemClock.monotonicNanoseconds() - sent) }
                }
            }
        }
        print("2. order → report round trip through an inproc shard, \(roundTrips) each, alternating batches (µs):")
        for durability in JournalDurability.allCases {
            let h = histograms[durability]!
            print(
                "   \(durability.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) p50 \(h.valueAtPercentile(50) / 1_000)"
                    + "   p99 \(h.valueAtPercentile(99) / 1_000)   p99.9 \(h.valueAtPercentile(99.9) / 1_000)"
                    + "   max \(h.maxRecorded / 1_000)")
        }
    }

    // MARK: 3. Recovery

    func recovery(root: String) throws {
        let symbols = ExchangeConfiguration.defaultLiveSymbols
        let identity = ShardIdentity(shard: 0, symbols: symbols, shardOfSymbol: [0, 0, 0, 0])
        let directory = "\(root)/recovery"
        try JournalDirectory.create(directory)
        func engine() throws -> Engine {
            let e = try Engine(configuration: EngineConfiguration(orderCapacity: 1 << 20, symbolCapacity: 8))
            for symbol in symbols { try e.addSymbol(symbol) }
            return e
        }
        // Write the journal, with a snapshot `tailEvents` before its end.
        let source = try engine()
        let writer = try ShardJournal.recover(
            directory: directory, shard: 0, identityText: identity.canonical, fingerprint: identity.fingerprint,
            settings: JournalSettings(root: root), engine: try engine()
        ).writer
        var generator = try OrderFlowGenerator(.init(seed: 7, symbols: 4, targetRestingOrders: 100_000))
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)
        defer { frame.deallocate() }
        var snapshotPath: String?
        var commands: [EngineCommand] = []
        while source.nextSequence <= UInt64(recoveryEvents) {
            commands.removeAll(keepingCapacity: true)
            generator.generate(10_000, into: &commands)
            for command in commands {
                source.submit(command)
                try Self.journal(source.events, into: writer, frame: frame)
                if snapshotPath == nil && source.nextSequence > UInt64(max(0, recoveryEvents - tailEvents)) {
                    let file = SnapshotFile(
                        sequence: source.nextSequence - 1, identityText: identity.canonical,
                        fingerprint: identity.fingerprint, body: source.snapshotBytes(), createdNanos: 0)
                    snapshotPath = try file.write(directory: directory)
                }
            }
        }
        _ = writer.files.doWork()
        let total = source.nextSequence - 1
        print(
            "3. recovery of a shard whose journal holds \(total) events (\(source.restingOrderCount) resting orders at the end):"
        )
        func timed(_ label: String) throws {
            let fresh = try engine()
            let started = SystemClock.monotonicNanoseconds()
            let recovery = try ShardJournal.rebuild(
                directory: directory, identityText: identity.canonical, fingerprint: identity.fingerprint,
                engine: fresh)
            let seconds = Double(SystemClock.monotonicNanoseconds() - started) / 1e9
            guard fresh.stateHash() == source.stateHash() else { throw ValidationError("recovered state differs") }
            print(
                String(
                    format: "   %@: %.2f s (snapshot at %llu, %d events replayed); state hash equal",
                    label as NSString, seconds, recovery.snapshotSequence, recovery.replay.events))
        }
        try timed("snapshot + tail")
        if let snapshotPath {
            try FileManager.default.moveItem(atPath: snapshotPath, toPath: snapshotPath + ".aside")
            try timed("journal alone  ")
        }
    }
}

/// A stop flag a background thread reads.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
