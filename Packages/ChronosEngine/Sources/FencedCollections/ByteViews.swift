// ByteViews: the only raw-pointer code of the wire format (ChronosCore's `Wire/`) and of the
// binary client protocol (BinaryProtocol). Every frame and message layout reads and writes its
// fields through these two views; nothing else in those modules touches memory.
//
// Invariants:
// - A view covers exactly one frame or message (or one UDP header): `count` is the fixed size of
//   the type being read or written. The decoders create a `ByteReader` only after checking that
//   the caller's buffer holds that many bytes, and limit the view to them; the encoders create a
//   `ByteWriter` only after checking that the buffer holds at least that many, and limit the view
//   to them.
// - Every offset passed in is a constant from a layout table (docs/wire-format.md,
//   docs/protocol.md), and every field lies inside its frame (`offset + MemoryLayout<T>.size <=
//   count`): the layout tests decode and encode every type at its exact size, and debug builds
//   assert the bound on each access.
// - Loads use `loadUnaligned` and stores `storeBytes`, so no alignment is assumed of the caller's
//   buffer (a ZeroMQ message part, a slice of a socket buffer or a ring may start anywhere).
//   Integers are stored little-endian whatever the host's byte order.
// - The views do not own memory and never outlive the call that created them (they are not
//   stored or returned), so the caller's buffer stays valid for their whole life.
// - `ByteWriter.init` zero-fills the frame before any field is written: padding, reserved bytes,
//   absent values and unused bytes are therefore always 0, which is what `ByteReader.firstNonZero`
//   checks when decoding.
// Safe because each access is bounded by the size that the single entry point checked against the
// caller's buffer before the view existed.

/// A read-only view of one frame's bytes, with little-endian field loads.
@frozen
public struct ByteReader {
    /// The frame's bytes; `bytes.count` is the frame size.
    public let bytes: UnsafeRawBufferPointer

    /// Wraps a buffer whose size the caller has checked against the frame size.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Wraps the first `size` bytes of `buffer`; the caller has checked `buffer.count >= size`.
    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, size: Int) {
        assert(size >= 0 && size <= buffer.count, "frame larger than buffer")
        bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<size])
    }

    // `@inline(__always)` on the loads: each is one instruction in release once inlined, and the
    // layouts call them with constant offsets, which then fold into the addressing.

    @inlinable @inline(__always)
    public func u8(_ offset: Int) -> UInt8 {
        assert(offset >= 0 && offset < bytes.count, "field out of frame")
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always)
    public func u16(_ offset: Int) -> UInt16 {
        assert(offset >= 0 && offset + 2 <= bytes.count, "field out of frame")
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable @inline(__always)
    public func u32(_ offset: Int) -> UInt32 {
        assert(offset >= 0 && offset + 4 <= bytes.count, "field out of frame")
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable @inline(__always)
    public func u64(_ offset: Int) -> UInt64 {
        assert(offset >= 0 && offset + 8 <= bytes.count, "field out of frame")
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inlinable @inline(__always)
    public func i64(_ offset: Int) -> Int64 {
        Int64(bitPattern: u64(offset))
    }

    /// The offset of the first non-zero byte in `range`, or `nil` when all are zero.
    @inlinable
    public func firstNonZero(_ range: Range<Int>) -> Int? {
        assert(range.lowerBound >= 0 && range.upperBound <= bytes.count, "range out of frame")
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
@frozen
public struct ByteWriter {
    /// The frame's bytes; `bytes.count` is the frame size.
    public let bytes: UnsafeMutableRawBufferPointer

    /// Limits `buffer` to its first `size` bytes and zero-fills them.
    ///
    /// The caller has checked `buffer.count >= size` and `size > 0`.
    @inlinable
    public init(_ buffer: UnsafeMutableRawBufferPointer, size: Int) {
        assert(size > 0 && size <= buffer.count, "frame larger than buffer")
        bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
        // Safe because `size <= buffer.count` and `size > 0`, so the base address is not nil.
        bytes.baseAddress.unsafelyUnwrapped.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    }

    // `@inline(__always)` on the stores: see the loads of `ByteReader`.

    @inlinable @inline(__always)
    public func put(_ value: UInt8, at offset: Int) {
        assert(offset >= 0 && offset < bytes.count, "field out of frame")
        bytes.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always)
    public func put(_ value: UInt16, at offset: Int) {
        assert(offset >= 0 && offset + 2 <= bytes.count, "field out of frame")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inlinable @inline(__always)
    public func put(_ value: UInt32, at offset: Int) {
        assert(offset >= 0 && offset + 4 <= bytes.count, "field out of frame")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inlinable @inline(__always)
    public func put(_ value: UInt64, at offset: Int) {
        assert(offset >= 0 && offset + 8 <= bytes.count, "field out of frame")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    @inlinable @inline(__always)
    public func put(_ value: Int64, at offset: Int) {
        put(UInt64(bitPattern: value), at: offset)
    }

    @inlinable @inline(__always)
    public func put(_ value: Bool, at offset: Int) {
        put(value ? 1 as UInt8 : 0, at: offset)
    }
}
