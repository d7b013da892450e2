// BinaryBytes: the only raw-pointer code of the binary protocol. Every message layout reads and
// writes its fields through these two views; nothing else in this module touches memory.
//
// Invariants:
// - A view covers exactly one message (or one UDP header): `count` is the fixed size of the type
//   being read or written. The decoders create a `BinaryReader` only after checking that the
//   caller's buffer holds at least that many bytes, and limit the view to them; the encoders create
//   a `BinaryWriter` only after checking that the buffer holds at least that many, and limit the
//   view to them.
// - Every offset passed in is a constant from a layout table (docs/protocol.md), and every field
//   lies inside its message (`offset + MemoryLayout<T>.size <= count`): the layout tests encode
//   and decode every type at its exact size, and debug builds assert the bound on each access.
// - Loads use `loadUnaligned` and stores `storeBytes`, so no alignment is assumed of the caller's
//   buffer (a slice of a socket buffer may start anywhere). Integers are little-endian whatever
//   the host's byte order.
// - The views do not own memory and never outlive the call that created them, so the caller's
//   buffer stays valid for their whole life.
// - `BinaryWriter.init` zero-fills the message before any field is written: padding, reserved
//   bytes and the padding of text fields are therefore always 0, which is what the decoders check.
// Safe because each access is bounded by the message size that the entry point checked against the
// caller's buffer before the view existed.

/// A read-only view of one message's bytes, with little-endian field loads.
struct BinaryReader {
    /// The message's bytes; `bytes.count` is the message size.
    let bytes: UnsafeRawBufferPointer

    /// Wraps the first `size` bytes of `buffer`; the caller has checked `buffer.count >= size`.
    init(_ buffer: UnsafeRawBufferPointer, size: Int) {
        assert(size >= 0 && size <= buffer.count, "message larger than buffer")
        bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<size])
    }

    // `@inline(__always)` on the loads: each is one instruction in release once inlined, and the
    // layouts call them with constant offsets, which then fold into the addressing.

    @inline(__always)
    func u8(_ offset: Int) -> UInt8 {
        assert(offset >= 0 && offset < bytes.count, "field out of message")
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func u16(_ offset: Int) -> UInt16 {
        assert(offset >= 0 && offset + 2 <= bytes.count, "field out of message")
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    func u32(_ offset: Int) -> UInt32 {
        assert(offset >= 0 && offset + 4 <= bytes.count, "field out of message")
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    func u64(_ offset: Int) -> UInt64 {
        assert(offset >= 0 && offset + 8 <= bytes.count, "field out of message")
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    func i64(_ offset: Int) -> Int64 {
        Int64(bitPattern: u64(offset))
    }

    /// The offset of the first non-zero byte in `range`, or `nil` when all are zero.
    func firstNonZero(_ range: Range<Int>) -> Int? {
        assert(range.lowerBound >= 0 && range.upperBound <= bytes.count, "range out of message")
        for offset in range where bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self) != 0 {
            return offset
        }
        return nil
    }
}

/// A write view of one message's bytes, zero-filled on creation, with little-endian field stores.
struct BinaryWriter {
    /// The message's bytes; `bytes.count` is the message size.
    let bytes: UnsafeMutableRawBufferPointer

    /// Limits `buffer` to its first `size` bytes and zero-fills them.
    ///
    /// The caller has checked `buffer.count >= size` and `size > 0`.
    init(_ buffer: UnsafeMutableRawBufferPointer, size: Int) {
        assert(size > 0 && size <= buffer.count, "message larger than buffer")
        bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
        // Safe because `size <= buffer.count` and `size > 0`, so the base address is not nil.
        bytes.baseAddress.unsafelyUnwrapped.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    }

    // `@inline(__always)` on the stores: see the loads of `BinaryReader`.

    @inline(__always)
    func put(_ value: UInt8, at offset: Int) {
        assert(offset >= 0 && offset < bytes.count, "field out of message")
        bytes.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func put(_ value: UInt16, at offset: Int) {
        assert(offset >= 0 && offset + 2 <= bytes.count, "field out of message")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always)
    func put(_ value: UInt32, at offset: Int) {
        assert(offset >= 0 && offset + 4 <= bytes.count, "field out of message")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    func put(_ value: UInt64, at offset: Int) {
        assert(offset >= 0 && offset + 8 <= bytes.count, "field out of message")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    @inline(__always)
    func put(_ value: Int64, at offset: Int) {
        put(UInt64(bitPattern: value), at: offset)
    }
}
