import ChronosCore
import Journal
import MatchingEngine
import Runtime
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a shard's snapshots without stopping its engine: a shadow engine on its own thread
/// follows the journal (replaying each command from its events, checking every event), and every
/// `snapshot_every_events` it writes the shadow's state as a snapshot file, then prunes old
/// snapshots and, when configured, the segments they cover.
///
/// The shadow starts from the engine's state right after recovery and only ever reads what the
/// engine committed, so the snapshots are exactly states the engine passed through.
final class SnapshotWriter: @unchecked Sendable {
    let configuration: EngineShard.Configuration
    let files: JournalFiles
    let counters: EngineShardCounters
    let metrics: ShardMetrics
    private let shadow: Engine
    private var replay: EngineLogReplay
    private let reader: JournalReader
    private var lastSnapshot: UInt64

    init(
        _ configuration: EngineShard.Configuration, files: JournalFiles, counters: EngineShardCounters,
        initial: [UInt8]
    ) throws {
        self.configuration = configuration
        self.files = files
        self.counters = counters
        metrics = ShardMetrics(shard: configuration.shard.id)
        shadow = try Engine(configuration: configuration.engine)
        for symbol in configuration.symbols { try shadow.addSymbol(symbol) }
        try shadow.restore(fromSnapshot: initial)
        replay = EngineLogReplay(shadow)
        reader = try JournalReader(directory: files.directory)
        lastSnapshot = shadow.nextSequence - 1
        counters.snapshotSequence.store(
            (try? JournalDirectory.snapshots(files.directory).last?.sequence) ?? 0, ordering: .relaxed)
    }

    func run(until stopping: borrowing Atomic<Bool>) {
        let every = UInt64(configuration.journal.snapshotEveryEvents)
        var failedAt: UInt64 = 0
        while !stopping.load(ordering: .acquiring) {
            let written = files.written.load(ordering: .acquiring)
            if written >= lastSnapshot + every && written != failedAt {
                do {
                    try catchUp(to: written, stopping: stopping)
                    if replay.atCommandBoundary && shadow.nextSequence - 1 >= lastSnapshot + every {
                        try writeSnapshot()
                    }
                } catch {
                    // A journal the shadow cannot follow is a bug or damage: counted and logged by
                    // the service (snapshotFailures); the engine goes on, recovery then replays more.
                    failedAt = written
                    counters.snapshotFailures.add(1, ordering: .relaxed)
                    metrics.snapshotFailures.increment()
                }
            }
            usleep(20_000)
        }
    }

    /// Replays the journal's records up to `target` onto the shadow.
    private func catchUp(to target: UInt64, stopping: borrowing Atomic<Bool>) throws {
        var sequence = shadow.nextSequence
        while sequence <= target {
            if sequence & 0xFFFF == 0 && stopping.load(ordering: .relaxed) { return }
            guard let frame = try reader.frame(sequence), case .success(let wire) = WireFrame.decode(frame),
                case .event(let event, _) = wire.message
            else { throw JournalError.corrupt(files.directory, "no readable record of sequence \(sequence)") }
            try replay.apply(event)
            sequence += 1
        }
    }

    private func writeSnapshot() throws {
        let started = SystemClock.monotonicNanoseconds()
        let sequence = shadow.nextSequence - 1
        let file = SnapshotFile(
            sequence: sequence, identityText: configuration.identity.canonical,
            fingerprint: configuration.identity.fingerprint, body: shadow.snapshotBytes(),
            createdNanos: SystemClock.wallClockNanoseconds())
        try file.write(directory: files.directory)
        lastSnapshot = sequence
        counters.snapshotSequence.store(sequence, ordering: .relaxed)
        metrics.snapshotSequence.record(Int64(sequence))
        metrics.snapshotDuration.recordNanoseconds(Int64(SystemClock.monotonicNanoseconds() - started))
        try ShardJournal.prune(
            directory: files.directory, keepSnapshots: configuration.journal.keepSnapshots,
            keepSegments: configuration.journal.keepSegments)
    }
}
