import Journal
import Testing

/// `JournalSegment`: a preallocated, mapped file whose header is written whole before the file
/// gets its name, and refused when anything in it is damaged.
@Suite struct JournalSegmentTests {
    static let identity = "shard=3 symbols=X/1/1/1/1000/1/100000 trades=X"

    static func create(
        _ directory: String, first: UInt64 = 101, slotCount: Int = 16, identity: String = identity,
        sync: Bool = false
    ) throws -> JournalSegment {
        try JournalSegment.create(
            directory: directory, first: first, slotCount: slotCount, shard: 3, identityText: identity,
            fingerprint: 0xFEED_FACE_CAFE_BEEF, createdNanos: 1_700_000_000_000_000_000, sync: sync)
    }

    static func expectHeader(_ segment: JournalSegment, first: UInt64 = 101, slotCount: Int = 16) {
        #expect(segment.firstSequence == first)
        #expect(segment.slotCount == slotCount)
        #expect(segment.lastSequence == first + UInt64(slotCount) - 1)
        #expect(segment.shard == 3)
        #expect(segment.identityText == identity)
        #expect(segment.fingerprint == 0xFEED_FACE_CAFE_BEEF)
    }

    @Test(arguments: [false, true])
    func aCreatedSegmentOpensWithItsHeaderAndLeavesNoTemporaryFile(sync: Bool) throws {
        try withTemporaryFolder { dir in
            let created = try Self.create(dir, sync: sync)
            Self.expectHeader(created)
            #expect(created.writable)
            #expect(created.path == dir + "/" + JournalSegment.fileName(first: 101))
            #expect(fileNames(dir) == [JournalSegment.fileName(first: 101)])
            let size = try readFile(created.path).count
            #expect(size == JournalSegment.headerSize + 16 * JournalRecord.slotSize)
            for writable in [false, true] {
                let opened = try JournalSegment.open(path: created.path, writable: writable)
                Self.expectHeader(opened)
                #expect(opened.writable == writable)
                #expect(opened.path == created.path)
            }
        }
    }

    @Test func anEmptyIdentityAndTheLongestOneRoundTrip() throws {
        try withTemporaryFolder { dir in
            for (first, text) in [(UInt64(1), ""), (2, String(repeating: "é", count: 2_016))] {
                let created = try JournalSegment.create(
                    directory: dir, first: first, slotCount: 1, shard: 0, identityText: text, fingerprint: 0,
                    createdNanos: 0, sync: false)
                let opened = try JournalSegment.open(path: created.path, writable: false)
                #expect(opened.identityText == text)
            }
        }
    }

    @Test func anIdentityLongerThanTheHeaderIsRefusedAndLeavesNoFile() throws {
        try withTemporaryFolder { dir in
            #expect(throws: JournalError.self) {
                _ = try Self.create(dir, identity: String(repeating: "x", count: 4_033))
            }
            #expect(fileNames(dir) == [])
        }
    }

    @Test func framesWrittenThroughOneMappingAreReadThroughAnother() throws {
        try withTemporaryFolder { dir in
            let writer = try Self.create(dir)
            for sequence in writer.firstSequence...writer.lastSequence {
                patternFrame(count: 96, seed: sequence).withUnsafeBytes {
                    JournalRecord.write($0, sequence: sequence, into: writer.slot(sequence))
                }
            }
            let reader = try JournalSegment.open(path: writer.path, writable: false)
            for sequence in reader.firstSequence...reader.lastSequence {
                #expect(reader.frame(sequence).map { Array($0) } == patternFrame(count: 96, seed: sequence))
            }
            #expect(reader.frame(reader.firstSequence - 1) == nil)
            #expect(reader.frame(reader.lastSequence + 1) == nil)
            #expect(!reader.contains(100) && reader.contains(101) && reader.contains(116) && !reader.contains(117))
        }
    }

    @Test(arguments: [UInt64(101), 102, 108, 116, 117, 1_000, 1])
    func clearZeroesExactlyTheSlotsFromASequenceOn(from: UInt64) throws {
        try withTemporaryFolder { dir in
            let segment = try Self.create(dir)
            for sequence in segment.firstSequence...segment.lastSequence {
                patternFrame(count: 112, seed: sequence).withUnsafeBytes {
                    JournalRecord.write($0, sequence: sequence, into: segment.slot(sequence))
                }
            }
            let before = try readFile(segment.path)
            segment.clear(from: from)
            let after = try readFile(segment.path)
            let firstCleared = max(from, segment.firstSequence)
            let clearedOffset =
                firstCleared > segment.lastSequence
                ? after.count
                : JournalSegment.headerSize + Int(firstCleared - segment.firstSequence) * JournalRecord.slotSize
            #expect(after.count == before.count)
            #expect(after[0..<clearedOffset] == before[0..<clearedOffset], "kept bytes changed")
            #expect(after[clearedOffset...].allSatisfy { $0 == 0 }, "cleared bytes not zero")
            for sequence in segment.firstSequence...segment.lastSequence {
                #expect((segment.frame(sequence) != nil) == (sequence < firstCleared))
            }
            // The header is intact.
            Self.expectHeader(try JournalSegment.open(path: segment.path, writable: false))
        }
    }

    @Test func fileNamesRoundTripAndSortByFirstSequence() {
        let firsts: [UInt64] = [1, 9, 10, 64, 1 << 32, UInt64.max / 3, .max]
        for first in firsts {
            let name = JournalSegment.fileName(first: first)
            #expect(name.count == "segment-".count + 20 + ".journal".count, "\(name)")
            #expect(JournalSegment.firstSequence(fileName: name) == first)
        }
        let names = firsts.map { JournalSegment.fileName(first: $0) }
        #expect(names.sorted() == names)
    }

    /// Only names the writer gives are segments: a name that `fileName(first:)` would not produce
    /// is another file (a copy, a temporary file, an editor's backup).
    @Test func otherNamesAreNotSegments() {
        let others = [
            "segment-00000000000000000001.journal.tmp", "segment-00000000000000000001.journa",
            "Segment-00000000000000000001.journal", "segment-.journal", "segment-0000000000000000000x.journal",
            "segment--0000000000000000001.journal", "snapshot-00000000000000000001.snap", "segment.journal",
            "segment-99999999999999999999.journal", "segment-+0000000000000000001.journal", "segment-1.journal",
            "segment-000000000000000000001.journal", "", "segment-",
        ]
        for name in others {
            #expect(JournalSegment.firstSequence(fileName: name) == nil, "\(name)")
        }
    }

    // MARK: Damaged files

    /// Opening `path` (both ways) fails with `.corrupt` naming it.
    static func expectRefused(_ path: String, _ comment: Comment) {
        for writable in [false, true] {
            do {
                _ = try JournalSegment.open(path: path, writable: writable)
                Issue.record("opened: \(comment)")
            } catch {
                #expect(isCorrupt(error, path: path), "\(comment): \(error)")
            }
        }
    }

    /// Every byte the header defines — magic, version, slot size, first, slot count, shard,
    /// fingerprint, created, text length, checksum and the identity text — is checked.
    @Test func aChangeToAnyHeaderByteIsRefusedAsCorrupt() throws {
        try withTemporaryFolder { dir in
            let path = try Self.create(dir).path
            let defined = 64 + Self.identity.utf8.count
            for offset in 0..<defined {
                for mask: UInt8 in [0x01, 0x80, 0xFF] {
                    flipByte(path, at: offset, with: mask)
                    Self.expectRefused(path, "byte \(offset) ^ \(mask)")
                    flipByte(path, at: offset, with: mask)
                }
            }
            Self.expectHeader(try JournalSegment.open(path: path, writable: false))
        }
    }

    @Test(arguments: [0, 1, 8, 63, 64, 4_095])
    func aFileShorterThanTheHeaderIsRefused(size: Int) throws {
        try withTemporaryFolder { dir in
            let path = try Self.create(dir).path
            truncateFile(path, to: size)
            Self.expectRefused(path, "\(size) bytes")
        }
    }

    @Test(arguments: [4_096, 4_096 + 128, 4_096 + 15 * 128, 4_096 + 16 * 128 - 1])
    func aFileShorterThanItsSlotsIsRefused(size: Int) throws {
        try withTemporaryFolder { dir in
            let path = try Self.create(dir).path
            truncateFile(path, to: size)
            Self.expectRefused(path, "\(size) bytes")
        }
    }

    @Test func aFileOfAnotherKindIsRefused() throws {
        try withTemporaryFolder { dir in
            let path = dir + "/" + JournalSegment.fileName(first: 1)
            try writeFile(path, Array("not a journal at all".utf8) + [UInt8](repeating: 0, count: 8_192))
            Self.expectRefused(path, "text")
            try writeFile(path, [UInt8](repeating: 0, count: 8_192))
            Self.expectRefused(path, "zeros")
        }
    }

    @Test func aMissingFileIsASystemError() throws {
        try withTemporaryFolder { dir in
            #expect(throws: JournalError.self) {
                _ = try JournalSegment.open(path: dir + "/" + JournalSegment.fileName(first: 1), writable: false)
            }
        }
    }
}
