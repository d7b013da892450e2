import Journal
import Testing

/// `SnapshotFile`: written whole under a temporary name; any damage reads as `.corrupt`.
@Suite struct SnapshotFileTests {
    static let snapshot = SnapshotFile(
        sequence: 12_345, identityText: "shard=2 symbols=S/1/1/1/10/1/100 trades=S", fingerprint: 0xABCD_EF01_2345_6789,
        body: patternFrame(count: 77, seed: 5), createdNanos: 1_700_000_000_123_456_789)

    static func expectEqual(_ a: SnapshotFile, _ b: SnapshotFile) {
        #expect(a.sequence == b.sequence)
        #expect(a.identityText == b.identityText)
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.body == b.body)
        #expect(a.createdNanos == b.createdNanos)
    }

    /// Reading `path` fails with `.corrupt` naming it.
    static func expectCorrupt(_ path: String, _ comment: Comment) {
        do {
            let read = try SnapshotFile.read(path: path)
            Issue.record("read back sequence \(read.sequence): \(comment)")
        } catch {
            #expect(isCorrupt(error, path: path), "\(comment): \(error)")
        }
    }

    @Test func aWrittenSnapshotReadsBackWholeAndLeavesNoTemporaryFile() throws {
        try withTemporaryFolder { dir in
            let path = try Self.snapshot.write(directory: dir)
            #expect(path == dir + "/" + SnapshotFile.fileName(sequence: 12_345))
            #expect(fileNames(dir) == [SnapshotFile.fileName(sequence: 12_345)])
            Self.expectEqual(try SnapshotFile.read(path: path), Self.snapshot)
        }
    }

    @Test func anEmptyBodyAndAnEmptyIdentityRoundTrip() throws {
        try withTemporaryFolder { dir in
            for (sequence, text, body) in [
                (UInt64(0), "", [UInt8]()), (1, "x", []), (2, "", [7]), (3, "ü", [1, 2, 3]),
            ] {
                let snapshot = SnapshotFile(
                    sequence: sequence, identityText: text, fingerprint: sequence, body: body, createdNanos: 0)
                Self.expectEqual(try SnapshotFile.read(path: try snapshot.write(directory: dir)), snapshot)
            }
        }
    }

    @Test func aSnapshotWrittenAgainReplacesTheFile() throws {
        try withTemporaryFolder { dir in
            var snapshot = Self.snapshot
            try snapshot.write(directory: dir)
            snapshot.body = [1, 2, 3]
            let path = try snapshot.write(directory: dir)
            Self.expectEqual(try SnapshotFile.read(path: path), snapshot)
            #expect(fileNames(dir).count == 1)
        }
    }

    /// Every byte of the file — header fields (sequence, fingerprint and the creation time
    /// included), identity text and body — is covered: a file with a snapshot name is complete
    /// and unchanged, or refused.
    @Test func aChangeToAnyByteOfTheFileIsRefusedAsCorrupt() throws {
        try withTemporaryFolder { dir in
            let path = try Self.snapshot.write(directory: dir)
            let size = try readFile(path).count
            var missed: [Int] = []
            for offset in 0..<size {
                for mask: UInt8 in [0x01, 0x80] {
                    flipByte(path, at: offset, with: mask)
                    do {
                        _ = try SnapshotFile.read(path: path)
                        missed.append(offset)
                    } catch {
                        #expect(isCorrupt(error, path: path), "byte \(offset): \(error)")
                    }
                    flipByte(path, at: offset, with: mask)
                }
            }
            #expect(missed.isEmpty, "changes read back as valid at bytes \(Set(missed).sorted())")
            Self.expectEqual(try SnapshotFile.read(path: path), Self.snapshot)
        }
    }

    @Test func everyTruncationIsRefusedAsCorrupt() throws {
        try withTemporaryFolder { dir in
            let path = try Self.snapshot.write(directory: dir)
            let bytes = try readFile(path)
            for size in 0..<bytes.count {
                try writeFile(path, Array(bytes[0..<size]))
                Self.expectCorrupt(path, "\(size) of \(bytes.count) bytes")
            }
        }
    }

    @Test func trailingBytesAreRefusedAsCorrupt() throws {
        try withTemporaryFolder { dir in
            let path = try Self.snapshot.write(directory: dir)
            let bytes = try readFile(path)
            for extra in [[UInt8(0)], [1], [UInt8](repeating: 0, count: 8), patternFrame(count: 4_096, seed: 1)] {
                try writeFile(path, bytes + extra)
                Self.expectCorrupt(path, "\(extra.count) extra bytes")
            }
        }
    }

    /// Lengths in the header that no file can hold (up to the largest 64-bit value) are refused,
    /// never trusted into an overflow or a huge allocation.
    @Test(arguments: [UInt64.max, UInt64.max - 50, UInt64.max - 97, UInt64(1) << 63, UInt64(1) << 40])
    func anImpossibleBodyLengthIsRefusedAsCorrupt(bodyLength: UInt64) throws {
        try withTemporaryFolder { dir in
            let path = try Self.snapshot.write(directory: dir)
            withUnsafeBytes(of: bodyLength.littleEndian) { patchFile(path, at: 32, Array($0)) }
            Self.expectCorrupt(path, "body length \(bodyLength)")
        }
    }

    @Test func anotherKindOfFileIsRefusedAsCorrupt() throws {
        try withTemporaryFolder { dir in
            let path = dir + "/" + SnapshotFile.fileName(sequence: 1)
            try writeFile(path, [UInt8](repeating: 0, count: 200))
            Self.expectCorrupt(path, "zeros")
            try writeFile(path, Array("CHRNJRNL is a journal segment's magic, not a snapshot's".utf8))
            Self.expectCorrupt(path, "text")
        }
    }

    @Test func fileNamesRoundTripAndRejectOtherNames() {
        for sequence: UInt64 in [0, 1, 10, 99, 1 << 40, .max] {
            let name = SnapshotFile.fileName(sequence: sequence)
            #expect(name.count == "snapshot-".count + 20 + ".snap".count)
            #expect(SnapshotFile.sequence(fileName: name) == sequence)
        }
        for name in [
            "snapshot-00000000000000000001.snap.tmp", "snapshot-.snap", "snapshot-1.snap",
            "snapshot-+0000000000000000001.snap", "segment-00000000000000000001.journal",
            "snapshot-0000000000000000000a.snap", "snapshot-00000000000000000001.snapshot",
        ] {
            #expect(SnapshotFile.sequence(fileName: name) == nil, "\(name)")
        }
    }
}
