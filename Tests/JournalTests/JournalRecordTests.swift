import Journal
import Testing

/// `JournalRecord`: a slot holds one frame with its sequence, length and checksum; anything torn,
/// stale or never written reads as nil.
@Suite struct JournalRecordTests {
    /// A zeroed slot, as a fresh segment holds.
    static func withSlot<T>(_ body: (UnsafeMutableRawPointer) throws -> T) rethrows -> T {
        let slot = UnsafeMutableRawPointer.allocate(byteCount: JournalRecord.slotSize, alignment: 8)
        defer { slot.deallocate() }
        slot.initializeMemory(as: UInt8.self, repeating: 0, count: JournalRecord.slotSize)
        return try body(slot)
    }

    static func frameBytes(_ slot: UnsafeMutableRawPointer, sequence: UInt64) -> [UInt8]? {
        JournalRecord.read(UnsafeRawPointer(slot), sequence: sequence).map { Array($0) }
    }

    @Test func layoutConstantsMatchTheDocumentedTable() {
        #expect(JournalRecord.slotSize == 128)
        #expect(JournalRecord.headerSize == 16)
        #expect(JournalRecord.maxFrameSize == 112)
    }

    @Test func framesOfEveryValidLengthRoundTrip() {
        for length in 1...JournalRecord.maxFrameSize {
            let frame = patternFrame(count: length, seed: UInt64(length))
            let sequence = UInt64(length) * 1_000_003
            Self.withSlot { slot in
                frame.withUnsafeBytes { JournalRecord.write($0, sequence: sequence, into: slot) }
                #expect(Self.frameBytes(slot, sequence: sequence) == frame, "length \(length)")
                // The layout of the table: sequence, length, then the frame at byte 16.
                #expect(slot.loadUnaligned(as: UInt64.self) == sequence.littleEndian)
                #expect(slot.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == UInt32(length).littleEndian)
                #expect(Array(UnsafeRawBufferPointer(start: slot + 16, count: length)) == frame)
            }
        }
    }

    @Test func aFrameOfZerosAndTheLargestSequenceRoundTrip() {
        let frame = [UInt8](repeating: 0, count: 96)
        Self.withSlot { slot in
            frame.withUnsafeBytes { JournalRecord.write($0, sequence: .max, into: slot) }
            #expect(Self.frameBytes(slot, sequence: .max) == frame)
        }
    }

    @Test func aSlotReadWithAnotherSequenceIsNil() {
        let frame = patternFrame(count: 96, seed: 7)
        Self.withSlot { slot in
            frame.withUnsafeBytes { JournalRecord.write($0, sequence: 42, into: slot) }
            for other: UInt64 in [0, 1, 41, 43, 42 + 1 << 32, .max] {
                #expect(Self.frameBytes(slot, sequence: other) == nil, "read as \(other)")
            }
            #expect(Self.frameBytes(slot, sequence: 42) == frame)
        }
    }

    @Test func anAllZeroSlotIsNilForEverySequence() {
        Self.withSlot { slot in
            for sequence: UInt64 in [0, 1, 2, 1 << 40, .max] {
                #expect(Self.frameBytes(slot, sequence: sequence) == nil)
            }
        }
    }

    /// Every value of every byte of the record (sequence, length, checksum and the frame's
    /// bytes) is caught, for frame lengths on and off the 8-byte words.
    @Test(arguments: [1, 7, 8, 9, 63, 96, 111, 112])
    func anyChangeToOneByteOfTheRecordMakesItNil(length: Int) {
        let frame = patternFrame(count: length, seed: 99 &+ UInt64(length))
        let sequence: UInt64 = 0x0102_0304_0506_0708
        Self.withSlot { slot in
            frame.withUnsafeBytes { JournalRecord.write($0, sequence: sequence, into: slot) }
            let bytes = slot.assumingMemoryBound(to: UInt8.self)
            var missed: [String] = []
            for offset in 0..<(JournalRecord.headerSize + length) {
                let original = bytes[offset]
                for mask in 1...255 {
                    bytes[offset] = original ^ UInt8(mask)
                    if JournalRecord.read(UnsafeRawPointer(slot), sequence: sequence) != nil {
                        missed.append("byte \(offset) ^ \(mask)")
                    }
                }
                bytes[offset] = original
            }
            #expect(missed.isEmpty, "undetected: \(missed.prefix(10))")
            #expect(Self.frameBytes(slot, sequence: sequence) == frame)
        }
    }

    /// A slot rewritten with a shorter frame for the same sequence reads the new frame only: the
    /// old frame's bytes beyond the new length are not part of the record.
    @Test func aRewrittenSlotReadsTheNewFrame() {
        let long = patternFrame(count: 112, seed: 1)
        let short = patternFrame(count: 20, seed: 2)
        Self.withSlot { slot in
            long.withUnsafeBytes { JournalRecord.write($0, sequence: 5, into: slot) }
            short.withUnsafeBytes { JournalRecord.write($0, sequence: 5, into: slot) }
            #expect(Self.frameBytes(slot, sequence: 5) == short)
        }
    }

    /// A record torn by a crash mid-copy: the new sequence and some of the new frame over an
    /// older record's length and checksum (or the reverse) never reads as valid.
    @Test func aHalfWrittenRecordIsNil() {
        let old = patternFrame(count: 96, seed: 3)
        let new = patternFrame(count: 96, seed: 4)
        Self.withSlot { slot in
            old.withUnsafeBytes { JournalRecord.write($0, sequence: 10, into: slot) }
            let complete = UnsafeMutableRawPointer.allocate(byteCount: JournalRecord.slotSize, alignment: 8)
            defer { complete.deallocate() }
            complete.copyMemory(from: slot, byteCount: JournalRecord.slotSize)
            new.withUnsafeBytes { JournalRecord.write($0, sequence: 11, into: complete) }
            // Copy the complete new record over the old one in 8-byte pieces, checking each prefix
            // and each suffix: only the whole new record is valid for 11, only the old one for 10.
            for cut in stride(from: 0, through: JournalRecord.slotSize, by: 8) {
                for prefixFirst in [true, false] {
                    let torn = UnsafeMutableRawPointer.allocate(byteCount: JournalRecord.slotSize, alignment: 8)
                    defer { torn.deallocate() }
                    torn.copyMemory(from: slot, byteCount: JournalRecord.slotSize)
                    let range = prefixFirst ? 0..<cut : cut..<JournalRecord.slotSize
                    (torn + range.lowerBound).copyMemory(from: complete + range.lowerBound, byteCount: range.count)
                    let asNew = JournalRecord.read(UnsafeRawPointer(torn), sequence: 11).map { Array($0) }
                    let asOld = JournalRecord.read(UnsafeRawPointer(torn), sequence: 10).map { Array($0) }
                    // The record is its first 16 + 96 bytes: the new one is whole when all of them
                    // were copied, the old one when none of them was.
                    let recordBytes = 0..<(JournalRecord.headerSize + 96)
                    let newWhole = range.clamped(to: recordBytes) == recordBytes
                    let oldWhole = range.clamped(to: recordBytes).isEmpty
                    #expect(asNew == (newWhole ? new : nil), "new record, cut \(cut) prefix \(prefixFirst)")
                    #expect(asOld == (oldWhole ? old : nil), "old record, cut \(cut) prefix \(prefixFirst)")
                }
            }
        }
    }
}
