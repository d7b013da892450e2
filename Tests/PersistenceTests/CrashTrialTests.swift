import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Journal
import MatchingEngine
import Messaging
import Persistence
import ShardClient
import TestSupport
import Testing
import Workload

/// Crash trials with real processes, seeded and repeatable: two `chronos engine` shards over ipc
/// and `chronos persist` (or `chronos run`, shards and persister in one process), a seeded flow
/// through `ExchangeClient` that records every event it receives, kill -9 at a point of the flow
/// chosen from the seed, restart, more flow, graceful stop. Then, per shard: no sequence reissued,
/// every received event is the journal's record of its sequence, the store holds exactly the
/// journal, the recovered state hash is the engine's and a full replay's, nothing lost
/// (docs/persistence.md, "Crash trials and soak").
///
/// `CHRONOS_SOAK_TRIALS=N`: N trials per kind and store (seeds 1…N) instead of a few;
/// `CHRONOS_SOAK_MINUTES=M`: also one long run of M minutes under sustained load (`make soak`).
@Suite(.serialized) struct CrashTrialTests {
    /// What a trial kills.
    enum Crash: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// One `chronos engine` shard (chosen from the seed).
        case engine
        /// `chronos persist`.
        case persister
        /// The persister, then 0–300 ms later (from the seed) one engine shard, the flow going on between.
        case both
        /// `chronos run`: every shard and the in-process persister at once.
        case run

        var testDescription: String { rawValue }
    }

    static let environment = ProcessInfo.processInfo.environment

    /// The seeds each (kind, store) runs: 1…`CHRONOS_SOAK_TRIALS`, else two.
    static let seeds: [UInt64] = {
        let n = environment["CHRONOS_SOAK_TRIALS"].flatMap { Int($0) } ?? 2
        return Array(1...UInt64(max(n, 1)))
    }()

    /// The soak's length in minutes (`CHRONOS_SOAK_MINUTES`; unset: no soak).
    static let soakMinutes: Double? = environment["CHRONOS_SOAK_MINUTES"].flatMap { Double($0) }

    /// The soak's bound on the flow, in commands per second (`CHRONOS_SOAK_RATE`, default 700; 0:
    /// none, as fast as the shards answer): about what a debug-build persister writes to
    /// PostgreSQL on a shared 2-core machine, so that the store keeps pace instead of ending the
    /// run with a backlog of millions of events (the engines take ~20,000 commands/s).
    static let soakRate: Int = {
        let rate = environment["CHRONOS_SOAK_RATE"].flatMap { Int($0) } ?? 700
        return rate > 0 ? rate : .max
    }()

    /// A trial's plan: everything it does that is not timing comes from the seed.
    struct Plan: CustomStringConvertible {
        let crash: Crash
        let seed: UInt64
        /// Commands sent before the kill (which comes without waiting for their answers).
        let before: Int
        /// Commands sent while the persister is down (`persister`; `both`: at most, before the engine's kill).
        let whileDown: Int
        /// Commands sent after the restart.
        let after: Int
        /// The engine shard killed (`engine`, `both`).
        let victim: Int
        /// How long before the engine the persister is killed (`both`), in ms.
        let persisterLead: Int
        /// The persister's write delay per batch (a lagging persister has more to catch up), in ms.
        let writeDelay: Int

        init(_ crash: Crash, seed: UInt64) {
            var random = SplitMix64(
                seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(Crash.allCases.firstIndex(of: crash)!))
            self.crash = crash
            self.seed = seed
            before = Int.random(in: 200...2_500, using: &random)
            whileDown = Int.random(in: 0...1_500, using: &random)
            after = Int.random(in: 300...1_500, using: &random)
            victim = Int.random(in: 0...1, using: &random)
            persisterLead = Int.random(in: 0...300, using: &random)
            writeDelay = Int.random(in: 0...5, using: &random)
        }

        var description: String {
            "crash \(crash.rawValue), seed \(seed): kill after \(before) commands"
                + (crash == .engine || crash == .both ? ", shard \(victim)" : "")
                + (crash == .both ? ", persister \(persisterLead) ms before" : "")
                + (crash == .persister ? ", \(whileDown) commands while it is down" : "")
                + (crash == .both ? ", at most \(whileDown) commands between" : "")
                + ", \(after) after the restart, write delay \(writeDelay) ms"
        }
    }

    /// The children of a trial, stopped (SIGTERM, then SIGKILL) however the trial ends.
    final class Children {
        var engines: [ChildProcess?] = [nil, nil]
        var persister: ChildProcess?
        var run: ChildProcess?

        deinit {
            _ = run?.terminate()
            _ = persister?.terminate()
            for engine in engines { _ = engine?.terminate() }
        }
    }

    @Test(arguments: Crash.allCases, StoreKind.available)
    func killNineRestartAndNothingIsLostOrReissued(_ crash: Crash, _ kind: StoreKind) async throws {
        try await offThePool {
            for seed in Self.seeds {
                try trial(Plan(crash, seed: seed), kind)
            }
        }
    }

    func trial(_ plan: Plan, _ kind: StoreKind) throws {
        let database = "chronos_trial_\(UUID().uuidString.prefix(8).lowercased())"
        // Small segments and frequent snapshots: restarts recover from a snapshot and a journal
        // tail across segment boundaries; every segment is kept (the checks read from sequence 1).
        let setup = try ProcessSetup(
            persistence: "batch_size = 200\ndebug_write_delay_ms = \(plan.writeDelay)",
            journal: "snapshot_every_events = 500", segmentEvents: 1_024)
        let environment = try persisterEnvironment(kind, database: database)
        let context = try ZMQContext()
        let flow = try OrderFlow(
            setup.exchange, context: context, count: plan.before + plan.whileDown + plan.after, seed: plan.seed,
            name: "crash-trial")
        let children = Children()
        let note = "\(plan) (\(kind.rawValue); files in \(setup.dir.path))"

        if plan.crash == .run {
            children.run = try setup.run(1, environment: environment)
            try #require(flow.waitForShards(seconds: 120), "\(note)")
            #expect(flow.send(plan.before, quiet: false), "\(note)")
            children.run!.kill9()
            children.run = try setup.run(2, environment: environment)
        } else {
            children.engines = try [setup.engine(0), setup.engine(1)]
            children.persister = try setup.persister(1, environment: environment)
            try #require(flow.waitForShards(seconds: 120), "\(note)")
            #expect(
                eventually(seconds: 60) { setup.log("persist-1.log").contains("persister following") },
                "\(note)")
            #expect(flow.send(plan.before, quiet: false), "\(note)")
            switch plan.crash {
            case .engine:
                children.engines[plan.victim]!.kill9()
                children.engines[plan.victim] = try setup.engine(plan.victim)
            case .persister:
                children.persister!.kill9()
                #expect(flow.send(plan.whileDown, quiet: false), "\(note)")
                children.persister = try setup.persister(2, environment: environment)
            case .both:
                children.persister!.kill9()
                flow.send(forMilliseconds: plan.persisterLead, limit: plan.whileDown)
                children.engines[plan.victim]!.kill9()
                children.engines[plan.victim] = try setup.engine(plan.victim)
                children.persister = try setup.persister(2, environment: environment)
            case .run:
                break
            }
        }
        #expect(flow.send(plan.after), "\(note)")  // waits for a restarted shard (hang guard)
        flow.drain(timeoutMilliseconds: 500)

        // The persister catches up with the journals; then everything stops gracefully.
        let last = try (0..<2).map { try journalLastSequence(setup.journalDirectory($0)) }
        let caughtUp = waitForStore(kind, setup, database: database, toReach: last, seconds: 120)
        #expect(caughtUp, "the persister did not catch up with \(last); \(note)")
        let logName: (Int) -> String
        if let run = children.run {
            #expect(run.terminate() == 0, "\(note)")
            logName = { _ in "run-2.log" }
        } else {
            #expect(children.persister!.terminate() == 0, "\(note)")
            for engine in children.engines { #expect(engine!.terminate() == 0, "\(note)") }
            logName = { "engine-\($0).log" }
        }
        children.engines = [nil, nil]
        children.persister = nil
        children.run = nil

        try checkShards(setup, flow, kind, database: database, environment: environment, note: note) {
            setup.log(logName($0))
        }
        print("crash trial: \(note): events \(last), \(flow.answered) commands answered, \(flow.sent) sent")
    }

    /// `CHRONOS_SOAK_MINUTES=M`: two engine shards and the persister for M minutes under sustained
    /// load — the flow as fast as the shards answer it, bounded by ``soakRate`` and 512 commands
    /// unanswered — on PostgreSQL when the test server runs, else SQLite; then the trials' checks
    /// (the client keeps a digest per event instead of the event).
    @Test(.enabled(if: CrashTrialTests.soakMinutes != nil, "set CHRONOS_SOAK_MINUTES"))
    func sustainedLoadForMinutesLosesNothing() async throws {
        try await offThePool {
            let kind = StoreKind.available.last!
            let minutes = Self.soakMinutes ?? 10
            let database = "chronos_soak_\(UUID().uuidString.prefix(8).lowercased())"
            let setup = try ProcessSetup(persistence: "batch_size = 1000", journal: "snapshot_every_events = 200000")
            let environment = try persisterEnvironment(kind, database: database)
            let context = try ZMQContext()
            let flow = try OrderFlow(
                setup.exchange, context: context, count: 0, seed: 1, name: "soak", keepEvents: false)
            let children = Children()
            let note = "soak of \(minutes) min (\(kind.rawValue); files in \(setup.dir.path))"
            children.engines = try [setup.engine(0), setup.engine(1)]
            children.persister = try setup.persister(1, environment: environment)
            try #require(flow.waitForShards(seconds: 120), "\(note)")
            let end = Date().addingTimeInterval(minutes * 60)
            var sent = 0
            var nextReport = Date().addingTimeInterval(30)
            while Date() < end {
                sent += flow.send(forMilliseconds: 1_000, limit: Self.soakRate)
                if Date() >= nextReport {
                    nextReport = nextReport.addingTimeInterval(30)
                    let journaled = try (0..<2).map {
                        try JournalReader(directory: setup.journalDirectory($0)).lastContiguous(after: 0)
                    }
                    let stored = try? storedMarks(kind, setup, database: database)
                    print(
                        "soak: \(sent) commands sent, journals at \(journaled), store at \(stored.map { "\($0)" } ?? "-")"
                    )
                }
            }
            flow.drain(timeoutMilliseconds: 500)
            let last = try (0..<2).map { try journalLastSequence(setup.journalDirectory($0)) }
            print("soak: \(sent) commands in \(minutes) min, \(flow.answered) answered, events \(last)")
            let caughtUp = waitForStore(kind, setup, database: database, toReach: last, seconds: 900)
            #expect(caughtUp, "the persister did not catch up with \(last); \(note)")
            #expect(children.persister!.terminate() == 0, "\(note)")
            for engine in children.engines { #expect(engine!.terminate() == 0, "\(note)") }
            children.engines = [nil, nil]
            children.persister = nil
            try checkShards(setup, flow, kind, database: database, environment: environment, note: note) {
                setup.log("engine-\($0).log")
            }
        }
    }

    /// The checks every trial and the soak end with, per shard, after a graceful stop.
    func checkShards(
        _ setup: ProcessSetup, _ flow: OrderFlow, _ kind: StoreKind, database: String,
        environment: [String: String], note: String, log: (Int) -> String
    ) throws {
        #expect(flow.conflicts.isEmpty, "a sequence was received as two different events: \(flow.conflicts); \(note)")
        #expect(flow.answered > 0, "\(note)")
        for shard in 0..<2 {
            let directory = setup.journalDirectory(shard)
            let reader = try JournalReader(directory: directory)
            #expect(reader.firstSequence == 1, "shard \(shard): the journal was pruned; \(note)")
            let last = try reader.lastContiguous(after: 0)
            #expect(last > 0, "\(note)")

            // 1. No sequence reissued: every received event is the journal's record of its sequence.
            let digests = flow.digests[shard]
            #expect(
                digests.count <= Int(last), "shard \(shard): received sequences beyond the journal's \(last); \(note)")
            var mismatches: [String] = []
            for (index, digest) in digests.enumerated() where digest != 0 {
                let event = try journalEvent(reader, UInt64(index + 1))
                if event?.digest != digest {
                    let received = flow.received[shard][UInt64(index + 1)].map { "\($0)" } ?? "digest \(digest)"
                    mismatches.append(
                        "\(index + 1): received \(received), journal \(event.map { "\($0)" } ?? "nothing")")
                }
            }
            #expect(
                mismatches.isEmpty,
                "shard \(shard): \(mismatches.count) received events differ from the journal: \(mismatches.prefix(5)); \(note)"
            )

            // 2. `chronos journal dump` prints the journal: the same sequences, kinds and fields.
            let dump = try AuditProcessTests.chronos([
                "journal", "dump", "--config", setup.configPath, "--shard", "\(shard)",
            ])
            #expect(dump.code == 0, "\(dump.error); \(note)")
            let lines = dump.output.split(separator: "\n")
            #expect(lines.count == Int(last), "shard \(shard): dump has \(lines.count) lines, journal \(last); \(note)")
            var dumpDifferences: [String] = []
            for (index, line) in lines.enumerated() {
                let event = try journalEvent(reader, UInt64(index + 1))
                if !(event?.dumpFragments.allSatisfy { line.contains($0) } ?? false) {
                    dumpDifferences.append("\(index + 1): \(line) vs \(event.map { "\($0)" } ?? "nothing")")
                }
            }
            #expect(dumpDifferences.isEmpty, "shard \(shard): \(dumpDifferences.prefix(5)); \(note)")

            // 3. The store holds exactly the journal's frames, with no gap.
            let store = try openStore(kind, setup, database: database)
            defer { store.close() }
            #expect(try store.highWaterMark(shard: shard) == last, "shard \(shard); \(note)")
            #expect(try store.gaps(shard: shard).isEmpty, "shard \(shard); \(note)")
            let frames = try store.frames(shard: shard)
            #expect(frames.count == Int(last), "shard \(shard): store \(frames.count), journal \(last); \(note)")
            var storeDifferences: [UInt64] = []
            for (index, frame) in frames.enumerated() {
                let sequence = UInt64(index + 1)
                if !(try reader.frame(sequence)?.elementsEqual(frame) ?? false) { storeDifferences.append(sequence) }
            }
            #expect(
                storeDifferences.isEmpty,
                "shard \(shard): stored frames differ at \(storeDifferences.prefix(10)); \(note)")

            // 4. One state hash: `chronos journal verify`'s, the engine's final one, a full replay's.
            let verify = try AuditProcessTests.chronos([
                "journal", "verify", "--config", setup.configPath, "--shard", "\(shard)",
            ])
            #expect(verify.code == 0, "\(verify.error); \(note)")
            #expect(verify.output.contains("  last journaled sequence: \(last)\n"), "\(verify.output); \(note)")
            let verified = verify.output.split(separator: "\n").first { $0.hasPrefix("  state hash: 0x") }
                .map { String($0.dropFirst("  state hash: 0x".count)) }
            let logged = stateHash(in: log(shard), after: "engine shard stopped", shard: shard)
            let configuration = EngineShard.Configuration(setup.exchange, shard: shard)
            let engine = try Engine(configuration: configuration.engine)
            for symbol in configuration.symbols { try engine.addSymbol(symbol) }
            _ = try engine.recover(from: JournalEvents(reader: try JournalReader(directory: directory), last: last))
            let replayed = String(engine.stateHash(), radix: 16).leftPadded(to: 16)
            #expect(
                verified != nil && verified == logged && logged == replayed,
                "shard \(shard): verify \(verified ?? "-"), engine log \(logged ?? "-"), full replay \(replayed); \(note)"
            )
            #expect(engine.nextSequence == last + 1, "\(note)")
        }

        // 5. Nothing lost, as the operator sees it.
        let status = try AuditProcessTests.chronos(
            ["status", "--persist-store", "--config", setup.configPath]
                + (kind == .postgresql ? ["--store", "postgresql"] : []),
            environment: environment)
        #expect(status.code == 0 && !status.output.contains("ALARM"), "\(status.output)\(status.error); \(note)")
    }

    /// Each shard's high-water mark in the store.
    func storedMarks(_ kind: StoreKind, _ setup: ProcessSetup, database: String) throws -> [UInt64] {
        let store = try openStore(kind, setup, database: database)
        defer { store.close() }
        return try (0..<2).map { try store.highWaterMark(shard: $0) }
    }

    /// Waits until every shard's high-water mark reaches `last` (up to `seconds`: a hang guard),
    /// looking twice a second (each look opens the store: a new PostgreSQL connection).
    func waitForStore(
        _ kind: StoreKind, _ setup: ProcessSetup, database: String, toReach last: [UInt64], seconds: Double
    ) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let marks = try? storedMarks(kind, setup, database: database), zip(marks, last).allSatisfy(>=) {
                return true
            }
            usleep(500_000)
        }
        return false
    }

    /// The last valid record of a journal that starts at 1, once it stopped growing.
    func journalLastSequence(_ directory: String) throws -> UInt64 {
        let reader = try JournalReader(directory: directory)
        var last = try reader.lastContiguous(after: 0)
        for _ in 0..<600 {  // hang guard: a minute
            usleep(100_000)
            let now = try reader.lastContiguous(after: last)
            if now == last { break }
            last = now
        }
        return last
    }

    func journalEvent(_ reader: JournalReader, _ sequence: UInt64) throws -> EngineEvent? {
        guard let frame = try reader.frame(sequence), case .success(let wire) = WireFrame.decode(frame),
            case .event(let event, _) = wire.message
        else { return nil }
        return event
    }
}

/// A journal's events 1…`last`, read as the sequence is iterated.
struct JournalEvents: Sequence, IteratorProtocol {
    let reader: JournalReader
    let last: UInt64
    var sequence: UInt64 = 1

    mutating func next() -> EngineEvent? {
        guard sequence <= last, let frame = try? reader.frame(sequence),
            case .success(let wire) = WireFrame.decode(frame),
            case .event(let event, _) = wire.message
        else { return nil }
        sequence += 1
        return event
    }
}

extension EngineEvent {
    /// What `chronos journal dump` prints of the event (each field followed by the next one).
    var dumpFragments: [String] {
        func side(_ s: Side) -> String { s == .buy ? "\"side\":\"buy\"," : "\"side\":\"sell\"," }
        switch self {
        case .accepted(let e):
            return [
                "{\"seq\":\(e.sequence),\"ev\":\"accepted\",\"id\":\(e.id.rawValue),",
                "\"account\":\(e.account.rawValue),",
                "\"symbol\":\(e.symbol.rawValue),", side(e.side), "\"price\":\(e.price),", "\"qty\":\(e.quantity),",
            ]
        case .rejected(let e):
            return [
                "{\"seq\":\(e.sequence),\"ev\":\"rejected\",\"id\":\(e.id.rawValue),",
                "\"account\":\(e.account.rawValue),",
                "\"symbol\":\(e.symbol.rawValue),", "\"reason\":\(e.reason.rawValue),",
            ]
        case .fill(let e):
            return [
                "{\"seq\":\(e.sequence),\"ev\":\"fill\",\"trade\":\(e.tradeID.rawValue),",
                "\"taker\":\(e.takerID.rawValue),",
                "\"maker\":\(e.makerID.rawValue),", "\"symbol\":\(e.symbol.rawValue),", "\"price\":\(e.price),",
                "\"qty\":\(e.quantity),", "\"taker_leaves\":\(e.takerLeaves),", "\"maker_leaves\":\(e.makerLeaves),",
            ]
        case .canceled(let e):
            return [
                "{\"seq\":\(e.sequence),\"ev\":\"canceled\",\"id\":\(e.id.rawValue),",
                "\"account\":\(e.account.rawValue),",
                "\"symbol\":\(e.symbol.rawValue),", side(e.side), "\"qty\":\(e.quantity),",
                "\"reason\":\(e.reason.rawValue),",
            ]
        case .replaced(let e):
            return [
                "{\"seq\":\(e.sequence),\"ev\":\"replaced\",\"id\":\(e.id.rawValue),",
                "\"account\":\(e.account.rawValue),",
                "\"symbol\":\(e.symbol.rawValue),", "\"price\":\(e.price),", "\"qty\":\(e.quantity),",
            ]
        }
    }
}
