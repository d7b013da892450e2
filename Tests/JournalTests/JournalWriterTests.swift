import AllocCounter
import Foundation
import Journal
import Synchronization
import Testing
import Workload

/// `JournalWriter` and `JournalFiles`: every appended record lands once, in its slot, across
/// rollovers, whether the background thread prepared the next segment or not.
@Suite struct JournalWriterTests {
    static let identity = "shard=1 symbols=W/1/1/1/1000/1/100000 trades=W"
    static let fingerprint: UInt64 = 0x0123_4567_89AB_CDEF

    static func files(_ dir: String, slots: Int, durability: JournalDurability = .process) -> JournalFiles {
        JournalFiles(
            directory: dir, slotsPerSegment: slots, shard: 1, identityText: identity, fingerprint: fingerprint,
            durability: durability)
    }

    /// A writer on a new journal in `dir`, starting at `first`.
    static func writer(
        _ dir: String, slots: Int, first: UInt64 = 1, durability: JournalDurability = .process
    ) throws -> JournalWriter {
        let files = files(dir, slots: slots, durability: durability)
        let segment = try JournalSegment.create(
            directory: dir, first: first, slotCount: slots, shard: 1, identityText: identity,
            fingerprint: fingerprint, createdNanos: 0, sync: durability == .machine)
        return JournalWriter(files: files, segment: segment, nextSequence: first)
    }

    /// The frame the tests append for `sequence` (its length varies, 1...112 bytes).
    static func frame(_ sequence: UInt64) -> [UInt8] {
        patternFrame(count: 1 + Int(sequence % UInt64(JournalRecord.maxFrameSize)), seed: sequence)
    }

    /// Reads the folder back: each of `first...last` exactly once, with its frame; nothing else.
    static func expectJournal(_ dir: String, first: UInt64 = 1, last: UInt64, slots: Int) throws {
        let reader = try JournalReader(directory: dir)
        var wrong: [UInt64] = []
        for sequence in first...last where try reader.frame(sequence).map({ Array($0) }) != frame(sequence) {
            wrong.append(sequence)
        }
        #expect(wrong.isEmpty, "records missing or wrong: \(wrong.prefix(20))")
        #expect(try reader.frame(last + 1) == nil)
        #expect(try reader.lastContiguous(after: first - 1) == last)
        // Segments follow each other exactly (no overlap, no hole), each `slots` long; at most
        // one empty segment prepared ahead; no temporary file.
        let segments = try JournalDirectory.segments(dir)
        let expectedFirsts = Array(stride(from: first, through: last, by: slots))
        let firsts = segments.map(\.first)
        #expect(
            firsts == expectedFirsts || firsts == expectedFirsts + [expectedFirsts.last! + UInt64(slots)],
            "segments \(firsts)")
        for file in segments {
            #expect(try JournalSegment.open(path: file.path, writable: false).slotCount == slots)
        }
        #expect(!fileNames(dir).contains { $0.hasSuffix(".tmp") })
        // Every sequence is held by exactly one segment: no duplicate anywhere.
        var holders: [UInt64: Int] = [:]
        for file in segments {
            let segment = try JournalSegment.open(path: file.path, writable: false)
            for sequence in segment.firstSequence...segment.lastSequence where segment.frame(sequence) != nil {
                holders[sequence, default: 0] += 1
            }
        }
        #expect(holders.count == Int(last - first + 1))
        #expect(holders.values.allSatisfy { $0 == 1 })
    }

    static func append(_ writer: JournalWriter, _ sequence: UInt64) -> Bool {
        frame(sequence).withUnsafeBytes { writer.append(sequence: sequence, frame: $0) }
    }

    @Test(arguments: [1, 4, 7])
    func withoutTheBackgroundThreadEveryRolloverStallsAndNothingIsLost(slots: Int) throws {
        try withTemporaryFolder { dir in
            let writer = try Self.writer(dir, slots: slots)
            let count: UInt64 = 200
            for sequence in 1...count {
                #expect(Self.append(writer, sequence))
                if sequence % 3 == 0 { writer.commit() }
            }
            writer.commit()
            #expect(writer.nextSequence == count + 1)
            #expect(writer.files.written.load(ordering: .acquiring) == count)
            let rollovers = (Int(count) - 1) / slots
            #expect(writer.files.stalls.load(ordering: .relaxed) == rollovers)
            try Self.expectJournal(dir, last: count, slots: slots)
        }
    }

    /// `doWork()` between appends, at several rhythms: the next segment is ready at every
    /// rollover once the background thread has had a turn since the last one.
    @Test(arguments: [(4, 1), (4, 3), (7, 2), (7, 7), (7, 20)])
    func withTheBackgroundThreadBetweenAppendsNothingIsLost(slots: Int, every: Int) throws {
        try withTemporaryFolder { dir in
            let writer = try Self.writer(dir, slots: slots)
            let count: UInt64 = 300
            var turnsSinceRollover = 0
            var expectedStalls = 0
            for sequence in 1...count {
                if sequence > 1 && (sequence - 1) % UInt64(slots) == 0 && turnsSinceRollover == 0 {
                    expectedStalls += 1
                }
                if sequence > 1 && (sequence - 1) % UInt64(slots) == 0 { turnsSinceRollover = 0 }
                #expect(Self.append(writer, sequence))
                writer.commit()
                if sequence % UInt64(every) == 0 {
                    _ = writer.files.doWork()
                    turnsSinceRollover += 1
                }
            }
            #expect(writer.files.stalls.load(ordering: .relaxed) == expectedStalls)
            #expect(writer.files.failures.load(ordering: .relaxed) == 0)
            _ = writer.files.doWork()
            #expect(writer.files.synced.load(ordering: .acquiring) == count)
            try Self.expectJournal(dir, last: count, slots: slots)
        }
    }

    /// The background thread on a real second thread, as fast as it can, while the test thread
    /// appends: whatever the interleaving, every record is written once.
    ///
    /// `round` seeds the commit rhythm; odd rounds use machine durability (the background thread
    /// also syncs): `synced` never passes `written`.
    @Test(arguments: [(UInt64(1), 4), (2, 7), (3, 1), (4, 4), (5, 7)])
    func withTheBackgroundThreadRunningConcurrentlyNothingIsLostOrDuplicated(round: UInt64, slots: Int) throws {
        try withTemporaryFolder { dir in
            let writer = try Self.writer(dir, slots: slots, durability: round % 2 == 1 ? .machine : .process)
            let files = writer.files
            let stop = StopFlag()
            let finished = DispatchSemaphore(value: 0)
            let problems = ProblemLog()
            let thread = Thread {
                while !stop.value.load(ordering: .acquiring) {
                    _ = files.doWork()
                    let synced = files.synced.load(ordering: .acquiring)
                    let written = files.written.load(ordering: .acquiring)
                    if synced > written { problems.add("synced \(synced) > written \(written)") }
                }
                _ = files.doWork()
                finished.signal()
            }
            thread.start()
            let count = UInt64(min(3_000, 600 * slots))
            var rng = SplitMix64(seed: round)
            for sequence in 1...count {
                #expect(Self.append(writer, sequence))
                if rng.next() % 3 == 0 { writer.commit() }
            }
            writer.commit()
            stop.value.store(true, ordering: .releasing)
            finished.wait()
            #expect(files.stalls.load(ordering: .relaxed) <= Int(count) / slots)
            #expect(files.failures.load(ordering: .relaxed) == 0)
            #expect(files.synced.load(ordering: .acquiring) == count)
            #expect(problems.all == [])
            try Self.expectJournal(dir, last: count, slots: slots)
        }
    }

    /// The replay server's view: a reader on another thread, following `written`, finds every
    /// committed record whole while the writer appends and the background thread prepares.
    @Test func aReaderFollowingWrittenSeesEveryCommittedRecord() throws {
        try withTemporaryFolder { dir in
            let writer = try Self.writer(dir, slots: 7)
            let files = writer.files
            let count: UInt64 = 2_000
            let stop = StopFlag()
            let background = DispatchSemaphore(value: 0)
            Thread {
                while !stop.value.load(ordering: .acquiring) { _ = files.doWork() }
                background.signal()
            }.start()
            let problems = ProblemLog()
            let follower = DispatchSemaphore(value: 0)
            Thread {
                defer { follower.signal() }
                do {
                    let reader = try JournalReader(directory: dir)
                    var next: UInt64 = 1
                    while next <= count {
                        let written = files.written.load(ordering: .acquiring)
                        while next <= written {
                            if try reader.frame(next).map({ Array($0) }) != Self.frame(next) {
                                problems.add("record \(next) not readable at written \(written)")
                                return
                            }
                            next += 1
                        }
                    }
                } catch {
                    problems.add("\(error)")
                }
            }.start()
            for sequence in 1...count {
                #expect(Self.append(writer, sequence))
                writer.commit()
            }
            follower.wait()
            stop.value.store(true, ordering: .releasing)
            background.wait()
            #expect(problems.all == [])
        }
    }

    /// A segment that cannot be created (the folder is gone): the background thread counts the
    /// failure, and the append at the rollover fails without writing anything; once the folder
    /// is back, the same append succeeds.
    @Test func aSegmentThatCannotBeCreatedFailsTheAppendAndNothingIsWritten() throws {
        try withTemporaryFolder { root in
            let dir = root + "/shard-1"
            try JournalDirectory.create(dir)
            let writer = try Self.writer(dir, slots: 4)
            for sequence: UInt64 in 1...4 { #expect(Self.append(writer, sequence)) }
            writer.commit()
            try FileManager.default.removeItem(atPath: dir)
            _ = writer.files.doWork()
            #expect(writer.files.failures.load(ordering: .relaxed) == 1)
            #expect(writer.files.lastError != nil)
            #expect(!Self.append(writer, 5))
            #expect(writer.nextSequence == 5)
            #expect(!Self.append(writer, 5))
            try JournalDirectory.create(dir)
            #expect(Self.append(writer, 5))
            for sequence: UInt64 in 6...9 { #expect(Self.append(writer, sequence)) }
            writer.commit()
            #expect(writer.files.stalls.load(ordering: .relaxed) == 4)  // three tries at 5, one at 9
            let reader = try JournalReader(directory: dir)
            for sequence: UInt64 in 5...9 {
                #expect(try reader.frame(sequence).map { Array($0) } == Self.frame(sequence))
            }
        }
    }

    @Test func aWriterContinuingInsideASegmentKeepsWhatItHolds() throws {
        try withTemporaryFolder { dir in
            do {
                let writer = try Self.writer(dir, slots: 8, first: 1)
                for sequence: UInt64 in 1...5 { #expect(Self.append(writer, sequence)) }
                writer.commit()
            }
            let segment = try JournalSegment.open(path: dir + "/" + JournalSegment.fileName(first: 1), writable: true)
            let writer = JournalWriter(files: Self.files(dir, slots: 8), segment: segment, nextSequence: 6)
            #expect(writer.files.written.load(ordering: .acquiring) == 5)
            for sequence: UInt64 in 6...30 { #expect(Self.append(writer, sequence)) }
            writer.commit()
            try Self.expectJournal(dir, last: 30, slots: 8)
        }
    }

    @Test func anAppendOutOfOrderIsRefusedAndWritesNothing() throws {
        try withTemporaryFolder { dir in
            let writer = try Self.writer(dir, slots: 4)
            for sequence: UInt64 in 1...3 { #expect(Self.append(writer, sequence)) }
            writer.commit()
            let before = try readFile(dir + "/" + JournalSegment.fileName(first: 1))
            for wrong: UInt64 in [0, 1, 3, 5, 6, 100, .max] {
                #expect(!Self.append(writer, wrong), "sequence \(wrong)")
            }
            #expect(writer.nextSequence == 4)
            #expect(try readFile(dir + "/" + JournalSegment.fileName(first: 1)) == before)
            #expect(fileNames(dir) == [JournalSegment.fileName(first: 1)])  // no segment for 5 or 100
            writer.commit()
            #expect(writer.files.written.load(ordering: .acquiring) == 3)
            // The writer goes on at 4, across the rollover.
            for sequence: UInt64 in 4...9 { #expect(Self.append(writer, sequence)) }
            writer.commit()
            try Self.expectJournal(dir, last: 9, slots: 4)
        }
    }

    @Test func commitPublishesWhatWasAppended() throws {
        try withTemporaryFolder { dir in
            let writer = try Self.writer(dir, slots: 16, first: 40)
            #expect(writer.files.written.load(ordering: .acquiring) == 39)
            #expect(writer.syncedSequence == 39)
            for sequence: UInt64 in 40...44 { #expect(Self.append(writer, sequence)) }
            #expect(writer.files.written.load(ordering: .acquiring) == 39)  // not yet committed
            writer.commit()
            #expect(writer.files.written.load(ordering: .acquiring) == 44)
            writer.commit()  // idempotent
            #expect(writer.files.written.load(ordering: .acquiring) == 44)
        }
    }

    @Test(arguments: JournalDurability.allCases)
    func theBackgroundThreadAdvancesSyncedToWritten(durability: JournalDurability) throws {
        try withTemporaryFolder { dir in
            let writer = try Self.writer(dir, slots: 4, durability: durability)
            for sequence: UInt64 in 1...10 { #expect(Self.append(writer, sequence)) }
            #expect(writer.syncedSequence == 0)
            writer.commit()
            #expect(writer.syncedSequence == 0)  // only the background thread moves it
            #expect(writer.files.doWork() > 0)
            #expect(writer.syncedSequence == 10)
            #expect(writer.files.synced.load(ordering: .acquiring) == 10)
            for sequence: UInt64 in 11...13 { #expect(Self.append(writer, sequence)) }
            writer.commit()
            _ = writer.files.doWork()
            #expect(writer.syncedSequence == 13)
            // Idle once everything is synced and the next segment is prepared.
            _ = writer.files.doWork()
            #expect(writer.files.doWork() == 0)
            #expect(writer.files.failures.load(ordering: .relaxed) == 0)
            #expect(writer.files.lastError == nil)
            try Self.expectJournal(dir, last: 13, slots: 4)
        }
    }

    /// The engine thread's append path, inside a prepared segment: a copy, no allocation.
    @Test(.enabled(if: alloc_counter_available() != 0))
    func appendingWithinASegmentAllocatesNothing() throws {
        try withTemporaryFolder { dir in
            let count = 100_000
            let writer = try Self.writer(dir, slots: count + 2_000)
            let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 96, alignment: 8)
            defer { frame.deallocate() }
            for i in 0..<96 { frame[i] = UInt8(i) }
            let input = UnsafeRawBufferPointer(frame)
            var sequence: UInt64 = 1
            var ok = true
            for _ in 0..<1_000 {
                ok = writer.append(sequence: sequence, frame: input) && ok
                writer.commit()
                sequence += 1
            }
            alloc_counter_begin()
            for _ in 0..<count {
                ok = writer.append(sequence: sequence, frame: input) && ok
                if sequence & 3 == 0 { writer.commit() }
                sequence += 1
            }
            writer.commit()
            let mallocs = alloc_counter_end()
            #expect(mallocs == 0)
            #expect(ok)
            #expect(writer.nextSequence == UInt64(count + 1_001))
        }
    }
}

/// A flag the test thread raises to stop a background thread.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// Problems found on another thread, for the test thread to report.
final class ProblemLog: Sendable {
    private let problems = Mutex<[String]>([])
    func add(_ problem: String) { problems.withLock { $0.append(problem) } }
    var all: [String] { problems.withLock { $0 } }
}
