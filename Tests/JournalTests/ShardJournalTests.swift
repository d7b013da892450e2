import ChronosCore
import Journal
import MatchingEngine
import Testing
import Workload

/// `ShardJournal.recover`: the newest valid snapshot plus every valid record after it rebuilds
/// the engine that wrote them; what lies beyond the last valid record is cleared; the writer
/// continues at the next sequence, never leaving a gap.
@Suite struct ShardJournalTests {
    /// A fresh engine's state hash.
    static let emptyHash = try! TestShard.engine().stateHash()

    /// A new journal in `dir` holding `events` (through the writer an empty recovery returns).
    static func journalNew(_ dir: String, _ events: some Collection<EngineEvent>, slots: Int = 64) throws {
        let (_, recovery, writer) = try TestShard.recover(dir, slotsPerSegment: slots)
        #expect(recovery.lastJournaled == 0)
        journal(events, to: writer)
    }

    static func expectSameBooks(_ a: Engine, _ b: Engine) {
        for s in 0..<TestShard.symbols.count {
            for side in Side.allCases {
                let symbol = SymbolID(UInt32(s))
                #expect(a.restingOrders(symbol, side) == b.restingOrders(symbol, side))
            }
        }
        #expect(a.nextSequence == b.nextSequence)
        #expect(a.nextTradeID == b.nextTradeID)
        #expect(a.stateHash() == b.stateHash())
    }

    static func segmentFirsts(_ dir: String) throws -> [UInt64] { try JournalDirectory.segments(dir).map(\.first) }

    @Test func anEmptyFolderRecoversAnEmptyEngineAndAWriterAtSequenceOne() throws {
        try withTemporaryFolder { root in
            let dir = JournalDirectory.path(root: root, shard: 0)
            let (engine, recovery, writer) = try TestShard.recover(dir)
            #expect(recovery.lastJournaled == 0)
            #expect(recovery.snapshotPath == nil)
            #expect(recovery.snapshotSequence == 0)
            #expect(recovery.skippedSnapshots.isEmpty)
            #expect(recovery.replay == RecoverySummary())
            #expect(writer.nextSequence == 1)
            #expect(engine.nextSequence == 1)
            #expect(engine.stateHash() == Self.emptyHash)
            #expect(fileNames(dir) == [JournalSegment.fileName(first: 1)])
        }
    }

    @Test(arguments: [(64, JournalDurability.process), (7, .machine), (1, .process)])
    func aJournaledRunRecoversToTheSameStateAndTheWriterContinuesIt(
        slots: Int, durability: JournalDurability
    ) throws {
        try withTemporaryFolder { dir in
            var run = try RecordedRun(seed: 11)
            run.run(slots == 1 ? 80 : 400)
            try Self.journalNew(dir, run.log, slots: slots)
            var lastLength = run.log.count
            for round in 0..<3 {
                let engine = try TestShard.engine()
                let (recovery, writer) = try ShardJournal.recover(
                    directory: dir, shard: 0, identityText: TestShard.identity, fingerprint: TestShard.fingerprint,
                    settings: JournalSettings(root: dir, durability: durability, slotsPerSegment: slots),
                    engine: engine)
                #expect(recovery.lastJournaled == UInt64(run.log.count), "round \(round)")
                #expect(recovery.replay.events == run.log.count)
                #expect(recovery.replay.lastSequence == UInt64(run.log.count))
                #expect(recovery.replay.unpublishedTail.isEmpty)
                #expect(writer.nextSequence == UInt64(run.log.count + 1))
                #expect(engine.invariantViolations() == [])
                Self.expectSameBooks(engine, run.engine)
                // The original goes on; its new events go through the recovered writer.
                run.run(50)
                journal(run.log[lastLength...], to: writer)
                lastLength = run.log.count
                #expect(writer.nextSequence == UInt64(run.log.count + 1))
            }
        }
    }

    @Test func aRealisticFlowRecoversThroughTheJournal() throws {
        try withTemporaryFolder { dir in
            var generator = try OrderFlowGenerator(.init(seed: 5, symbols: 2, targetRestingOrders: 500))
            func engine() throws -> Engine {
                let engine = try Engine(configuration: .init(orderCapacity: 4_096, symbolCapacity: 2))
                for s in 0..<2 { try engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
                return engine
            }
            let original = try engine()
            let settings = JournalSettings(root: dir, slotsPerSegment: 512)
            let (_, writer) = try ShardJournal.recover(
                directory: dir, shard: 0, identityText: "SYM0,SYM1", fingerprint: 1, settings: settings,
                engine: try engine())
            for (index, command) in generator.generate(6_000).enumerated() {
                original.submit(command)
                journal(original.events, to: writer)
                if index % 7 == 0 { _ = writer.files.doWork() }
            }
            let recovered = try engine()
            let (recovery, _) = try ShardJournal.recover(
                directory: dir, shard: 0, identityText: "SYM0,SYM1", fingerprint: 1, settings: settings,
                engine: recovered)
            #expect(recovery.lastJournaled == original.nextSequence - 1)
            #expect(recovered.stateHash() == original.stateHash())
            #expect(recovered.restingOrderCount == original.restingOrderCount)
        }
    }

    // MARK: Torn and stale records

    /// Valid-looking records that are not this life's: `events` (of another run) written at
    /// their own sequences into whichever segment holds them, plus a segment file of its own
    /// starting at an odd sequence `oddFirst` holding them too.
    static func plantStaleRecords(_ dir: String, _ events: ArraySlice<EngineEvent>, oddFirst: UInt64) throws {
        for event in events {
            guard let slot = try slotLocation(dir, sequence: event.sequence) else { continue }
            let segment = try JournalSegment.open(path: slot.path, writable: true)
            eventFrame(event).withUnsafeBytes {
                JournalRecord.write($0, sequence: event.sequence, into: segment.slot(event.sequence))
            }
        }
        let stale = try JournalSegment.create(
            directory: dir, first: oddFirst, slotCount: 8, shard: 0, identityText: TestShard.identity,
            fingerprint: TestShard.fingerprint, createdNanos: 0, sync: false)
        for event in events where stale.contains(event.sequence) {
            eventFrame(event).withUnsafeBytes {
                JournalRecord.write($0, sequence: event.sequence, into: stale.slot(event.sequence))
            }
        }
    }

    /// For every length `k` of a run's log: the journal holds records 1...k, record k + 1 is
    /// torn, and stale valid records of another run lie beyond (in the same segment and in a
    /// later file). Recovery rebuilds exactly what the k records describe — the last command
    /// whole, its missing events as the unpublished tail — and clears the rest, so the tail and
    /// the run's continuation journal without a gap and a later recovery never meets a stale
    /// record.
    @Test func aTornRecordEndsTheJournalWhereverItFallsAndNothingBeyondIsEverRead() throws {
        var run = try RecordedRun(seed: 23)
        run.run(70)
        var other = try RecordedRun(seed: 24)
        other.run(200)
        #expect(run.log.count > 70 && other.log.count > run.log.count + 40)
        let slots = 16
        var cutsInsideCommands = 0
        for k in 0..<run.log.count {
            try withTemporaryFolder { dir in
                try Self.journalNew(dir, run.log[0...k], slots: slots)
                let torn = try #require(try slotLocation(dir, sequence: UInt64(k + 1)))
                for byte in [3, 40, 41] { flipByte(torn.path, at: torn.offset + JournalRecord.headerSize + byte) }
                try Self.plantStaleRecords(
                    dir, other.log[(k + 1)..<(k + 30)], oddFirst: UInt64(k + 1 + slots + 3))

                // 1. Recovery stops before the torn record.
                let end = k == 0 ? 0 : run.ends[run.command(containing: k - 1)]
                let (engine, recovery, writer) = try TestShard.recover(dir, slotsPerSegment: slots)
                #expect(recovery.lastJournaled == UInt64(k), "k \(k)")
                #expect(writer.nextSequence == UInt64(k + 1))
                #expect(recovery.replay.unpublishedTail == Array(run.log[k..<end]), "k \(k)")
                #expect(engine.stateHash() == run.hash(rebuiltFrom: k, empty: Self.emptyHash), "k \(k)")
                #expect(engine.nextSequence == UInt64(end + 1))
                if end > k { cutsInsideCommands += 1 }
                // Everything beyond is gone: no record after k, no segment file starting after k + 1.
                let reader = try JournalReader(directory: dir)
                for sequence in UInt64(k + 1)...UInt64(k + 30) {
                    #expect(try reader.frame(sequence) == nil, "k \(k): stale record \(sequence) kept")
                }
                #expect(try Self.segmentFirsts(dir).allSatisfy { $0 <= UInt64(k + 1) }, "k \(k)")

                // 2. The shard journals the tail first: the journal then ends with that command.
                journal(recovery.replay.unpublishedTail, to: writer)
                let second = try TestShard.recover(dir, slotsPerSegment: slots)
                #expect(second.recovery.lastJournaled == UInt64(end), "k \(k)")
                #expect(second.recovery.replay.unpublishedTail.isEmpty)
                #expect(second.engine.stateHash() == run.hash(rebuiltFrom: end, empty: Self.emptyHash))

                // 3. The run's continuation, journaled after it, recovers to the run's final state.
                journal(run.log[end...], to: second.writer)
                let third = try TestShard.recover(dir, slotsPerSegment: slots)
                #expect(third.recovery.lastJournaled == UInt64(run.log.count), "k \(k)")
                Self.expectSameBooks(third.engine, run.engine)
            }
        }
        #expect(cutsInsideCommands > 10)
    }

    @Test func aLaterSegmentFileWithNoRecordIsRemovedAndTheWriterRollsOverCleanly() throws {
        try withTemporaryFolder { dir in
            var run = try RecordedRun(seed: 31)
            run.run(100)
            let half = run.ends[49]
            try Self.journalNew(dir, run.log[0..<half], slots: 8)
            // A segment prepared ahead (empty) and an unrelated later one.
            let next = (UInt64(half) / 8 + 1) * 8 + 1
            for first in [next, next + 8, next + 100] {
                _ = try JournalSegment.create(
                    directory: dir, first: first, slotCount: 8, shard: 0, identityText: TestShard.identity,
                    fingerprint: TestShard.fingerprint, createdNanos: 0, sync: false)
            }
            let (_, recovery, writer) = try TestShard.recover(dir, slotsPerSegment: 8)
            #expect(recovery.lastJournaled == UInt64(half))
            #expect(try Self.segmentFirsts(dir).allSatisfy { $0 <= UInt64(half + 1) })
            journal(run.log[half...], to: writer)
            let again = try TestShard.recover(dir, slotsPerSegment: 8)
            Self.expectSameBooks(again.engine, run.engine)
        }
    }

    /// The segment size is a setting: a journal written with one size continues, and recovers,
    /// with others (segments of several sizes side by side).
    @Test func theSegmentSizeCanChangeBetweenLives() throws {
        try withTemporaryFolder { dir in
            var run = try RecordedRun(seed: 33)
            run.run(60)
            try Self.journalNew(dir, run.log, slots: 8)
            var journaled = run.log.count
            for slots in [5, 13, 1, 64] {
                let (engine, recovery, writer) = try TestShard.recover(dir, slotsPerSegment: slots)
                #expect(recovery.lastJournaled == UInt64(journaled))
                Self.expectSameBooks(engine, run.engine)
                run.run(40)
                journal(run.log[journaled...], to: writer)
                journaled = run.log.count
            }
            Self.expectSameBooks(try TestShard.recover(dir, slotsPerSegment: 8).engine, run.engine)
        }
    }

    /// A segment whose header is damaged stops recovery with `.corrupt` naming it, and nothing
    /// is deleted or cleared.
    @Test(arguments: [0, 3, -1])
    func aSegmentWithADamagedHeaderIsRefusedUntouched(index: Int) throws {
        try withTemporaryFolder { dir in
            var run = try RecordedRun(seed: 34)
            run.run(60)
            try Self.journalNew(dir, run.log, slots: 8)
            let segments = try JournalDirectory.segments(dir)
            let damaged = segments[index >= 0 ? index : segments.count + index].path
            flipByte(damaged, at: 20)
            let before = try fileNames(dir).map { try readFile(dir + "/" + $0) }
            do {
                _ = try TestShard.recover(dir, slotsPerSegment: 8)
                Issue.record("recovered")
            } catch {
                #expect(isCorrupt(error, path: damaged), "\(error)")
            }
            #expect(try fileNames(dir).map { try readFile(dir + "/" + $0) } == before)
        }
    }

    // MARK: Snapshots

    /// A run with snapshots of the engine taken after the commands at `at` (each a boundary).
    static func runWithSnapshots(
        seed: UInt64, commands: Int, at: [Int]
    ) throws -> (run: RecordedRun, snapshots: [SnapshotFile]) {
        var run = try RecordedRun(seed: seed)
        var snapshots: [SnapshotFile] = []
        var done = 0
        for index in at {
            run.run(index + 1 - done)
            done = index + 1
            snapshots.append(
                SnapshotFile(
                    sequence: run.engine.nextSequence - 1, identityText: TestShard.identity,
                    fingerprint: TestShard.fingerprint, body: run.engine.snapshotBytes(), createdNanos: 0))
        }
        run.run(commands - done)
        return (run, snapshots)
    }

    @Test(arguments: [8, 64])
    func recoveryStartsFromTheNewestSnapshotAndReachesTheSameState(slots: Int) throws {
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.runWithSnapshots(seed: 41, commands: 300, at: [99, 199])
            try Self.journalNew(dir, run.log, slots: slots)
            for snapshot in snapshots { try snapshot.write(directory: dir) }
            let (engine, recovery, writer) = try TestShard.recover(dir, slotsPerSegment: slots)
            #expect(recovery.snapshotSequence == snapshots[1].sequence)
            #expect(recovery.snapshotPath == dir + "/" + SnapshotFile.fileName(sequence: snapshots[1].sequence))
            #expect(recovery.skippedSnapshots.isEmpty)
            #expect(recovery.replay.events == run.log.count - Int(snapshots[1].sequence))
            #expect(recovery.lastJournaled == UInt64(run.log.count))
            #expect(writer.nextSequence == UInt64(run.log.count + 1))
            #expect(engine.invariantViolations() == [])
            Self.expectSameBooks(engine, run.engine)
        }
    }

    @Test func aSnapshotAtTheEndOfTheJournalLeavesNothingToReplay() throws {
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.runWithSnapshots(seed: 42, commands: 120, at: [119])
            try Self.journalNew(dir, run.log, slots: 16)
            try snapshots[0].write(directory: dir)
            let (engine, recovery, writer) = try TestShard.recover(dir, slotsPerSegment: 16)
            #expect(recovery.snapshotSequence == UInt64(run.log.count))
            #expect(recovery.replay.events == 0)
            #expect(recovery.lastJournaled == UInt64(run.log.count))
            #expect(writer.nextSequence == UInt64(run.log.count + 1))
            Self.expectSameBooks(engine, run.engine)
        }
    }

    /// A torn record after a snapshot: recovery restores the snapshot and replays up to the tear
    /// (the last command whole); a torn record the snapshot covers is never read.
    @Test func aTornRecordAfterOrBeforeTheSnapshotEndsOrDoesNotMatter() throws {
        let (run, snapshots) = try Self.runWithSnapshots(seed: 46, commands: 200, at: [100])
        let snapshotSequence = Int(snapshots[0].sequence)
        let cuts =
            [snapshotSequence, snapshotSequence + 1, snapshotSequence + 2, snapshotSequence + 3]
            + Array(stride(from: snapshotSequence + 5, to: run.log.count, by: 11))
        for k in cuts {
            try withTemporaryFolder { dir in
                try Self.journalNew(dir, run.log, slots: 16)
                try snapshots[0].write(directory: dir)
                let torn = try #require(try slotLocation(dir, sequence: UInt64(k + 1)))
                flipByte(torn.path, at: torn.offset + JournalRecord.headerSize + 50)
                let end = run.ends[run.command(containing: k - 1)]
                let (engine, recovery, writer) = try TestShard.recover(dir, slotsPerSegment: 16)
                #expect(recovery.snapshotSequence == UInt64(snapshotSequence))
                #expect(recovery.lastJournaled == UInt64(k), "k \(k)")
                #expect(recovery.replay.unpublishedTail == Array(run.log[k..<end]), "k \(k)")
                #expect(engine.stateHash() == run.hash(rebuiltFrom: k, empty: Self.emptyHash), "k \(k)")
                #expect(writer.nextSequence == UInt64(k + 1))
            }
        }
        // Torn before the snapshot: the whole journal after the snapshot replays.
        try withTemporaryFolder { dir in
            try Self.journalNew(dir, run.log, slots: 16)
            try snapshots[0].write(directory: dir)
            let torn = try #require(try slotLocation(dir, sequence: UInt64(snapshotSequence - 3)))
            flipByte(torn.path, at: torn.offset + JournalRecord.headerSize + 50)
            let (engine, recovery, _) = try TestShard.recover(dir, slotsPerSegment: 16)
            #expect(recovery.lastJournaled == UInt64(run.log.count))
            Self.expectSameBooks(engine, run.engine)
        }
    }

    /// Whichever byte of the newest snapshot is damaged (header, identity, body) or however it
    /// is cut, recovery skips it, says so, and goes on from the older one.
    @Test(arguments: [0, 8, 12, 16, 20, 24, 32, 40, 48, 56, 60, -1, -2, -3])
    func aDamagedNewestSnapshotFallsBackToTheOlderOne(damage: Int) throws {
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.runWithSnapshots(seed: 43, commands: 250, at: [80, 160])
            try Self.journalNew(dir, run.log, slots: 16)
            let older = try snapshots[0].write(directory: dir)
            let newest = try snapshots[1].write(directory: dir)
            let size = try readFile(newest).count
            switch damage {
            case -1: flipByte(newest, at: size - 1, with: 0x10)  // the body's last byte
            case -2: truncateFile(newest, to: size - 1)
            case -3: truncateFile(newest, to: 0)
            default: flipByte(newest, at: damage, with: 0x04)
            }
            let (engine, recovery, _) = try TestShard.recover(dir, slotsPerSegment: 16)
            #expect(recovery.snapshotPath == older)
            #expect(recovery.snapshotSequence == snapshots[0].sequence)
            #expect(recovery.skippedSnapshots.count == 1)
            #expect(recovery.skippedSnapshots.first?.contains(newest) == true, "\(recovery.skippedSnapshots)")
            Self.expectSameBooks(engine, run.engine)
        }
    }

    @Test func everySnapshotDamagedFallsBackToTheWholeJournal() throws {
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.runWithSnapshots(seed: 44, commands: 150, at: [50, 100])
            try Self.journalNew(dir, run.log, slots: 16)
            for snapshot in snapshots { flipByte(try snapshot.write(directory: dir), at: 70) }
            let (engine, recovery, _) = try TestShard.recover(dir, slotsPerSegment: 16)
            #expect(recovery.snapshotPath == nil)
            #expect(recovery.skippedSnapshots.count == 2)
            // Newest first.
            let names = snapshots.reversed().map { SnapshotFile.fileName(sequence: $0.sequence) }
            #expect(
                zip(recovery.skippedSnapshots, names).allSatisfy { $0.contains($1) }, "\(recovery.skippedSnapshots)")
            Self.expectSameBooks(engine, run.engine)
        }
    }

    /// The service's origin tags reach every recovered order: restored from the snapshot or
    /// replayed from the journal (a maker's fills go back to its gateway).
    @Test func recoveredOrdersCarryTheOriginTheServiceGives() throws {
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.runWithSnapshots(seed: 45, commands: 300, at: [150])
            try Self.journalNew(dir, run.log, slots: 16)
            try snapshots[0].write(directory: dir)
            let engine = try TestShard.engine()
            _ = try ShardJournal.recover(
                directory: dir, shard: 0, identityText: TestShard.identity, fingerprint: TestShard.fingerprint,
                settings: TestShard.settings(dir, slotsPerSegment: 16), engine: engine
            ) { id in UInt16(truncatingIfNeeded: id.rawValue % 1_000 + 1) }
            var makers = 0
            for s in 0..<TestShard.symbols.count {
                for side in Side.allCases {
                    let symbol = SymbolID(UInt32(s))
                    for order in engine.restingOrders(symbol, side) {
                        // Take it out with a marketable order of another account, sized to it.
                        engine.submit(
                            .new(
                                NewOrder(
                                    id: OrderID(1 << 50 + UInt64(makers)), account: AccountID(99), symbol: symbol,
                                    side: side.opposite, type: .market, quantity: order.leavesQuantity)))
                        guard
                            case .fill(let fill)? = engine.events.first(where: {
                                if case .fill = $0 { true } else { false }
                            })
                        else {
                            Issue.record("no fill against \(order)")
                            continue
                        }
                        #expect(fill.makerID == order.id)
                        #expect(fill.makerOrigin == UInt16(order.id.rawValue % 1_000 + 1))
                        makers += 1
                    }
                }
            }
            #expect(makers > 10)
        }
    }

    // MARK: Another shard's files

    static func expectIdentityMismatch(
        _ dir: String, path: String, identity: String = TestShard.identity,
        fingerprint: UInt64 = TestShard.fingerprint, stored: String? = nil
    ) throws {
        let before = try fileNames(dir).map { ($0, try readFile(dir + "/" + $0)) }
        do {
            _ = try TestShard.recover(dir, slotsPerSegment: 16, identity: identity, fingerprint: fingerprint)
            Issue.record("recovered")
        } catch let error as JournalError {
            guard case .identityMismatch(let named, let storedText, let configured) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(named == path)
            #expect(configured == identity)
            if let stored { #expect(storedText == stored) }
        }
        // Nothing was changed or deleted.
        let after = try fileNames(dir).map { ($0, try readFile(dir + "/" + $0)) }
        #expect(before.map(\.0) == after.map(\.0))
        #expect(before.map(\.1) == after.map(\.1))
    }

    @Test func aJournalOfAnotherConfigurationIsRefusedUntouched() throws {
        try withTemporaryFolder { dir in
            var run = try RecordedRun(seed: 51)
            run.run(60)
            try Self.journalNew(dir, run.log, slots: 16)
            let first = dir + "/" + JournalSegment.fileName(first: 1)
            // Another text with the same fingerprint, and the same text with another fingerprint.
            try Self.expectIdentityMismatch(
                dir, path: first, identity: TestShard.identity + ",CCC", stored: TestShard.identity)
            try Self.expectIdentityMismatch(dir, path: first, fingerprint: TestShard.fingerprint ^ 1)
        }
    }

    @Test func aSegmentOrSnapshotOfAnotherShardIsRefusedByName() throws {
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.runWithSnapshots(seed: 52, commands: 100, at: [50])
            try Self.journalNew(dir, run.log, slots: 16)
            // A later segment written under another identity.
            let foreign = try JournalSegment.create(
                directory: dir, first: UInt64(run.log.count + 40), slotCount: 16, shard: 0,
                identityText: "shard=0 symbols=OTHER", fingerprint: 77, createdNanos: 0, sync: false
            ).path
            try Self.expectIdentityMismatch(dir, path: foreign, stored: "shard=0 symbols=OTHER")
            removeFile(foreign)
            // The newest snapshot written under another identity (checked, not skipped).
            var other = snapshots[0]
            other.identityText = "shard=0 symbols=OTHER"
            other.fingerprint = 77
            let path = try other.write(directory: dir)
            try Self.expectIdentityMismatch(dir, path: path, stored: "shard=0 symbols=OTHER")
        }
    }

    // MARK: Missing segments and pruning

    @Test func segmentsDeletedBeforeASnapshotStillRecover() throws {
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.runWithSnapshots(seed: 61, commands: 200, at: [150])
            try Self.journalNew(dir, run.log, slots: 8)
            try snapshots[0].write(directory: dir)
            let covered = try JournalDirectory.segments(dir).filter { $0.first + 8 <= snapshots[0].sequence + 1 }
            #expect(covered.count > 5)
            for file in covered { removeFile(file.path) }
            let (engine, recovery, _) = try TestShard.recover(dir, slotsPerSegment: 8)
            #expect(recovery.snapshotSequence == snapshots[0].sequence)
            Self.expectSameBooks(engine, run.engine)
        }
    }

    /// Recovery with events missing refuses with `.replay` and deletes nothing: it never
    /// rebuilds an older state and hands out sequence numbers that were already published.
    ///
    /// `index`: the segment deleted (0: the first, no snapshot; 4: a middle one, no snapshot; -2:
    /// the one before the last, after a snapshot).
    @Test(arguments: [0, 4, -2])
    func missingEventsThatNoSnapshotCoversAreAReplayErrorAndNothingIsDeleted(index: Int) throws {
        let snapshot = index < 0
        let name = "segment \(index)"
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.runWithSnapshots(seed: 62, commands: 200, at: [60])
            try Self.journalNew(dir, run.log, slots: 8)
            if snapshot { try snapshots[0].write(directory: dir) }
            let segments = try JournalDirectory.segments(dir)
            #expect(segments.count > 8)
            removeFile(segments[index >= 0 ? index : segments.count + index].path)
            let before = fileNames(dir)
            do {
                let (_, recovery, _) = try TestShard.recover(dir, slotsPerSegment: 8)
                Issue.record("\(name): recovered up to \(recovery.lastJournaled) of \(run.log.count)")
            } catch let error as JournalError {
                guard case .replay = error else {
                    Issue.record("\(name): \(error)")
                    return
                }
            }
            #expect(fileNames(dir) == before, "\(name)")
        }
    }

    static func pruneFixture(_ dir: String) throws -> (run: RecordedRun, snapshots: [SnapshotFile]) {
        let (run, snapshots) = try Self.runWithSnapshots(seed: 71, commands: 400, at: [100, 200, 300])
        try Self.journalNew(dir, run.log, slots: 16)
        for snapshot in snapshots { try snapshot.write(directory: dir) }
        return (run, snapshots)
    }

    @Test(arguments: [0, 1, 3])
    func pruneKeepsTheNewestSnapshotsAndOnlySegmentsTheOldestKeptOneDoesNotCover(keepSegments: Int) throws {
        try withTemporaryFolder { dir in
            let (run, snapshots) = try Self.pruneFixture(dir)
            let segments = try JournalDirectory.segments(dir)
            let oldestKept = snapshots[1].sequence
            // Covered: every event of the segment is in the snapshot (the next segment starts at or
            // before the snapshot's sequence + 1).
            let covered = segments.indices.filter { i in
                i + 1 < segments.count && segments[i + 1].first <= oldestKept + 1
            }.map { segments[$0].path }
            #expect(covered.count > keepSegments + 2)
            let deleted = try ShardJournal.prune(directory: dir, keepSnapshots: 2, keepSegments: keepSegments)
            let expected =
                [dir + "/" + SnapshotFile.fileName(sequence: snapshots[0].sequence)]
                + covered.dropLast(keepSegments)
            #expect(Set(deleted) == Set(expected))
            #expect(deleted.count == expected.count)
            #expect(
                try JournalDirectory.snapshots(dir).map(\.sequence) == [snapshots[1].sequence, snapshots[2].sequence])
            #expect(
                try JournalDirectory.segments(dir).map(\.path) == segments.map(\.path).filter { !deleted.contains($0) })
            // The kept files still recover, and still do when the newest snapshot is damaged.
            Self.expectSameBooks(try TestShard.recover(dir, slotsPerSegment: 16).engine, run.engine)
            flipByte(try snapshots[2].write(directory: dir), at: 100)
            let fallback = try TestShard.recover(dir, slotsPerSegment: 16)
            #expect(fallback.recovery.snapshotSequence == oldestKept)
            Self.expectSameBooks(fallback.engine, run.engine)
        }
    }

    @Test func pruneWithoutSegmentLimitOrSnapshotsDeletesNoSegment() throws {
        try withTemporaryFolder { dir in
            let (_, snapshots) = try Self.pruneFixture(dir)
            let segments = try JournalDirectory.segments(dir).map(\.path)
            let deleted = try ShardJournal.prune(directory: dir, keepSnapshots: 1, keepSegments: -1)
            #expect(
                Set(deleted)
                    == Set(snapshots.dropLast().map { dir + "/" + SnapshotFile.fileName(sequence: $0.sequence) }))
            #expect(try JournalDirectory.segments(dir).map(\.path) == segments)
        }
        try withTemporaryFolder { dir in
            var run = try RecordedRun(seed: 72)
            run.run(100)
            try Self.journalNew(dir, run.log, slots: 8)
            let before = fileNames(dir)
            #expect(try ShardJournal.prune(directory: dir, keepSnapshots: 2, keepSegments: 0) == [])
            #expect(fileNames(dir) == before)
        }
    }

    @Test func temporaryFilesOfAnInterruptedWriteAreRemovedAtRecovery() throws {
        try withTemporaryFolder { dir in
            var run = try RecordedRun(seed: 81)
            run.run(50)
            try Self.journalNew(dir, run.log, slots: 16)
            try writeFile(dir + "/" + JournalSegment.fileName(first: 999) + ".tmp", [1, 2, 3])
            try writeFile(dir + "/" + SnapshotFile.fileName(sequence: 20) + ".tmp", [4, 5])
            let (engine, _, _) = try TestShard.recover(dir, slotsPerSegment: 16)
            #expect(!fileNames(dir).contains { $0.hasSuffix(".tmp") })
            Self.expectSameBooks(engine, run.engine)
        }
    }
}
