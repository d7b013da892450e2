/// Interns byte strings (account and symbol names read off the wire) to dense `UInt32` numbers
/// without building a `String` per lookup.
///
/// Lookups hash the bytes (FNV-1a) into an open-addressing table and compare against the
/// stored copy. Memory grows with the number of *distinct* names only; a lookup of a known
/// name never allocates.
public struct ByteInterner {
    private var arena: [UInt8] = []
    private var starts: [Int] = []
    private var counts: [Int] = []
    private var hashes: [UInt64] = []
    /// Table of name number + 1; 0 is empty.
    private var table: [UInt32]
    private var mask: Int

    /// An empty interner.
    public init() {
        table = Array(repeating: 0, count: 64)
        mask = 63
    }

    /// Number of distinct names.
    public var count: Int { starts.count }

    /// The number of `bytes`, if it was interned.
    public func find(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        let h = Self.hash(bytes)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = table[i]
            if entry == 0 { return nil }
            let n = Int(entry - 1)
            if hashes[n] == h && equals(n, bytes) { return UInt32(n) }
            i = (i + 1) & mask
        }
    }

    /// The number of `bytes`, interning it when new (numbers are dense from 0).
    public mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        if let n = find(bytes) { return n }
        let n = starts.count
        starts.append(arena.count)
        counts.append(bytes.count)
        hashes.append(Self.hash(bytes))
        arena.append(contentsOf: bytes)
        if (n + 1) * 2 > table.count { rehash(to: table.count * 2) } else { place(n) }
        return UInt32(n)
    }

    /// The bytes of name number `n`.
    public func name(_ n: UInt32) -> ArraySlice<UInt8> {
        let i = Int(n)
        return arena[starts[i]..<(starts[i] + counts[i])]
    }

    private func equals(_ n: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard counts[n] == bytes.count else { return false }
        return arena.withUnsafeBufferPointer { all in
            bytes.elementsEqual(UnsafeBufferPointer(rebasing: all[starts[n]..<(starts[n] + counts[n])]))
        }
    }

    private mutating func place(_ n: Int) {
        var i = Int(truncatingIfNeeded: hashes[n]) & mask
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = UInt32(n + 1)
    }

    private mutating func rehash(to size: Int) {
        table = Array(repeating: 0, count: size)
        mask = size - 1
        for n in 0..<starts.count { place(n) }
    }

    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
