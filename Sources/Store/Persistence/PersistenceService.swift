import ChronosConfig
import ChronosCore
import Foundation
import Logging
import Messaging
import Metrics
import Runtime
import ServiceLifecycle
import ShardClient
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
///   exponential backoff from 10 ms up to `retry_max_ms`, on a fresh connection; every failure is
///   logged and counted, and the persister is not ready (``health()``) until a call succeeds.
///   Meanwhile events are read into a buffer of `buffer_events`; when it is full, reading stops —
///   the engine never waits: its PUB socket drops what no one reads, and the ring serves it once
///   reading resumes. A store never opened within `startup_timeout_ms` of the start ends the
///   writer (``PersisterHealth/startupFailure``).
/// - Opening the store claims each shard's ``ChronosConfig/ShardIdentity``: a shard the store holds
///   under another identity is refused (not followed, logged, not ready).
/// - A shard whose engine announces a sequence below what was already read (restarted without its
///   history) is no longer followed: none of its reissued events is written.
/// - A gap the ring can no longer serve is logged as an error, counted
///   (`chronos_persist_lost_events_total`) and stored in the `gaps` table.
/// - ``stop()`` writes what is buffered (for up to 10 s), then the thread ends; the wait is bounded
///   (``stopBoundSeconds``) even when a store call hangs.
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
        /// True once the store was opened and every shard it accepted is followed (stays true).
        public let following = Atomic<Bool>(false)
        /// Store calls that failed in a row; 0 after a success.
        public let consecutiveFailures = Atomic<Int>(0)
        /// Shards whose engine's sequence went back (each is then no longer followed).
        public let sequenceRegressions = Atomic<Int>(0)
    }

    /// The seconds the writer may take to flush once asked to stop (``stop()``; 30 with drain targets).
    public static let flushSeconds: UInt64 = 10
    /// The seconds a draining stop may take (``stop(drainingTo:)``).
    public static let drainSeconds: UInt64 = 30
    /// Added to the flush time for a stop's bound: a writer stuck in a store call past it is left behind.
    public static let stopGraceSeconds: UInt64 = 5

    public let exchange: ExchangeConfiguration
    public let counters = Counters()
    private let context: ZMQContext
    private let makeStore: @Sendable () throws -> any EventStore
    private let logger: Logger
    private let metrics: PersistMetrics
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let drainTargets = Mutex<[UInt64]?>(nil)
    private let stopRequestedAt = Atomic<UInt64>(0)
    /// CLOCK_MONOTONIC ns when the store call in progress began (0: none).
    private let callStartedAt = Atomic<UInt64>(0)
    private let startedAt = Atomic<UInt64>(0)
    /// The writer's view (its times as CLOCK_MONOTONIC ns), completed by ``health()``.
    private let state: Mutex<WriterState>
    private let thread = Mutex<ServiceThread?>(nil)
    private let stuckReported = Atomic<Bool>(false)
    private let publishing = Mutex<Void>(())

    /// What the writer publishes for ``health()``.
    private struct WriterState {
        var health: PersisterHealth
        var failingSince: UInt64 = 0
        var activity: String?
    }

    /// - Parameter makeStore: opens (and migrates) the store; called again after a failure.
    public init(
        exchange: ExchangeConfiguration, context: ZMQContext, logger: Logger,
        makeStore: @escaping @Sendable () throws -> any EventStore
    ) {
        self.exchange = exchange
        self.context = context
        self.logger = logger
        self.makeStore = makeStore
        metrics = PersistMetrics(shards: exchange.shards.count)
        state = Mutex(WriterState(health: PersisterHealth(shards: exchange.shards.map(\.id))))
    }

    /// Starts the writer thread.
    public func start() throws {
        startedAt.store(SystemClock.monotonicNanoseconds(), ordering: .relaxed)
        let started = try ServiceThread { [self] in
            { self.run() }
        }
        thread.withLock { $0 = started }
    }

    /// Asks the writer to flush what it read and stop, and waits for it, at most
    /// ``flushSeconds`` + ``stopGraceSeconds``. Returns false when the writer did not end in time
    /// (stuck in a store call: logged as an error; the process should exit without it).
    @discardableResult
    public func stop() -> Bool {
        requestStop()
        return waitUntilStopped()
    }

    /// Asks the writer to read on until it has stored every shard's stream up to `targets[shard]`
    /// (the engines' last sequences, e.g. `EngineShardCounters.lastSequence`
    /// once no more commands arrive), then flush and stop; waits for it (30 s at most, plus the
    /// grace; what is missing then is logged). The engines must still be running, so that their
    /// rings serve what their publishers dropped. Returns false as ``stop()`` does.
    @discardableResult
    public func stop(drainingTo targets: [UInt64]) -> Bool {
        requestStop(drainingTo: targets)
        return waitUntilStopped()
    }

    /// Asks the writer to stop (after draining to `targets` when given) without waiting.
    public func requestStop(drainingTo targets: [UInt64]? = nil) {
        if let targets { drainTargets.withLock { $0 = targets } }
        if stopRequestedAt.load(ordering: .relaxed) == 0 {
            stopRequestedAt.store(SystemClock.monotonicNanoseconds(), ordering: .relaxed)
        }
        stopping.store(true, ordering: .releasing)
    }

    /// The bound of a stop, in seconds: the flush (or drain) time plus ``stopGraceSeconds``.
    public var stopBoundSeconds: UInt64 {
        (drainTargets.withLock { $0 } == nil ? Self.flushSeconds : Self.drainSeconds) + Self.stopGraceSeconds
    }

    /// True once the writer thread has ended (or was never started).
    public var hasStopped: Bool { finished.load(ordering: .acquiring) || thread.withLock { $0 == nil } }

    /// Blocks until the writer has ended or the stop's bound (from ``requestStop(drainingTo:)``)
    /// passed; false then (logged once).
    public func waitUntilStopped() -> Bool {
        while !hasStopped {
            if stopOverdue() { return false }
            usleep(2_000)
        }
        joinWriter()
        return true
    }

    /// ``waitUntilStopped()`` without blocking a thread of the caller's executor.
    public func waitUntilStoppedAsync() async -> Bool {
        while !hasStopped {
            if stopOverdue() { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        joinWriter()
        return true
    }

    private func joinWriter() {
        let ended = thread.withLock { current -> ServiceThread? in
            defer { current = nil }
            return current
        }
        ended?.join()
    }

    /// True (and logged once) when the stop's bound passed with the writer still running.
    private func stopOverdue() -> Bool {
        let requested = stopRequestedAt.load(ordering: .relaxed)
        guard requested != 0, SystemClock.monotonicNanoseconds() &- requested > stopBoundSeconds * 1_000_000_000 else {
            return false
        }
        if !stuckReported.exchange(true, ordering: .relaxed) {
            let health = health()
            let doing = health.activity.map { "\($0), for \(PersisterHealth.seconds(health.activitySeconds))" }
            logger.error(
                "persister did not stop within \(stopBoundSeconds) s; exiting without its writer: the events it did not write stay in the engines' retransmission rings, and the next start catches up from the store's high-water mark",
                metadata: [
                    "store_call": "\(doing ?? "none (the writer loop itself is late)")",
                    "unwritten_events": "\(counters.bufferDepth.load(ordering: .relaxed))",
                ])
        }
        return true
    }

    /// The persister's health now (any thread): ready or not and why, per shard its lag.
    public func health() -> PersisterHealth {
        let now = SystemClock.monotonicNanoseconds()
        let call = callStartedAt.load(ordering: .relaxed)
        let started = startedAt.load(ordering: .relaxed)
        return state.withLock { state in
            var health = state.health
            health.activity = call == 0 ? nil : state.activity
            health.activitySeconds = call == 0 ? 0 : Double(now &- call) / 1e9
            health.failingSeconds = state.failingSince == 0 ? 0 : Double(now &- state.failingSince) / 1e9
            health.uptimeSeconds = started == 0 ? 0 : Double(now &- started) / 1e9
            return health
        }
    }

    /// Records ``health()`` in the readiness gauges (the writer does it too; a caller does it for a
    /// writer stuck in a call, which cannot). Snapshot and recording are one step, so that a late
    /// caller never records an older snapshot over a newer one.
    public func publishHealth() {
        publishing.withLock { _ in
            let health = health()
            metrics.ready.record(health.ready ? 1 : 0)
            metrics.consecutiveFailures.record(health.consecutiveFailures)
            metrics.failingSeconds.record(
                health.isStuck ? max(health.failingSeconds, health.activitySeconds) : health.failingSeconds)
        }
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
            // Host, credentials and the connect and query timeouts of `[persistence]`.
            let endpoint = try PostgresEventStore.Endpoint(configuration)
            return { try PostgresEventStore(endpoint, logger: logger) }
        }
    }

    /// `sqlite PATH` or `postgresql HOST:PORT/DATABASE`, for messages.
    public static func describe(_ settings: PersistenceConfiguration) -> String {
        settings.store == .sqlite
            ? "sqlite \(settings.sqlitePath)"
            : "postgresql \(settings.postgresqlHost):\(settings.postgresqlPort)/\(settings.postgresqlDatabase)"
    }

    // MARK: The writer thread

    /// Runs `body` as the store call named `what` (``health()`` shows it while it runs).
    private func storeCall<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
        state.withLock { $0.activity = what }
        callStartedAt.store(SystemClock.monotonicNanoseconds(), ordering: .relaxed)
        defer { callStartedAt.store(0, ordering: .relaxed) }
        return try body()
    }

    private func updateHealth(_ body: (inout PersisterHealth) -> Void) {
        state.withLock { body(&$0.health) }
    }

    private func run() {
        defer { finished.store(true, ordering: .releasing) }
        let settings = exchange.persistence
        let shardCount = exchange.shards.count
        var store: (any EventStore)?
        var subscribers: [EventSubscriber] = []
        /// True once the subscribers were created (after the first opening).
        var setUp = false
        /// Shards not followed: another identity in the store, or their sequence went back.
        var refused = Set<Int>()
        var regressed = Set<Int>()
        var rejectedSeen: [Int] = Array(repeating: 0, count: shardCount)
        var buffer: [StoreItem] = []
        buffer.reserveCapacity(settings.bufferEvents)
        let initialBackoff: UInt64 = 10_000_000
        var backoff = initialBackoff
        var retryAt: UInt64 = 0
        var lastWrite = SystemClock.monotonicNanoseconds()
        let writerStarted = lastWrite
        var stopDeadline: UInt64?
        var lastReplayWarning: UInt64 = 0
        var lastHealthUpdate: UInt64 = 0
        var openingAttempts = 0
        /// Per shard (by id): the last sequence stored contiguously (the high-water mark).
        var stored: [UInt64] = Array(repeating: 0, count: shardCount)
        /// Per shard: the last sequence read from the engine (in the buffer or stored).
        var seen: [UInt64] = Array(repeating: 0, count: shardCount)
        /// Per shard: the last sequence its engine announced, as last read.
        var announced: [UInt64?] = Array(repeating: nil, count: shardCount)
        /// Per shard: an announced sequence the store had not reached, and when (the lag's age).
        var checkpoints: [(sequence: UInt64, at: UInt64)?] = Array(repeating: nil, count: shardCount)
        var lagAlarms: [Bool] = Array(repeating: false, count: shardCount)
        var targets: [UInt64]?
        /// True while stopping with drain targets some followed shard's store has not reached.
        func draining() -> Bool {
            guard let targets, setUp else { return false }
            return zip(stored, targets).enumerated().contains { shard, pair in
                !refused.contains(shard) && !regressed.contains(shard) && pair.0 < pair.1
            }
        }

        func failed(_ what: String, _ error: any Error) {
            let now = SystemClock.monotonicNanoseconds()
            let failures = counters.consecutiveFailures.add(1, ordering: .relaxed).newValue
            counters.retries.add(1, ordering: .relaxed)
            metrics.retries.increment()
            let failingSince = state.withLock { state -> UInt64 in
                if state.failingSince == 0 { state.failingSince = now }
                state.health.consecutiveFailures = failures
                state.health.lastError = "\(what) failed: \(error)"
                state.health.storeOpen = false
                return state.failingSince
            }
            logger.warning(
                "\(what) failed; retrying",
                metadata: [
                    "error": "\(error)", "backoff_ms": "\(backoff / 1_000_000)",
                    "consecutive_failures": "\(failures)",
                    "failing_for_s": "\(String(format: "%.1f", Double(now - failingSince) / 1e9))",
                ])
            store?.close()
            store = nil
            retryAt = now + backoff
            backoff = min(backoff * 2, UInt64(settings.retryMaxMilliseconds) * 1_000_000)
            publishHealth()
        }

        func succeeded() {
            let failures = counters.consecutiveFailures.exchange(0, ordering: .relaxed)
            backoff = initialBackoff
            let failingSince = state.withLock { state -> UInt64 in
                defer { state.failingSince = 0 }
                state.health.consecutiveFailures = 0
                state.health.storeOpen = true
                state.health.started = true
                return state.failingSince
            }
            if failures > 0 {
                logger.info(
                    "store answering again",
                    metadata: [
                        "failures": "\(failures)",
                        "failed_for_s":
                            "\(String(format: "%.1f", Double(SystemClock.monotonicNanoseconds() - failingSince) / 1e9))",
                    ])
                publishHealth()
            }
        }

        /// Claims shard `shard`'s identity in `opened`; false (logged, shard refused) when the store
        /// holds another.
        func claimIdentity(_ opened: any EventStore, _ shard: ShardConfiguration) throws -> Bool {
            guard let identities = opened as? any ShardIdentityStore else { return true }
            let configured = exchange.shardIdentity(shard.id)
            let claim = try storeCall("claiming shard \(shard.id)'s identity") {
                try identities.claim(configured, shard: shard.id)
            }
            guard case .differs(let storedIdentity) = claim else { return true }
            if refused.insert(shard.id).inserted {
                logger.error(
                    "shard \(shard.id) refused: the store holds its events under another shard configuration; none of its events is written until the configuration or the store is corrected and the persister restarted",
                    metadata: [
                        "shard": "\(shard.id)", "stored_identity": "\(storedIdentity)",
                        "configured_identity": "\(configured)",
                    ])
                updateHealth {
                    $0.shards[shard.id].state = .refused(
                        stored: storedIdentity.canonical, configured: configured.canonical)
                }
                publishHealth()
                metrics.following[shard.id].record(0)
                metrics.identityMismatch[shard.id].record(1)
            }
            return false
        }

        /// Stops following `subscriber`'s shard: its engine numbers again from below what was read.
        func dropRegressed(_ subscriber: EventSubscriber) {
            let id = subscriber.shard.id
            let engineSequence = subscriber.announcedSequence ?? 0
            regressed.insert(id)
            subscribers.removeAll { $0 === subscriber }
            // Not ready before the alarm shows: a status never sees the alarm with "ready".
            updateHealth {
                $0.shards[id].state = .regressed(announced: engineSequence, read: seen[id], stored: stored[id])
            }
            publishHealth()
            metrics.following[id].record(0)
            counters.sequenceRegressions.add(1, ordering: .relaxed)
            metrics.regressions[id].increment()
            logger.error(
                "shard \(id): sequence regression: its engine announced a sequence below what the persister already read — it was restarted without its history and is reissuing sequence numbers. The persister no longer follows this shard and writes none of the reissued events; restart the engine with its history (--recover), then restart the persister",
                metadata: [
                    "shard": "\(id)", "engine_sequence": "\(engineSequence)", "read": "\(seen[id])",
                    "high_water_mark": "\(stored[id])",
                ])
        }

        /// Per shard: the engine's sequence, the lag and its age, the alarms; then the gauges.
        func updateLag(now: UInt64) {
            for shard in exchange.shards {
                let id = shard.id
                let engine = announced[id] ?? 0
                if let checkpoint = checkpoints[id], stored[id] < checkpoint.sequence {
                    // Still waiting for what was announced then.
                } else {
                    checkpoints[id] = engine > stored[id] ? (engine, now) : nil
                }
                let stalled = checkpoints[id].map { Double(now - $0.at) / 1e9 } ?? 0
                let lag = engine > stored[id] ? engine - stored[id] : 0
                let alarm =
                    !refused.contains(id) && !regressed.contains(id)
                    && (lag >= UInt64(settings.lagAlarmEvents) || stalled >= Double(settings.lagAlarmSeconds))
                if alarm != lagAlarms[id] {
                    lagAlarms[id] = alarm
                    if alarm {
                        logger.error(
                            "shard \(id): the store is falling behind its engine",
                            metadata: [
                                "shard": "\(id)", "lag_events": "\(lag)", "engine_sequence": "\(engine)",
                                "high_water_mark": "\(stored[id])",
                                "not_shrinking_for_s": "\(String(format: "%.1f", stalled))",
                            ])
                    } else {
                        logger.info("shard \(id): the store is catching up again", metadata: ["lag_events": "\(lag)"])
                    }
                }
                metrics.engineSequences[id].record(Int64(bitPattern: engine))
                metrics.lag[id].record(Int64(bitPattern: lag))
                metrics.lagStalledSeconds[id].record(stalled)
                metrics.lagAlarm[id].record(alarm ? 1 : 0)
                updateHealth {
                    $0.shards[id].engineSequence = announced[id]
                    $0.shards[id].highWaterMark = stored[id]
                    $0.shards[id].stalledSeconds = stalled
                    $0.shards[id].lagAlarm = alarm
                }
            }
            publishHealth()
        }

        writer: while true {
            var now = SystemClock.monotonicNanoseconds()
            if stopDeadline == nil && stopping.load(ordering: .acquiring) {
                targets = drainTargets.withLock { $0 }
                stopDeadline = now + (targets == nil ? Self.flushSeconds : Self.drainSeconds) * 1_000_000_000
            }
            // 1. The store, (re)opened after a failure once the backoff elapsed; every opening
            //    claims the shards' identities.
            if store == nil && now >= retryAt {
                openingAttempts += 1
                do {
                    let opened = try storeCall("opening the store") { try makeStore() }
                    store = opened
                    for shard in exchange.shards where !refused.contains(shard.id) && !regressed.contains(shard.id) {
                        if try !claimIdentity(opened, shard) {
                            subscribers.removeAll { $0.shard.id == shard.id }
                        }
                    }
                    if !setUp {
                        for shard in exchange.shards where !refused.contains(shard.id) {
                            let mark = try storeCall("reading shard \(shard.id)'s high-water mark") {
                                try opened.highWaterMark(shard: shard.id)
                            }
                            stored[shard.id] = mark
                            seen[shard.id] = max(seen[shard.id], mark)
                            metrics.highWaterMarks[shard.id].record(Int64(bitPattern: mark))
                            subscribers.append(
                                try EventSubscriber(context: context, shard: shard, startSequence: mark + 1))
                            metrics.following[shard.id].record(1)
                            updateHealth {
                                $0.shards[shard.id].state = .following
                                $0.shards[shard.id].highWaterMark = mark
                            }
                        }
                        setUp = true
                        counters.following.store(true, ordering: .relaxed)
                        logger.info(
                            "persister following",
                            metadata: [
                                "shards": "\(subscribers.count)", "refused": "\(refused.sorted())",
                                "store": "\(opened)",
                            ])
                    }
                    succeeded()
                } catch {
                    if !setUp { subscribers = [] }
                    failed("opening the store", error)
                    let waited = SystemClock.monotonicNanoseconds() - writerStarted
                    if !setUp && waited >= UInt64(settings.startupTimeoutMilliseconds) * 1_000_000 {
                        let failure =
                            "the store \(Self.describe(settings)) could not be opened within "
                            + "\(settings.startupTimeoutMilliseconds) ms (\(openingAttempts) attempts): \(error)"
                        logger.error("persister giving up at start", metadata: ["reason": "\(failure)"])
                        updateHealth { $0.startupFailure = failure }
                        break writer
                    }
                }
            }
            // 2. Read, within the buffer's bound; what is read now is recorded as received now.
            var read = 0
            if stopDeadline == nil || draining() {
                let received = SystemClock.wallClockNanoseconds()
                var dropped: [EventSubscriber] = []
                for subscriber in subscribers where buffer.count < settings.bufferEvents {
                    var taken = 0
                    let shard = subscriber.shard.id
                    reading: while taken < settings.batchSize && buffer.count < settings.bufferEvents {
                        let regressedBefore = subscriber.regressedFrames
                        let next: Result<EngineEvent?, EventSubscriber.Failure>
                        do {
                            next = .success(try subscriber.next(timeoutMilliseconds: 0))
                        } catch {
                            next = .failure(error)
                        }
                        // A frame below what was read: whatever this call returned is not written.
                        if subscriber.regressedFrames != regressedBefore {
                            dropped.append(subscriber)
                            break reading
                        }
                        switch next {
                        case .success(nil):
                            break reading
                        case .success(let event?):
                            buffer.append(
                                .event(
                                    shard: shard, event, clientTimestampNanos: subscriber.lastClientTimestampNanos,
                                    recordedAtNanos: received))
                            taken += 1
                        case .failure(.lost(let from, let to)):
                            let count = Int(to - from + 1)
                            counters.lostEvents.add(count, ordering: .relaxed)
                            metrics.lost[shard].increment(by: Int64(count))
                            logger.error(
                                "events lost: the retransmission ring no longer has them",
                                metadata: ["shard": "\(shard)", "from": "\(from)", "to": "\(to)"])
                            buffer.append(.gap(shard: shard, from: from, to: to))
                            taken += 1
                        case .failure(let error):
                            if now - lastReplayWarning > 1_000_000_000 {
                                lastReplayWarning = now
                                logger.warning(
                                    "replay request unanswered; will ask again",
                                    metadata: ["shard": "\(shard)", "error": "\(error)"])
                            }
                            break reading
                        }
                    }
                    read += taken
                    seen[shard] = max(seen[shard], subscriber.nextSequence - 1)
                    if let sequence = subscriber.announcedSequence { announced[shard] = sequence }
                    let rejected = subscriber.rejectedFrames - rejectedSeen[shard]
                    if rejected > 0 {
                        rejectedSeen[shard] = subscriber.rejectedFrames
                        counters.rejectedFrames.add(rejected, ordering: .relaxed)
                        metrics.rejectedFrames[shard].increment(by: Int64(rejected))
                    }
                }
                for subscriber in dropped { dropRegressed(subscriber) }
            }
            counters.bufferDepth.store(buffer.count, ordering: .relaxed)
            metrics.bufferDepth.record(buffer.count)
            // 3. Every 100 ms: each shard's lag, its alarm, the health and the gauges.
            now = SystemClock.monotonicNanoseconds()
            if now - lastHealthUpdate >= 100_000_000 {
                lastHealthUpdate = now
                updateLag(now: now)
            }
            // 4. Write a batch: full, or the stream paused, or 5 ms since the last write, or stopping.
            now = SystemClock.monotonicNanoseconds()
            if let current = store, !buffer.isEmpty, now >= retryAt,
                buffer.count >= settings.batchSize || read == 0 || now - lastWrite >= 5_000_000 || stopDeadline != nil
            {
                let count = min(settings.batchSize, buffer.count)
                if settings.debugWriteDelayMilliseconds > 0 {
                    usleep(UInt32(settings.debugWriteDelayMilliseconds) * 1_000)
                }
                let started = SystemClock.monotonicNanoseconds()
                do {
                    var seenByShard: [Int: UInt64] = [:]
                    for (shard, sequence) in seen.enumerated() where sequence > 0 { seenByShard[shard] = sequence }
                    try storeCall("writing \(count) events") {
                        try current.write(batch: Array(buffer[0..<count]), seen: seenByShard)
                    }
                    let finished = SystemClock.monotonicNanoseconds()
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
                    succeeded()
                    lastWrite = finished
                    continue
                } catch {
                    failed("writing \(count) events", error)
                }
            }
            // 5. Stop once flushed (or, with the store down, at the deadline: the high-water mark
            //    then tells the next start where to catch up from).
            if let deadline = stopDeadline {
                if (buffer.isEmpty && !draining()) || SystemClock.monotonicNanoseconds() > deadline {
                    if !buffer.isEmpty {
                        logger.error("stopping with events not written", metadata: ["events": "\(buffer.count)"])
                    }
                    if draining(), let targets {
                        logger.error(
                            "stopping before the store reached the engines' last sequences",
                            metadata: ["stored": "\(stored)", "engines": "\(targets)"])
                    }
                    break writer
                }
            }
            if read == 0 { usleep(1_000) }
        }
        store?.close()
        updateHealth { $0.storeOpen = false }
    }
}

/// Why a persister ended with an error (`chronos persist` exits 1 with it).
public struct PersisterFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A ``PersistenceService`` as a swift-service-lifecycle `Service`: starts the writer, runs until
/// the group shuts down gracefully (SIGTERM/SIGINT), then flushes and stops it.
///
/// - `onReady` is called once, when the persister is first ready (the store open, every shard followed).
/// - A store not opened within `startup_timeout_ms` (plus ``PersistenceService/stopGraceSeconds``
///   when the opening itself hangs) ends the service with a ``PersisterFailure``.
/// - The stop is bounded (``PersistenceService/stopBoundSeconds``): a writer stuck in a store call
///   past it is left behind and the service throws a ``PersisterFailure``, so the process exits 1.
/// - Every 100 ms it records the readiness gauges (so that a writer stuck in a call still shows as
///   not ready) and, with `statusFile`, rewrites the status text there every second and at once when
///   readiness, the last error or a shard's state changes (removed at the end).
public struct PersistenceServiceRunner: Service {
    public let persister: PersistenceService
    let logger: Logger
    let onReady: @Sendable () -> Void
    let drainTargets: (@Sendable () -> [UInt64])?
    let statusFile: String?

    /// - Parameter drainTargets: when given, a graceful shutdown stores every shard's stream up to
    ///   the sequences it returns (read at shutdown) before stopping: for a persister in the same
    ///   process as the engines, shut down after the gateway and before the shards.
    /// - Parameter statusFile: where to keep the status text (``PersisterStatusFile``), if anywhere.
    public init(
        _ persister: PersistenceService, logger: Logger, statusFile: String? = nil,
        onReady: @escaping @Sendable () -> Void = {}, drainTargets: (@Sendable () -> [UInt64])? = nil
    ) {
        self.persister = persister
        self.logger = logger
        self.onReady = onReady
        self.drainTargets = drainTargets
        self.statusFile = statusFile
    }

    public func run() async throws {
        try persister.start()
        defer { if let statusFile { try? FileManager.default.removeItem(atPath: statusFile) } }
        let startupBound =
            Double(persister.exchange.persistence.startupTimeoutMilliseconds) / 1_000
            + Double(PersistenceService.stopGraceSeconds)
        var announced = false
        var lastStatusWrite = 0
        var lastState: String?
        var ticks = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            persister.publishHealth()
            let health = persister.health()
            ticks += 1
            // What changes the text other than the passing time: written at once.
            let state = "\(health.ready) \(health.lastError ?? "") \(health.shards.map(\.state))"
            if let statusFile, ticks - lastStatusWrite >= 10 || state != lastState {
                lastStatusWrite = ticks
                lastState = state
                try? health.report(pid: getpid()).write(toFile: statusFile, atomically: true, encoding: .utf8)
            }
            if let failure = health.startupFailure {
                _ = await persister.waitUntilStoppedAsync()
                throw PersisterFailure(failure)
            }
            if !health.started && health.uptimeSeconds > startupBound {
                let doing = health.activity.map {
                    "still \($0) after \(PersisterHealth.seconds(health.activitySeconds))"
                }
                let failure =
                    "the store could not be opened within \(Int(startupBound)) s: \(doing ?? health.lastError ?? "no answer")"
                logger.error("persister giving up at start", metadata: ["reason": "\(failure)"])
                persister.requestStop()
                throw PersisterFailure(failure)
            }
            if !announced && health.ready {
                announced = true
                onReady()
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        persister.requestStop(drainingTo: drainTargets?())
        let stopped = await persister.waitUntilStoppedAsync()
        let c = persister.counters
        logger.info(
            "persister stopped",
            metadata: [
                "events": "\(c.persistedEvents.load(ordering: .relaxed))",
                "batches": "\(c.batches.load(ordering: .relaxed))",
                "retries": "\(c.retries.load(ordering: .relaxed))",
                "lost_events": "\(c.lostEvents.load(ordering: .relaxed))",
                "rejected_frames": "\(c.rejectedFrames.load(ordering: .relaxed))",
                "clean": "\(stopped)",
            ])
        guard stopped else {
            let health = persister.health()
            throw PersisterFailure(
                "the persister did not stop within \(persister.stopBoundSeconds) s: "
                    + (health.activity.map {
                        "its writer is stuck \($0) (\(PersisterHealth.seconds(health.activitySeconds)))"
                    }
                        ?? "its writer did not finish"))
        }
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
/// | `chronos_persist_ready` | gauge | 1: store open and answering, every shard followed; else 0 |
/// | `chronos_persist_consecutive_failures` | gauge | store calls failed in a row (0 after a success) |
/// | `chronos_persist_failing_seconds` | gauge | how long the store has been failing (0: it is not) |
/// | `chronos_persist_engine_sequence` | gauge (`shard`) | the engine's last announced sequence, as last read |
/// | `chronos_persist_lag_events` | gauge (`shard`) | engine sequence − high-water mark |
/// | `chronos_persist_lag_stalled_seconds` | gauge (`shard`) | how long announced events have waited unstored |
/// | `chronos_persist_lag_alarm` | gauge (`shard`) | 1: past `lag_alarm_events` or `lag_alarm_seconds` |
/// | `chronos_persist_sequence_regressions_total` | counter (`shard`) | the engine's sequence went back (shard dropped) |
/// | `chronos_persist_identity_mismatch` | gauge (`shard`) | 1: the store holds the shard under another identity |
/// | `chronos_persist_shard_following` | gauge (`shard`) | 1: the shard is followed |
struct PersistMetrics {
    let events = Counter(label: "chronos_persist_events_total")
    let batches = Counter(label: "chronos_persist_batches_total")
    let writeDuration = Metrics.Timer(label: "chronos_persist_write_seconds")
    let retries = Counter(label: "chronos_persist_retries_total")
    let bufferDepth = Gauge(label: "chronos_persist_buffer_events")
    let highWaterMarks: [Gauge]
    let lost: [Counter]
    let rejectedFrames: [Counter]
    let ready = Gauge(label: "chronos_persist_ready")
    let consecutiveFailures = Gauge(label: "chronos_persist_consecutive_failures")
    let failingSeconds = Gauge(label: "chronos_persist_failing_seconds")
    let engineSequences: [Gauge]
    let lag: [Gauge]
    let lagStalledSeconds: [Gauge]
    let lagAlarm: [Gauge]
    let regressions: [Counter]
    let identityMismatch: [Gauge]
    let following: [Gauge]

    init(shards: Int) {
        func gauges(_ label: String) -> [Gauge] {
            (0..<shards).map { Gauge(label: label, dimensions: [("shard", String($0))]) }
        }
        engineSequences = gauges("chronos_persist_engine_sequence")
        lag = gauges("chronos_persist_lag_events")
        lagStalledSeconds = gauges("chronos_persist_lag_stalled_seconds")
        lagAlarm = gauges("chronos_persist_lag_alarm")
        identityMismatch = gauges("chronos_persist_identity_mismatch")
        following = gauges("chronos_persist_shard_following")
        regressions = (0..<shards).map {
            Counter(label: "chronos_persist_sequence_regressions_total", dimensions: [("shard", String($0))])
        }
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
