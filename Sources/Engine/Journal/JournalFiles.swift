import Runtime
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How far the journal must be on the device before the shard releases a report.
public enum JournalDurability: String, Sendable, Equatable, CaseIterable {
    /// In the page cache (the mapping): survives any crash of the process, not of the machine.
    /// No system call per event. The default.
    case process
    /// On the device: a journal thread `fdatasync`s in groups, and reports and publications wait
    /// until their events are covered. Survives a machine crash or power loss.
    case machine
}

/// The state a shard's journal writer (the engine thread) shares with the journal's background
/// thread: the next segment prepared ahead, segments to retire off the engine thread, and the
/// written and synced sequence marks.
///
/// The engine thread only takes a prepared segment at a rollover (once per segment) and stores
/// two atomics per command; everything slow — creating, reserving and prefaulting a segment,
/// unmapping an old one, `fdatasync` — happens in ``doWork()`` on the background thread.
public final class JournalFiles: Sendable {
    /// The shard's journal folder.
    public let directory: String
    /// Slots in each new segment.
    public let slotsPerSegment: Int
    public let shard: Int
    public let identityText: String
    public let fingerprint: UInt64
    public let durability: JournalDurability
    /// The last sequence written and committed by the engine thread (a command's events are
    /// committed together).
    public let written = Atomic<UInt64>(0)
    /// The last sequence on the device (``JournalDurability/machine``); equal to ``written`` in
    /// the background thread's eyes for ``JournalDurability/process``.
    public let synced = Atomic<UInt64>(0)
    /// Rollovers that found no prepared segment and created one on the engine thread.
    public let stalls = Atomic<Int>(0)
    /// Failures of the background thread (preparing or syncing); the last one's text is logged by it.
    public let failures = Atomic<Int>(0)
    private let state = Mutex<State>(State())

    struct State: ~Copyable {
        /// The first sequence of the segment to prepare next (0: none requested).
        var requested: UInt64 = 0
        /// The first sequence of the segment the background thread is creating (0: none).
        var preparing: UInt64 = 0
        var prepared: JournalSegment?
        /// Segments the engine thread no longer writes: unmapped once synced.
        var retired: [JournalSegment] = []
        /// The segment the engine thread writes (for syncing).
        var current: JournalSegment?
        var lastError: JournalError?
    }

    public init(
        directory: String, slotsPerSegment: Int, shard: Int, identityText: String, fingerprint: UInt64,
        durability: JournalDurability
    ) {
        self.directory = directory
        self.slotsPerSegment = slotsPerSegment
        self.shard = shard
        self.identityText = identityText
        self.fingerprint = fingerprint
        self.durability = durability
    }

    /// Creates a new segment starting at `first` (on the calling thread).
    func createSegment(first: UInt64) throws(JournalError) -> JournalSegment {
        let segment = try JournalSegment.create(
            directory: directory, first: first, slotCount: slotsPerSegment, shard: shard,
            identityText: identityText, fingerprint: fingerprint, createdNanos: SystemClock.wallClockNanoseconds(),
            sync: durability == .machine)
        segment.prefault()
        return segment
    }

    // MARK: Engine thread

    /// Takes the prepared segment when it starts at `first`; waits while the background thread
    /// is preparing it; nil when nobody is (the caller then creates it).
    func takePrepared(first: UInt64) -> JournalSegment? {
        while true {
            let (segment, busy) = state.withLock { s -> (JournalSegment?, Bool) in
                if let prepared = s.prepared, prepared.firstSequence == first {
                    s.prepared = nil
                    return (prepared, false)
                }
                if s.preparing == first { return (nil, true) }
                s.requested = 0  // the engine thread creates it itself
                return (nil, false)
            }
            if !busy { return segment }
            usleep(100)
        }
    }

    /// The engine thread writes `current` from now on: `old` is retired (released once synced),
    /// and the segment after `current` is requested.
    func switchTo(_ current: JournalSegment, retiring old: JournalSegment?) {
        state.withLock { s in
            if let old { s.retired.append(old) }
            s.current = current
            s.requested = current.lastSequence + 1
        }
    }

    /// Syncs the segment being written and marks everything written as synced (on the calling
    /// thread: for recovery, before the loop starts).
    public func syncNow() throws(JournalError) {
        let target = written.load(ordering: .acquiring)
        let current = state.withLock { $0.current }
        try current?.sync()
        synced.store(target, ordering: .releasing)
    }

    /// Counts a failure and keeps it as the last error (allocates: off the steady path).
    func record(_ error: JournalError) {
        failures.add(1, ordering: .relaxed)
        state.withLock { $0.lastError = error }
    }

    /// The last error (of the background thread, or of a segment the engine thread could not
    /// create), if any.
    public var lastError: JournalError? { state.withLock { $0.lastError } }

    // MARK: Background thread

    /// One duty cycle of the background thread: sync what was written (machine durability),
    /// retire old segments, prepare the requested one. Returns the work done (0: idle).
    public func doWork() -> Int {
        var work = 0
        let target = written.load(ordering: .acquiring)
        if target > synced.load(ordering: .relaxed) {
            if durability == .machine {
                let (current, retired) = state.withLock { ($0.current, $0.retired) }
                do {
                    for segment in retired { try segment.sync() }
                    try current?.sync()
                } catch {
                    failures.add(1, ordering: .relaxed)
                    state.withLock { $0.lastError = error }
                    return work
                }
            }
            synced.store(target, ordering: .releasing)
            work += 1
        }
        // Old segments: released here (munmap, close) once what they hold is synced.
        let released = state.withLock { s -> [JournalSegment] in
            guard !s.retired.isEmpty else { return [] }
            let done = s.retired.filter { $0.lastSequence <= target }
            s.retired.removeAll { $0.lastSequence <= target }
            return done
        }
        work += released.count
        let request = state.withLock { s -> UInt64 in
            guard s.requested != 0, s.prepared?.firstSequence != s.requested else { return 0 }
            s.preparing = s.requested
            return s.requested
        }
        if request != 0 {
            do {
                let segment = try createSegment(first: request)
                state.withLock { s in
                    s.preparing = 0
                    if s.requested == request {
                        s.prepared = segment
                        s.requested = 0
                    }
                }
            } catch {
                failures.add(1, ordering: .relaxed)
                state.withLock {
                    $0.lastError = error
                    $0.preparing = 0
                    $0.requested = 0  // the engine thread tries again itself at the rollover
                }
            }
            work += 1
        }
        return work
    }
}

/// The engine thread's side of a shard's journal: appends each event's frame into the mapped
/// segment (a copy, no system call, no allocation) and commits a command's events together.
///
/// Segments roll over to the one ``JournalFiles`` prepared ahead; when none is ready the writer
/// creates it itself (counted in ``JournalFiles/stalls``). A segment that cannot be created makes
/// ``append(sequence:frame:)`` fail: the shard must then stop taking commands.
public final class JournalWriter {
    public let files: JournalFiles
    private var segment: JournalSegment
    /// The sequence the next append must carry.
    public private(set) var nextSequence: UInt64

    /// A writer that continues `segment` at `nextSequence` (which the segment must hold).
    public init(files: JournalFiles, segment: JournalSegment, nextSequence: UInt64) {
        precondition(segment.writable && segment.contains(nextSequence), "the writer starts inside its segment")
        self.files = files
        self.segment = segment
        self.nextSequence = nextSequence
        files.written.store(nextSequence - 1, ordering: .releasing)
        files.synced.store(nextSequence - 1, ordering: .releasing)
        files.switchTo(segment, retiring: nil)
    }

    /// Appends the frame of the event numbered `sequence` (the next one). Returns false when the
    /// journal cannot take it (a sequence out of order, or no segment could be created): nothing
    /// was written.
    @inline(__always)
    public func append(sequence: UInt64, frame: UnsafeRawBufferPointer) -> Bool {
        guard sequence == nextSequence else { return false }
        if !segment.contains(sequence) {
            guard roll() else { return false }
        }
        JournalRecord.write(frame, sequence: sequence, into: segment.slot(sequence))
        nextSequence = sequence &+ 1
        return true
    }

    /// Makes every appended event visible to readers as written (release).
    @inline(__always)
    public func commit() {
        files.written.store(nextSequence &- 1, ordering: .releasing)
    }

    /// The last sequence on the device (machine durability) or written (process durability), as
    /// far as the background thread has gone.
    @inline(__always)
    public var syncedSequence: UInt64 { files.synced.load(ordering: .acquiring) }

    private func roll() -> Bool {
        let first = nextSequence
        var fresh = files.takePrepared(first: first)
        if fresh == nil {
            files.stalls.add(1, ordering: .relaxed)
            do {
                fresh = try files.createSegment(first: first)
            } catch {
                files.record(error)
            }
        }
        guard let fresh else { return false }
        files.switchTo(fresh, retiring: segment)
        segment = fresh
        return true
    }
}
