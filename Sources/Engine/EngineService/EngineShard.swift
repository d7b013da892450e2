import CChronosSystem
import ChronosConfig
import ChronosCore
import Journal
import MatchingEngine
import Messaging
import Runtime
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Counters of one engine shard, readable from any thread.
public final class EngineShardCounters: Sendable {
    /// Commands that reached the engine.
    public let commands = Atomic<Int>(0)
    /// Events the engine produced (and journaled).
    public let events = Atomic<Int>(0)
    /// Frames that could not be decoded or were not commands.
    public let badFrames = Atomic<Int>(0)
    /// Orders for a symbol of another shard.
    public let wrongShard = Atomic<Int>(0)
    /// Reports that could not be delivered to their gateway (gone, or its queue full).
    public let undeliveredReports = Atomic<Int>(0)
    /// Events the PUB socket refused (ZeroMQ PUB drops silently at its high-water mark; subscribers
    /// see those as sequence gaps and recover them from the journal through the replay socket).
    public let unpublishedEvents = Atomic<Int>(0)
    /// Replay requests answered.
    public let replayRequests = Atomic<Int>(0)
    /// The sequence of the last event the engine produced (0: none yet); after a recovery, the
    /// last recovered one. A draining persister reads up to here.
    public let lastSequence = Atomic<UInt64>(0)
    /// The last sequence released to subscribers and gateways: equal to ``lastSequence`` with
    /// `process` durability; with `machine` durability, the last one the journal has on the device.
    public let releasedSequence = Atomic<UInt64>(0)
    /// ``Engine/stateHash()`` after a recovery and again when the loop ends (0 before either).
    public let stateHash = Atomic<UInt64>(0)
    /// The sequence of the newest snapshot written (0: none).
    public let snapshotSequence = Atomic<UInt64>(0)
    /// Snapshots that failed to be written.
    public let snapshotFailures = Atomic<Int>(0)
    /// True once the journal failed: the shard stopped taking commands and ends.
    public let journalFailed = Atomic<Bool>(false)

    public init() {}
}

/// One matching-engine shard as a service: the engine thread that owns an ``Engine``, its journal
/// and its sockets, and three helpers — the journal's background thread, the replay server and
/// the snapshot writer.
///
/// - Orders arrive on a ROUTER socket (`[gateway routing id][newOrder | cancel | replace frame]`).
/// - Every event is first written to the shard's journal (a memory-mapped segment file, no system
///   call per event), then sent back as `[routing id][event frame]` to the gateway that sent the
///   command it concerns (a fill to both the taker's and the maker's gateway), echoing the
///   command's client timestamp on its own events, and published on a PUB socket. With `machine`
///   durability the sending waits until the journal is synced to the device.
/// - A ROUTER replay socket, on its own thread, answers ``ReplayRequest``s from the journal, so a
///   subscriber that was away for hours still gets every event the journal keeps.
/// - On start the shard rebuilds its books from its journal: the newest snapshot and the records
///   after it. It never numbers an event lower than one it has published, and refuses a journal
///   written by a shard configured differently (``ShardIdentity``).
/// - A heartbeat with the last released sequence is published every `heartbeatInterval`.
///
/// Orders for a symbol of another shard, and frames that do not decode, are answered with a
/// `rejected` event carrying sequence 0: they never reach the book or the sequenced stream.
public final class EngineShard: @unchecked Sendable {
    /// The shard's timers of microseconds (`Observability.bootstrapPrometheus(microsecondTimers:)` in MetricsEndpoint).
    public static let microsecondTimers = [ShardMetrics.commandDurationLabel]

    public struct Configuration: Sendable {
        public var shard: ShardConfiguration
        public var shardMap: ShardMap
        public var engine: EngineConfiguration
        public var symbols: [SymbolConfiguration]
        /// The shard's configuration identity, recorded in its journal and snapshots.
        public var identity: ShardIdentity
        /// Where and how the journal is kept.
        public var journal: JournalSettings
        /// Heartbeat period on the PUB socket, in ns.
        public var heartbeatIntervalNanos: UInt64 = 1_000_000_000
        /// Most commands handled per loop turn before housekeeping.
        public var batch: Int = 256
        /// Most events in one replay answer (ask again from `last + 1`).
        public var maxReplayEvents: Int = 10_000
        /// Reports held for the journal's sync (`machine` durability) at most; beyond, the shard
        /// stops reading commands until the sync catches up.
        public var outboxCapacity: Int = 1 << 16

        public init(
            shard: ShardConfiguration, shardMap: ShardMap, engine: EngineConfiguration,
            symbols: [SymbolConfiguration], journal: JournalSettings
        ) {
            self.shard = shard
            self.shardMap = shardMap
            self.engine = engine
            self.symbols = symbols
            self.journal = journal
            identity = ShardIdentity(shard: shard.id, symbols: symbols, shardOfSymbol: shardMap.shardOfSymbol)
        }

        /// Shard `id` of an exchange configuration.
        public init(_ exchange: ExchangeConfiguration, shard id: Int) {
            self.init(
                shard: exchange.shards[id], shardMap: exchange.shardMap, engine: exchange.engine,
                symbols: exchange.liveSymbols, journal: exchange.journal)
        }

        /// The shard's journal folder.
        public var journalDirectory: String { JournalDirectory.path(root: journal.root, shard: shard.id) }
    }

    public let configuration: Configuration
    public let counters = EngineShardCounters()
    private let context: ZMQContext
    private let stopping = Atomic<Bool>(false)
    private let helpersStopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private var thread: ServiceThread?
    private var helpers: [ServiceThread] = []
    private var loop: ShardLoop?
    private var seedLog: [EngineEvent]?
    /// What the recovery rebuilt (set by ``start()``).
    public private(set) var recovery: JournalRecovery?
    /// True when ``start()`` rebuilt an empty journal from the seed log it was given.
    public private(set) var seededFromLog = false

    /// A shard that will bind its sockets in `context` when started.
    ///
    /// - Parameter seedLog: when the journal is empty, the events this shard published in an
    ///   earlier life from sequence 1 (e.g. from the persister's store after the journal's volume
    ///   was lost): ``start()`` rebuilds the books from them and writes them into the journal
    ///   first. Ignored when the journal holds anything.
    public init(_ configuration: Configuration, context: ZMQContext, seedLog: [EngineEvent]? = nil) {
        self.configuration = configuration
        self.context = context
        self.seedLog = seedLog
    }

    /// The journal's last error (why a segment could not be created), if any.
    public var journalError: JournalError? { journalFiles?.lastError }
    /// The last sequence the journal's thread has synced to the device (`machine` durability) or
    /// seen written (`process`); 0 before the shard started.
    public var journalSyncedSequence: UInt64 { journalFiles?.synced.load(ordering: .acquiring) ?? 0 }
    /// Segment rollovers that found no prepared segment (the engine thread created it).
    public var journalStalls: Int { journalFiles?.stalls.load(ordering: .relaxed) ?? 0 }
    private var journalFiles: JournalFiles?

    /// True once the engine thread has bound its sockets and runs its loop.
    public var isRunning: Bool { running.load(ordering: .acquiring) }

    /// True while the engine thread runs (false after the journal failed or after ``stop()``).
    public var isAlive: Bool { isRunning && !counters.journalFailed.load(ordering: .acquiring) }

    /// Recovers from the journal, starts the engine thread and its helpers, and returns once the
    /// sockets are bound (or throws why not: an unusable journal, an identity mismatch, a socket).
    public func start() throws {
        var made: ShardLoop?
        thread = try ServiceThread { [self] in
            if let cpu = configuration.shard.cpu {
                // Pinning is a request: without the core (e.g. a smaller cpuset) the loop still runs.
                _ = chronos_pin_current_thread(Int32(cpu))
            }
            let loop = try ShardLoop(configuration, context: context, counters: counters, seedLog: seedLog)
            seedLog = nil
            recovery = loop.recovery
            seededFromLog = loop.seededFromLog
            made = loop
            running.store(true, ordering: .releasing)
            return { [self] in loop.run(until: stopping) }
        }
        loop = made
        guard let loop = made else { return }
        let files = loop.journal.files
        journalFiles = files
        // The journal's background thread: segments ahead, old ones released, syncs.
        helpers.append(
            try ServiceThread { [self] in
                { [self] in
                    let idle: UInt32 = files.durability == .machine ? 50 : 2_000
                    while !self.helpersStopping.load(ordering: .acquiring) {
                        if files.doWork() == 0 { usleep(idle) }
                    }
                    _ = files.doWork()
                }
            })
        let replayServer = ReplayServer(configuration, files: files, counters: counters)
        helpers.append(
            try ServiceThread { [self] in
                try replayServer.bind(context)
                return { [self] in replayServer.run(until: self.helpersStopping) }
            })
        if configuration.journal.snapshotEveryEvents > 0 {
            let writer = try SnapshotWriter(
                configuration, files: files, counters: counters, initial: loop.initialSnapshot)
            helpers.append(
                try ServiceThread { [self] in
                    { [self] in writer.run(until: self.helpersStopping) }
                })
        }
        loop.initialSnapshot = []
    }

    /// Asks the loop to finish the commands it has, release what it holds, close its sockets and
    /// end; writes a final snapshot; stops the helpers; waits for all of it.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
        helpersStopping.store(true, ordering: .releasing)
        for helper in helpers { helper.join() }
        helpers = []
        if let loop, !counters.journalFailed.load(ordering: .acquiring) {
            loop.writeFinalSnapshot()
        }
        loop = nil
        running.store(false, ordering: .releasing)
    }
}
