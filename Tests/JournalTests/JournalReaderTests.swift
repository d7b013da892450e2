import ChronosCore
import Journal
import Testing

/// `JournalReader`: valid records by sequence, across segments, including segments that appear
/// after the reader was made; `lastContiguous(after:)` stops at the first hole.
@Suite struct JournalReaderTests {
    static func appendAll(_ writer: JournalWriter, _ sequences: ClosedRange<UInt64>) {
        for sequence in sequences {
            #expect(JournalWriterTests.append(writer, sequence))
        }
        writer.commit()
    }

    @Test func aFolderThatDoesNotExistReadsAsEmpty() throws {
        try withTemporaryFolder { dir in
            let reader = try JournalReader(directory: dir + "/shard-9")
            #expect(reader.firstSequence == nil)
            #expect(reader.segmentFiles.isEmpty)
            #expect(try reader.frame(1) == nil)
            #expect(try reader.lastContiguous(after: 0) == 0)
        }
    }

    /// Listing a folder reads each directory entry's name only: many entries, of every name
    /// length, some of them segments and snapshots, are listed right, again and again.
    @Test func foldersWithManyFilesAreListedRight() throws {
        try withTemporaryFolder { dir in
            var segments: [UInt64] = []
            var snapshots: [UInt64] = []
            for i in 0..<1_200 {
                switch i % 3 {
                case 0:
                    segments.append(UInt64(i + 1))
                    try writeFile(dir + "/" + JournalSegment.fileName(first: UInt64(i + 1)), [])
                case 1:
                    snapshots.append(UInt64(i))
                    try writeFile(dir + "/" + SnapshotFile.fileName(sequence: UInt64(i)), [])
                default:
                    try writeFile(dir + "/" + String(repeating: "n", count: 1 + i % 200), [])
                }
            }
            for _ in 0..<20 {
                #expect(try JournalDirectory.segments(dir).map(\.first) == segments)
                #expect(try JournalDirectory.snapshots(dir).map(\.sequence) == snapshots)
            }
        }
    }

    @Test func theReaderFollowsSegmentsThatAppearAfterIt() throws {
        try withTemporaryFolder { dir in
            let writer = try JournalWriterTests.writer(dir, slots: 4)
            Self.appendAll(writer, 1...10)
            let reader = try JournalReader(directory: dir)
            #expect(reader.firstSequence == 1)
            #expect(try reader.lastContiguous(after: 0) == 10)
            // Read what exists, then let the writer roll over several times, and read on.
            Self.appendAll(writer, 11...41)
            for sequence: UInt64 in 1...41 {
                #expect(try reader.frame(sequence).map { Array($0) } == JournalWriterTests.frame(sequence))
            }
            #expect(try reader.frame(42) == nil)
            #expect(try reader.frame(0) == nil)
            #expect(try reader.lastContiguous(after: 0) == 41)
            #expect(try reader.lastContiguous(after: 41) == 41)
            Self.appendAll(writer, 42...60)
            #expect(try reader.lastContiguous(after: 41) == 60)
            // Backward and scattered reads, beyond the few segments kept mapped.
            for sequence in stride(from: UInt64(60), through: 1, by: -7) {
                #expect(try reader.frame(sequence).map { Array($0) } == JournalWriterTests.frame(sequence))
            }
        }
    }

    @Test(arguments: [UInt64(1), 2, 4, 5, 23, 37, 40])
    func lastContiguousStopsBeforeATornRecord(torn: UInt64) throws {
        try withTemporaryFolder { dir in
            let writer = try JournalWriterTests.writer(dir, slots: 4)
            Self.appendAll(writer, 1...40)
            let slot = try #require(try slotLocation(dir, sequence: torn))
            patchFile(slot.path, at: slot.offset + JournalRecord.headerSize + 0, [0xDE, 0xAD])
            let reader = try JournalReader(directory: dir)
            #expect(try reader.frame(torn) == nil)
            #expect(try reader.lastContiguous(after: 0) == torn - 1)
            #expect(try reader.lastContiguous(after: torn) == 40)
            #expect(try reader.frame(torn + 1) != nil || torn == 40)
        }
    }

    @Test func lastContiguousStopsAtAMissingSegment() throws {
        try withTemporaryFolder { dir in
            let writer = try JournalWriterTests.writer(dir, slots: 4)
            Self.appendAll(writer, 1...40)
            removeFile(dir + "/" + JournalSegment.fileName(first: 13))
            let reader = try JournalReader(directory: dir)
            #expect(try reader.lastContiguous(after: 0) == 12)
            #expect(try reader.frame(14) == nil)
            #expect(try reader.lastContiguous(after: 16) == 40)
        }
    }

    @Test func aRecordOfAnotherSequenceInASlotIsNotRead() throws {
        try withTemporaryFolder { dir in
            let writer = try JournalWriterTests.writer(dir, slots: 4)
            Self.appendAll(writer, 1...8)
            // Slot 6 gets the bytes of slot 5: a valid record, but of sequence 5.
            let five = try #require(try slotLocation(dir, sequence: 5))
            let six = try #require(try slotLocation(dir, sequence: 6))
            let bytes = try readFile(five.path)
            patchFile(six.path, at: six.offset, Array(bytes[five.offset..<(five.offset + JournalRecord.slotSize)]))
            let reader = try JournalReader(directory: dir)
            #expect(try reader.frame(6) == nil)
            #expect(try reader.lastContiguous(after: 0) == 5)
        }
    }
}

/// `JournalReader.lastTradePrices`: each symbol's last fill, read backwards, for a restarted risk
/// engine's reference prices.
@Suite struct JournalLastTradeTests {
    static func fill(_ sequence: UInt64, symbol: UInt32, price: Int64) -> EngineEvent {
        .fill(
            Fill(
                sequence: sequence, tradeID: TradeID(sequence), symbol: SymbolID(symbol), takerID: OrderID(sequence),
                makerID: OrderID(1), takerAccount: AccountID(1), makerAccount: AccountID(2), takerSide: .buy,
                price: price, quantity: 1, takerLeaves: 0, makerLeaves: 1))
    }

    static func accepted(_ sequence: UInt64, symbol: UInt32) -> EngineEvent {
        .accepted(
            OrderAccepted(
                sequence: sequence, id: OrderID(sequence), account: AccountID(1), symbol: SymbolID(symbol),
                side: .sell, type: .limit, timeInForce: .goodTillCancel, postOnly: false, price: 999, quantity: 5))
    }

    @Test func theLastFillOfEachSymbolWinsAcrossSegments() throws {
        try withTemporaryFolder { dir in
            let writer = try JournalWriterTests.writer(dir, slots: 4)
            let events: [EngineEvent] = [
                Self.accepted(1, symbol: 0), Self.fill(2, symbol: 0, price: 100), Self.fill(3, symbol: 1, price: 500),
                Self.accepted(4, symbol: 1), Self.fill(5, symbol: 0, price: 105), Self.accepted(6, symbol: 0),
                Self.accepted(7, symbol: 0), Self.accepted(8, symbol: 0), Self.accepted(9, symbol: 1),
            ]
            journal(events, to: writer)
            let reader = try JournalReader(directory: dir)
            let all: Set<SymbolID> = [SymbolID(0), SymbolID(1), SymbolID(2)]
            #expect(
                try reader.lastTradePrices(atOrBefore: 9, symbols: all) == [SymbolID(0): 105, SymbolID(1): 500],
                "symbol 2 never traded")
            #expect(try reader.lastTradePrices(atOrBefore: 4, symbols: all) == [SymbolID(0): 100, SymbolID(1): 500])
            #expect(try reader.lastTradePrices(atOrBefore: 9, symbols: [SymbolID(1)]) == [SymbolID(1): 500])
            #expect(
                try reader.lastTradePrices(atOrBefore: 9, symbols: all, maxRecords: 5) == [SymbolID(0): 105],
                "a bounded read sees only the newest records")
            #expect(try reader.lastTradePrices(atOrBefore: 0, symbols: all).isEmpty)
            #expect(try reader.lastTradePrices(atOrBefore: 1, symbols: all).isEmpty)
        }
    }

    @Test func anEmptyJournalKnowsNoPrice() throws {
        try withTemporaryFolder { dir in
            let reader = try JournalReader(directory: dir + "/shard-0")
            #expect(try reader.lastTradePrices(atOrBefore: 10, symbols: [SymbolID(0)]).isEmpty)
        }
    }
}
