import ChronosCore
import MatchingEngine

#if canImport(Glibc)
    import Glibc
#endif

/// How a shard keeps its journal (`[journal]` in the configuration).
public struct JournalSettings: Sendable, Equatable {
    /// The journal root; shard `k` writes in `<root>/shard-<k>`.
    public var root: String
    public var durability: JournalDurability
    /// Events per segment file (128 bytes each).
    public var slotsPerSegment: Int
    /// A snapshot is written after this many events since the last one (0: only at shutdown).
    public var snapshotEveryEvents: Int
    /// Snapshots kept (the newest ones).
    public var keepSnapshots: Int
    /// Segments kept behind the oldest kept snapshot (older ones are deleted; -1: keep all).
    public var keepSegments: Int

    public init(
        root: String, durability: JournalDurability = .process, slotsPerSegment: Int = 1 << 19,
        snapshotEveryEvents: Int = 2_000_000, keepSnapshots: Int = 2, keepSegments: Int = -1
    ) {
        self.root = root
        self.durability = durability
        self.slotsPerSegment = slotsPerSegment
        self.snapshotEveryEvents = snapshotEveryEvents
        self.keepSnapshots = keepSnapshots
        self.keepSegments = keepSegments
    }
}

/// What a shard rebuilt from its journal at start.
public struct JournalRecovery: Sendable {
    /// The snapshot it started from (nil: from an empty engine).
    public var snapshotPath: String?
    /// The last sequence the snapshot included (0: none).
    public var snapshotSequence: UInt64 = 0
    /// The journal's events after the snapshot, replayed (its `unpublishedTail`: events of a
    /// command that the journal holds only partly; the shard journals and publishes them first).
    public var replay: RecoverySummary
    /// The last valid record in the journal (0: empty).
    public var lastJournaled: UInt64
    /// Snapshot files that could not be used (corrupt), newest first; the recovery went on
    /// from an older one.
    public var skippedSnapshots: [String] = []
}

/// A shard's journal folder as a whole: recovery at start, and the writer that continues it.
public enum ShardJournal {
    /// Rebuilds `engine` — fresh, its symbols added — from the journal in `directory` without
    /// changing any file: the newest valid snapshot, then every valid record after it. What
    /// ``recover(directory:shard:identityText:fingerprint:settings:engine:origin:)`` does before it
    /// opens the writer; `chronos journal verify` uses it alone.
    public static func rebuild(
        directory: String, identityText: String, fingerprint: UInt64,
        engine: Engine, origin: @escaping (OrderID) -> UInt16 = { _ in 0 }
    ) throws(JournalError) -> JournalRecovery {
        func checkIdentity(path: String, text: String, print: UInt64) throws(JournalError) {
            guard print == fingerprint, text == identityText else {
                throw .identityMismatch(path: path, stored: text, configured: identityText)
            }
        }
        let reader = try JournalReader(directory: directory)
        for file in reader.segmentFiles {
            let segment = try JournalSegment.open(path: file.path, writable: false)
            try checkIdentity(path: file.path, text: segment.identityText, print: segment.fingerprint)
        }
        // 1. The newest snapshot that reads back whole.
        var recovery = JournalRecovery(replay: RecoverySummary(), lastJournaled: 0)
        var snapshot: SnapshotFile?
        for file in try JournalDirectory.snapshots(directory).reversed() {
            do {
                let candidate = try SnapshotFile.read(path: file.path)
                try checkIdentity(path: file.path, text: candidate.identityText, print: candidate.fingerprint)
                snapshot = candidate
                recovery.snapshotPath = file.path
                break
            } catch let error where error.isIdentityMismatch {
                throw error
            } catch {
                recovery.skippedSnapshots.append("\(error)")
            }
        }
        if let snapshot {
            do {
                try engine.restore(fromSnapshot: snapshot.body, origin: origin)
            } catch {
                throw .replay("\(recovery.snapshotPath ?? "snapshot"): \(error)")
            }
            guard engine.nextSequence == snapshot.sequence + 1 else {
                throw .corrupt(recovery.snapshotPath ?? "snapshot", "its header and its body disagree on the sequence")
            }
            recovery.snapshotSequence = snapshot.sequence
        }
        // 2. The journal after it.
        let start = recovery.snapshotSequence + 1
        if let first = reader.firstSequence, first > start {
            throw .replay(
                "\(directory): the journal starts at sequence \(first), and no snapshot covers the events before it")
        }
        var replay = EngineLogReplay(engine, origin: origin)
        var sequence = start
        while let frame = try reader.frame(sequence) {
            guard case .success(let wire) = WireFrame.decode(frame), case .event(let event, _) = wire.message,
                event.sequence == sequence
            else {
                throw .corrupt(directory, "the record of sequence \(sequence) holds no event frame of that sequence")
            }
            do {
                try replay.apply(event)
            } catch {
                throw .replay("\(directory): \(error)")
            }
            sequence += 1
        }
        // A crash ends the journal inside the segment that holds `sequence`, or at a segment's end
        // before the next one exists. A later segment with no segment for `sequence` means events
        // are missing (a deleted file): going on would rebuild an older state and hand out
        // sequence numbers already published, and recover() would delete the later segments.
        if let later = reader.segmentFiles.first(where: { $0.first > sequence }),
            try reader.segment(containing: sequence) == nil
        {
            throw .replay(
                "\(directory): no segment holds sequence \(sequence), but \(later.path) follows: the events "
                    + "from \(sequence) to \(later.first - 1) are missing")
        }
        recovery.replay = replay.finish()
        recovery.lastJournaled = sequence - 1
        return recovery
    }

    /// Rebuilds `engine` — fresh, its symbols added — from the journal in `directory`: the newest
    /// valid snapshot, then every valid record after it in sequence order. Zeroes what a crash
    /// left beyond the last valid record, and returns a writer that continues after it.
    ///
    /// - Throws: ``JournalError/identityMismatch(path:stored:configured:)`` when a segment or
    ///   snapshot was written by a shard configured differently; ``JournalError/replay(_:)`` when
    ///   the journal does not replay to itself on this engine; file errors.
    public static func recover(
        directory: String, shard: Int, identityText: String, fingerprint: UInt64, settings: JournalSettings,
        engine: Engine, origin: @escaping (OrderID) -> UInt16 = { _ in 0 }
    ) throws(JournalError) -> (recovery: JournalRecovery, writer: JournalWriter) {
        try JournalDirectory.create(directory)
        try JournalDirectory.removeTemporaryFiles(directory)
        let recovery = try rebuild(
            directory: directory, identityText: identityText, fingerprint: fingerprint, engine: engine, origin: origin)
        let sequence = recovery.lastJournaled + 1
        let reader = try JournalReader(directory: directory)
        // 3. The writer, after the last valid record; whatever lies beyond is cleared.
        let files = JournalFiles(
            directory: directory, slotsPerSegment: settings.slotsPerSegment, shard: shard,
            identityText: identityText, fingerprint: fingerprint, durability: settings.durability)
        var current: JournalSegment?
        for file in reader.segmentFiles where file.first > sequence {
            guard unlink(file.path) == 0 else { throw .system("remove \(file.path)", errno) }
        }
        if let file = reader.segmentFiles.last(where: { $0.first <= sequence }) {
            let segment = try JournalSegment.open(path: file.path, writable: true)
            if segment.contains(sequence) {
                segment.clear(from: sequence)
                current = segment
            }
        }
        if current == nil { current = try files.createSegment(first: sequence) }
        if settings.durability == .machine { try current!.sync() }
        return (recovery, JournalWriter(files: files, segment: current!, nextSequence: sequence))
    }

    /// Deletes all but the newest `keep` snapshots in `directory`, and — when `keepSegments` ≥ 0 —
    /// the segments that end before the oldest kept snapshot, except the `keepSegments` newest of
    /// those. Returns the paths deleted.
    @discardableResult
    public static func prune(directory: String, keepSnapshots: Int, keepSegments: Int) throws(JournalError) -> [String]
    {
        var deleted: [String] = []
        let snapshots = try JournalDirectory.snapshots(directory)
        let kept = snapshots.suffix(max(1, keepSnapshots))
        for file in snapshots.dropLast(max(1, keepSnapshots)) where unlink(file.path) == 0 { deleted.append(file.path) }
        guard keepSegments >= 0, let oldestKept = kept.first?.sequence else { return deleted }
        let segments = try JournalDirectory.segments(directory)
        // A segment is covered when the next one starts at or before the snapshot's sequence + 1.
        var covered: [String] = []
        for (i, file) in segments.enumerated() where i + 1 < segments.count && segments[i + 1].first <= oldestKept + 1 {
            covered.append(file.path)
        }
        for path in covered.dropLast(keepSegments) where unlink(path) == 0 { deleted.append(path) }
        return deleted
    }
}

extension JournalError {
    var isIdentityMismatch: Bool {
        if case .identityMismatch = self { return true }
        return false
    }
}
