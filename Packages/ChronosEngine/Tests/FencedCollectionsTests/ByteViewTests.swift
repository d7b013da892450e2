import FencedCollections
import Testing

/// ``ByteReader`` and ``ByteWriter``: little-endian at any alignment, zero-filled frames, views
/// limited to their frame, and `firstNonZero` over every range of a small frame.
@Suite struct ByteViewTests {
    @Test func fieldsAreLittleEndianAtEveryAlignment() {
        for shift in 0..<8 {
            var buffer = [UInt8](repeating: 0xAA, count: 64)
            buffer.withUnsafeMutableBytes { raw in
                let frame = UnsafeMutableRawBufferPointer(rebasing: raw[shift...])
                let writer = ByteWriter(frame, size: 32)
                #expect(writer.bytes.count == 32)
                writer.put(UInt8(0x01), at: 0)
                writer.put(UInt16(0x0302), at: 1)
                writer.put(UInt32(0x0706_0504), at: 3)
                writer.put(UInt64(0x0F0E_0D0C_0B0A_0908), at: 7)
                writer.put(Int64(-2), at: 15)
                writer.put(true, at: 23)
            }
            let expected: [UInt8] =
                [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xFE]
                + [UInt8](repeating: 0xFF, count: 7) + [1] + [UInt8](repeating: 0, count: 8)
            #expect(Array(buffer[shift..<shift + 32]) == expected, "shift \(shift)")
            // Outside the frame nothing was touched.
            #expect(buffer[..<shift].allSatisfy { $0 == 0xAA } && buffer[(shift + 32)...].allSatisfy { $0 == 0xAA })
            buffer.withUnsafeBytes { raw in
                let reader = ByteReader(UnsafeRawBufferPointer(rebasing: raw[shift...]), size: 32)
                #expect(reader.bytes.count == 32)
                #expect(reader.u8(0) == 1 && reader.u16(1) == 0x0302 && reader.u32(3) == 0x0706_0504)
                #expect(reader.u64(7) == 0x0F0E_0D0C_0B0A_0908 && reader.i64(15) == -2 && reader.u8(23) == 1)
            }
        }
    }

    @Test func firstNonZeroFindsTheFirstSetByteOfEveryRange() {
        let size = 40
        for set in [nil] + (0..<size).map(Optional.some) {
            var buffer = [UInt8](repeating: 0, count: size)
            if let set { buffer[set] = 0x80 }
            buffer.withUnsafeBytes { raw in
                let reader = ByteReader(raw)
                for lower in 0...size {
                    for upper in lower...size {
                        let expected = set.flatMap { (lower..<upper).contains($0) ? $0 : nil }
                        #expect(reader.firstNonZero(lower..<upper) == expected)
                    }
                }
            }
        }
    }
}
