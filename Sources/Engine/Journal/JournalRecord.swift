// JournalRecord: the layout of one journal slot and its checksum.
//
// A segment file is a 4,096-byte header followed by fixed 128-byte slots; slot i of a segment
// whose first sequence is F holds the event with sequence F + i:
//
// ```
// offset size type    field     meaning
// ------ ---- ------- --------- ------------------------------------------------------------
//      0    8 UInt64  sequence  the event's per-shard sequence (0: the slot was never written)
//      8    4 UInt32  length    bytes of the frame that follows (1...112)
//     12    4 UInt32  checksum  `JournalRecord.checksum(sequence:length:frame:)`
//     16  112 bytes   frame     the event's wire frame exactly as published (96 bytes today),
//                               zero padded
// ```
//
// A slot is valid when its sequence is the one its position implies, its length is in range and
// its checksum matches: a slot torn by a crash in the middle of a copy, or never written, fails.
//
// Invariants: every pointer handed to these functions addresses at least `slotSize` bytes.
// Safe because reads and writes stay within `slotSize` bytes of `slot` (the length is checked
// against `maxFrameSize` before it is used).

/// The layout of one 128-byte journal slot (see the table above).
public enum JournalRecord {
    /// Bytes per slot.
    public static let slotSize = 128
    /// Bytes of the slot header (sequence, length, checksum).
    public static let headerSize = 16
    /// The largest frame a slot holds.
    public static let maxFrameSize = slotSize - headerSize

    /// Writes `frame` as the record of `sequence` into `slot`.
    @inline(__always)
    public static func write(_ frame: UnsafeRawBufferPointer, sequence: UInt64, into slot: UnsafeMutableRawPointer) {
        precondition(frame.count > 0 && frame.count <= maxFrameSize, "journal frame size out of range")
        (slot + headerSize).copyMemory(from: frame.baseAddress!, byteCount: frame.count)
        let sum = checksum(sequence: sequence, frame: frame)
        slot.storeBytes(of: UInt32(frame.count).littleEndian, toByteOffset: 8, as: UInt32.self)
        slot.storeBytes(of: sum.littleEndian, toByteOffset: 12, as: UInt32.self)
        slot.storeBytes(of: sequence.littleEndian, toByteOffset: 0, as: UInt64.self)
    }

    /// The frame stored in `slot` when the slot is a valid record of `sequence`, else nil.
    @inline(__always)
    public static func read(_ slot: UnsafeRawPointer, sequence: UInt64) -> UnsafeRawBufferPointer? {
        let stored = UInt64(littleEndian: slot.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard stored == sequence, sequence != 0 else { return nil }
        let length = Int(UInt32(littleEndian: slot.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard length > 0 && length <= maxFrameSize else { return nil }
        let frame = UnsafeRawBufferPointer(start: slot + headerSize, count: length)
        let sum = UInt32(littleEndian: slot.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        return checksum(sequence: sequence, frame: frame) == sum ? frame : nil
    }

    /// A 32-bit checksum of a record: a multiply-xorshift mix over the sequence, the length and
    /// the frame in 8-byte words. Catches torn and stale slots; not a cryptographic hash.
    @inline(__always)
    public static func checksum(sequence: UInt64, frame: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ (sequence &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(frame.count)
        var offset = 0
        while offset + 8 <= frame.count {
            h = mix(h ^ frame.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < frame.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < frame.count {
                tail |= UInt64(frame[offset]) << shift
                shift += 8
                offset += 1
            }
            h = mix(h ^ tail)
        }
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &* 0xBF58_476D_1CE4_E5B9
        z ^= z >> 31
        return z &* 0x94D0_49BB_1331_11EB
    }
}
