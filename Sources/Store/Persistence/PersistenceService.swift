import ChronosConfig
import ChronosCore
import ChronosServices
import Logging
import Messaging
import Metrics
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The persister: one writer thread that follows every shard's event stream (live PUB plus
/// replay from the retransmission ring, through ``EventSubscriber``) and writes it to an
/// ``EventStore`` in batched transactions.
///
/// - Each shard is followed from the store's high-water mark + 1, so a restarted persister
///   catches up from the ring without duplicates (and writes are idempotent anyway).
/// - Up to `batch_size` events, across shards, go in one transaction; a batch is written when
///   full, or when the stream paused, or 5 ms after the last write.
/// - A failed write (or a store that cannot be opened) keeps the batch and is retried with
///   exponential backoff from 10 ms up to `retry_max_ms`, on a fresh connection. Meanwhile
///   events are read into a buffer of `buffer_events`; when it is full, reading stops — the engine
///   never waits: its PUB socket drops what no one reads, and the ring serves it once reading resumes.
/// - A gap the ring can no longer serve is logged as an error, counted
///   (`chronos_persist_lost_events_total`) and stored in the `gaps` table.
/// - ``stop()`` writes what is buffered (for up to 10 s), then the thread ends.
public final class PersistenceService: @unchecked Sendable {
    /// What the persister did so far (read from any thread).
    public final class Counters: Sendable {
        /// Events written in committed transactions (including replays of already stored ones).
        public let persistedEvents = Atomic<Int>(0)
        /// Committed transactions.
        public let batches = Atomic<Int>(0)
        /// Failed writes and failed store openings.
        public let retries = Atomic<Int>(0)
        /// Events in lost ranges (the ring no longer had them).
        public let lostEvents = Atomic<Int>(0)
        /// Frames dropped unread: truncated, undecodable or of another shard.
        public let rejectedFrames = Atomic<Int>(0)
        /// Events read and not yet written.
        public let bufferDepth = Atomic<Int>(0)
        /// True once the store is open and every shard is followed.
        public let following = Atomic<Bool>(false)
    }

    public let exchange: ExchangeConfiguration
    public let counters = Counters()
    private let context: ZMQContext
    private let makeStore: @Sendable () throws -> any EventStore
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let drainTargets = Mutex<[UInt64]?>(nil)
    private var thread: ServiceThread?

    /// - Parameter makeStore: opens (and migrates) the store; called again after a failure.
    public init(
        exchange: ExchangeConfiguration, context: ZMQContext, logger: Logger,
        makeStore: @escaping @Sendable () throws -> any EventStore
    ) {
        self.exchange = exchange
        self.context = context
        self.logger = logger
        self.makeStore = makeStore
    }

    /// Starts the writer thread.
    public func start() throws {
        thread = try ServiceThread { [self] in
            { self.run() }
        }
    }

    /// Asks the writer to flush what it read and stop, and waits for it (10 s at most).
    public func stop() {
        stopping.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
    }

    /// Asks the writer to read on until it has stored every shard's stream up to `targets[shard]`
    /// (the engines' last sequences, e.g. ``ChronosServices/EngineShardCounters/lastSequence``
    /// once no more commands arrive), then flush and stop; waits for it (30 s at most; what is
    /// missing then is logged). The engines must still be running, so that their rings serve
    /// what their publishers dropped.
    public func stop(drainingTo targets: [UInt64]) {
        drainTargets.withLock { $0 = targets }
        stop()
    }

    /// The store for `configuration` (opening it is deferred to the writer, which retries).
    public static func storeFactory(_ configuration: PersistenceConfiguration, logger: Logger) throws
        -> @Sendable () throws -> any EventStore
    {
        switch configuration.store {
        case .sqlite:
            let path = configuration.sqlitePath
            return { try SQLiteEventStore(path: path) }
        case .postgresql:
            let endpoint = PostgresEventStore.Endpoint(
                host: configuration.postgresqlHost, port: configuration.postgresqlPort,
                user: configuration.postgresqlUser, password: try configuration.resolvedPostgresqlPassword(),
                database: configuration.postgresqlDatabase)
            return { try PostgresEventStore(endpoint, logger: logger) }
        }
    }

    // MARK: The writer thread

    private func run() {
        let settings = exchange.persistence
        let metrics = PersistMetrics(shards: exchange.shards.count)
        var store: (any EventStore)?
        var subscribers: [EventSubscriber] = []
        var rejectedSeen: [Int] = Array(repeating: 0, count: exchange.shards.count)
        var buffer: [StoreItem] = []
        buffer.reserveCapacity(settings.bufferEvents)
        let initialBackoff: UInt64 = 10_000_000
        var backoff = initialBackoff
        var retryAt: UInt64 = 0
        var lastWrite = monotonicNanoseconds()
        var stopDeadline: UInt64?
        var lastReplayWarning: UInt64 = 0
        /// Per shard (by id): the last sequence stored contiguously (the high-water mark).
        var stored: [UInt64] = Array(repeating: 0, count: exchange.shards.count)
        /// Per shard: the last sequence read from the engine (in the buffer or stored).
        var seen: [UInt64] = Array(repeating: 0, count: exchange.shards.count)
        var targets: [UInt64]?
        /// True while stopping with drain targets some shard's store has not reached.
        func draining() -> Bool {
            guard let targets, !subscribers.isEmpty else { return false }
            return zip(stored, targets).contains { $0 < $1 }
        }

        func failed(_ what: String, _ error: any Error) {
            counters.retries.add(1, ordering: .relaxed)
            metrics.retries.increment()
            logger.warning(
                "\(what) failed; retrying", metadata: ["error": "\(error)", "backoff_ms": "\(backoff / 1_000_000)"])
            store?.close()
            store = nil
            retryAt = monotonicNanoseconds() + backoff
            backoff = min(backoff * 2, UInt64(settings.retryMaxMilliseconds) * 1_000_000)
        }

        while true {
            var now = monotonicNanoseconds()
            if stopDeadline == nil && stopping.load(ordering: .acquiring) {
                targets = drainTargets.withLock { $0 }
                stopDeadline = now + (targets == nil ? 10_000_000_000 : 30_000_000_000)
            }
            // 1. The store, (re)opened after a failure once the backoff elapsed.
            if store == nil && now >= retryAt {
                do {
                    let opened = try makeStore()
                    store = opened
                    if subscribers.isEmpty {
                        for shard in exchange.shards {
                            let mark = try opened.highWaterMark(shard: shard.id)
                            stored[shard.id] = mark
                            seen[shard.id] = max(seen[shard.id], mark)
                            metrics.highWaterMarks[shard.id].record(Int64(bitPattern: mark))
                            subscribers.append(
                                try EventSubscriber(context: context, shard: shard, startSequence: mark + 1))
                        }
                        counters.following.store(true, ordering: .relaxed)
                        logger.info(
                            "persister following", metadata: ["shards": "\(subscribers.count)", "store": "\(opened)"])
                    }
                } catch {
                    subscribers = []
                    failed("opening the store", error)
                }
            }
            // 2. Read, within the buffer's bound; what is read now is recorded as received now.
            var read = 0
            if stopDeadline == nil || draining() {
                let received = wallClockNanoseconds()
                for subscriber in subscribers where buffer.count < settings.bufferEvents {
                    var taken = 0
                    while taken < settings.batchSize && buffer.count < settings.bufferEvents {
                        do {
                            guard let event = try subscriber.next(timeoutMilliseconds: 0) else { break }
                            buffer.append(
                                .event(
                                    shard: subscriber.shard.id, event,
                                    clientTimestampNanos: subscriber.lastClientTimestampNanos,
                                    recordedAtNanos: received))
                            taken += 1
                        } catch .lost(let from, let to) {
                            let count = Int(to - from + 1)
                            counters.lostEvents.add(count, ordering: .relaxed)
                            metrics.lost[subscriber.shard.id].increment(by: Int64(count))
                            logger.error(
                                "events lost: the retransmission ring no longer has them",
                                metadata: ["shard": "\(subscriber.shard.id)", "from": "\(from)", "to": "\(to)"])
                            buffer.append(.gap(shard: subscriber.shard.id, from: from, to: to))
                            taken += 1
                        } catch {
                            if now - lastReplayWarning > 1_000_000_000 {
                                lastReplayWarning = now
                                logger.warning(
                                    "replay request unanswered; will ask again",
                                    metadata: ["shard": "\(subscriber.shard.id)", "error": "\(error)"])
                            }
                            break
                        }
                    }
                    read += taken
                    seen[subscriber.shard.id] = max(seen[subscriber.shard.id], subscriber.nextSequence - 1)
                    let rejected = subscriber.rejectedFrames - rejectedSeen[subscriber.shard.id]
                    if rejected > 0 {
                        rejectedSeen[subscriber.shard.id] = subscriber.rejectedFrames
                        counters.rejectedFrames.add(rejected, ordering: .relaxed)
                        metrics.rejectedFrames[subscriber.shard.id].increment(by: Int64(rejected))
                    }
                }
            }
            counters.bufferDepth.store(buffer.count, ordering: .relaxed)
            metrics.bufferDepth.record(buffer.count)
            // 3. Write a batch: full, or the stream paused, or 5 ms since the last write, or stopping.
            now = monotonicNanoseconds()
            if let current = store, !buffer.isEmpty, now >= retryAt,
                buffer.count >= settings.batchSize || read == 0 || now - lastWrite >= 5_000_000 || stopDeadline != nil
            {
                let count = min(settings.batchSize, buffer.count)
                if settings.debugWriteDelayMilliseconds > 0 {
                    usleep(UInt32(settings.debugWriteDelayMilliseconds) * 1_000)
                }
                let started = monotonicNanoseconds()
                do {
                    var seenByShard: [Int: UInt64] = [:]
                    for (shard, sequence) in seen.enumerated() where sequence > 0 { seenByShard[shard] = sequence }
                    try current.write(batch: Array(buffer[0..<count]), seen: seenByShard)
                    let finished = monotonicNanoseconds()
                    metrics.writeDuration.recordNanoseconds(Int64(finished - started))
                    var marks: [Int: UInt64] = [:]
                    for item in buffer[0..<count] {
                        switch item {
                        case .event(let shard, let event, _, _): marks[shard] = event.sequence
                        case .gap(let shard, _, let to): marks[shard] = to
                        }
                    }
                    for (shard, mark) in marks {
                        stored[shard] = mark
                        metrics.highWaterMarks[shard].record(Int64(bitPattern: mark))
                    }
                    buffer.removeFirst(count)
                    counters.persistedEvents.add(count, ordering: .relaxed)
                    counters.batches.add(1, ordering: .relaxed)
                    counters.bufferDepth.store(buffer.count, ordering: .relaxed)
                    metrics.events.increment(by: Int64(count))
                    metrics.batches.increment()
                    metrics.bufferDepth.record(buffer.count)
                    backoff = initialBackoff
                    lastWrite = finished
                    continue
                } catch {
                    failed("writing \(count) events", error)
                }
            }
            // 4. Stop once flushed (or, with the store down, at the deadline: the high-water mark
            //    then tells the next start where to catch up from).
            if let deadline = stopDeadline {
                if (buffer.isEmpty && !draining()) || monotonicNanoseconds() > deadline {
                    if !buffer.isEmpty {
                        logger.error("stopping with events not written", metadata: ["events": "\(buffer.count)"])
                    }
                    if draining(), let targets {
                        logger.error(
                            "stopping before the store reached the engines' last sequences",
                            metadata: ["stored": "\(stored)", "engines": "\(targets)"])
                    }
                    break
                }
            }
            if read == 0 { usleep(1_000) }
        }
        store?.close()
    }
}

/// A ``PersistenceService`` as a swift-service-lifecycle `Service`: starts the writer, runs until
/// the group shuts down gracefully (SIGTERM/SIGINT), then flushes and stops it.
public struct PersistenceServiceRunner: Service {
    public let persister: PersistenceService
    let logger: Logger
    let onReady: @Sendable () -> Void
    let drainTargets: (@Sendable () -> [UInt64])?

    /// - Parameter drainTargets: when given, a graceful shutdown stores every shard's stream up to
    ///   the sequences it returns (read at shutdown) before stopping: for a persister in the same
    ///   process as the engines, shut down after the gateway and before the shards.
    public init(
        _ persister: PersistenceService, logger: Logger, onReady: @escaping @Sendable () -> Void = {},
        drainTargets: (@Sendable () -> [UInt64])? = nil
    ) {
        self.persister = persister
        self.logger = logger
        self.onReady = onReady
        self.drainTargets = drainTargets
    }

    public func run() async throws {
        try persister.start()
        onReady()
        try? await gracefulShutdown()
        if let drainTargets {
            persister.stop(drainingTo: drainTargets())
        } else {
            persister.stop()
        }
        let c = persister.counters
        logger.info(
            "persister stopped",
            metadata: [
                "events": "\(c.persistedEvents.load(ordering: .relaxed))",
                "batches": "\(c.batches.load(ordering: .relaxed))",
                "retries": "\(c.retries.load(ordering: .relaxed))",
                "lost_events": "\(c.lostEvents.load(ordering: .relaxed))",
                "rejected_frames": "\(c.rejectedFrames.load(ordering: .relaxed))",
            ])
    }
}

/// The swift-metrics instruments of the persister.
///
/// | metric | kind | meaning |
/// |---|---|---|
/// | `chronos_persist_events_total` | counter | events written in committed transactions |
/// | `chronos_persist_batches_total` | counter | committed transactions |
/// | `chronos_persist_write_seconds` | timer | one transaction |
/// | `chronos_persist_retries_total` | counter | failed writes or store openings |
/// | `chronos_persist_buffer_events` | gauge | events read and not yet written |
/// | `chronos_persist_high_water_mark` | gauge (`shard`) | last contiguous persisted sequence |
/// | `chronos_persist_lost_events_total` | counter (`shard`) | events the ring could not serve |
/// | `chronos_persist_rejected_frames_total` | counter (`shard`) | corrupt, truncated or foreign frames |
struct PersistMetrics {
    let events = Counter(label: "chronos_persist_events_total")
    let batches = Counter(label: "chronos_persist_batches_total")
    let writeDuration = Timer(label: "chronos_persist_write_seconds")
    let retries = Counter(label: "chronos_persist_retries_total")
    let bufferDepth = Gauge(label: "chronos_persist_buffer_events")
    let highWaterMarks: [Gauge]
    let lost: [Counter]
    let rejectedFrames: [Counter]

    init(shards: Int) {
        highWaterMarks = (0..<shards).map {
            Gauge(label: "chronos_persist_high_water_mark", dimensions: [("shard", String($0))])
        }
        lost = (0..<shards).map {
            Counter(label: "chronos_persist_lost_events_total", dimensions: [("shard", String($0))])
        }
        rejectedFrames = (0..<shards).map {
            Counter(label: "chronos_persist_rejected_frames_total", dimensions: [("shard", String($0))])
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CLOCK_REALTIME in nanoseconds since the Unix epoch (the stored `recorded_at_ns`).
func wallClockNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
