// WireBytes: the only raw-pointer code of the wire format. Every frame layout reads and writes its
// fields through these two views; nothing else in `Wire/` touches memory.
//
// Invariants:
// - A view covers exactly one frame: `count` is the frame size of the message type being read or
//   written. `WireFrame.decode` creates a `WireReader` only after checking that the buffer holds
//   exactly that many bytes; `WireFrame.encode` creates a `WireWriter` only after checking that
//   the buffer holds at least that many, and then limits the view to the frame.
// - Every offset passed in is a constant from a frame layout table, and every field lies inside
//   its frame (`offset + MemoryLayout<T>.size <= count`): the layout tests decode and encode every
//   type at its exact size, and debug builds assert the bound on each access.
// - Loads use `loadUnaligned` and stores `storeBytes`, so no alignment is assumed of the caller's
//   buffer (a ZeroMQ message part or a slice of a ring may start anywhere). Integers are stored
//   little-endian whatever the host's byte order.
// - The views do not own memory and never outlive the call that created them (they are not
//   stored or returned), so the caller's buffer stays valid for their whole life.
// - `WireWriter.init` zero-fills the frame before any field is written: padding, reserved bytes,
//   absent values and the bytes an event kind does not use are therefore always 0, which is what
//   `WireReader.firstNonZero` checks when decoding.
// Safe because each access is bounded by the frame size that the single entry point checked
// against the caller's buffer before the view existed.

/// A read-only view of one frame's bytes, with little-endian field loads.
struct WireReader {
    /// The frame's bytes; `bytes.count` is the frame size.
    let bytes: UnsafeRawBufferPointer

    /// Wraps a buffer whose size the caller has checked against the frame size.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // `@inline(__always)` on the loads: each is one instruction in release once inlined, and the
    // layouts call them with constant offsets, which then fold into the addressing.

    @inline(__always)
    func u8(_ offset: Int) -> UInt8 {
        assert(offset >= 0 && offset < bytes.count, "wire field out of frame")
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func u16(_ offset: Int) -> UInt16 {
        assert(offset >= 0 && offset + 2 <= bytes.count, "wire field out of frame")
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    func u32(_ offset: Int) -> UInt32 {
        assert(offset >= 0 && offset + 4 <= bytes.count, "wire field out of frame")
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    func u64(_ offset: Int) -> UInt64 {
        assert(offset >= 0 && offset + 8 <= bytes.count, "wire field out of frame")
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    func i64(_ offset: Int) -> Int64 {
        Int64(bitPattern: u64(offset))
    }

    /// The offset of the first non-zero byte in `range`, or `nil` when all are zero.
    func firstNonZero(_ range: Range<Int>) -> Int? {
        assert(range.lowerBound >= 0 && range.upperBound <= bytes.count, "wire range out of frame")
        var offset = range.lowerBound
        // Eight bytes at a time while they are zero (the common case), then byte by byte: from the
        // first non-zero word, or for a tail shorter than a word.
        while offset + 8 <= range.upperBound, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == 0 {
            offset += 8
        }
        while offset < range.upperBound {
            if bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self) != 0 { return offset }
            offset += 1
        }
        return nil
    }
}

/// A write view of one frame's bytes, zero-filled on creation, with little-endian field stores.
struct WireWriter {
    /// The frame's bytes; `bytes.count` is the frame size.
    let bytes: UnsafeMutableRawBufferPointer

    /// Limits `buffer` to its first `size` bytes and zero-fills them.
    ///
    /// The caller has checked `buffer.count >= size` and `size > 0`.
    init(_ buffer: UnsafeMutableRawBufferPointer, size: Int) {
        assert(size > 0 && size <= buffer.count, "frame larger than buffer")
        bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
        // Safe because `size <= buffer.count` and `size > 0`, so the base address is not nil.
        bytes.baseAddress.unsafelyUnwrapped.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    }

    // `@inline(__always)` on the stores: see the loads of `WireReader`.

    @inline(__always)
    func put(_ value: UInt8, at offset: Int) {
        assert(offset >= 0 && offset < bytes.count, "wire field out of frame")
        bytes.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func put(_ value: UInt16, at offset: Int) {
        assert(offset >= 0 && offset + 2 <= bytes.count, "wire field out of frame")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always)
    func put(_ value: UInt32, at offset: Int) {
        assert(offset >= 0 && offset + 4 <= bytes.count, "wire field out of frame")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    func put(_ value: UInt64, at offset: Int) {
        assert(offset >= 0 && offset + 8 <= bytes.count, "wire field out of frame")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    @inline(__always)
    func put(_ value: Int64, at offset: Int) {
        put(UInt64(bitPattern: value), at: offset)
    }

    @inline(__always)
    func put(_ value: Bool, at offset: Int) {
        put(value ? 1 as UInt8 : 0, at: offset)
    }
}
