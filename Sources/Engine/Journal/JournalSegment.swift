#if canImport(Glibc)
    import Glibc
#endif

// JournalSegment: one preallocated, memory-mapped journal file.
//
// Layout: a 4,096-byte header, then `slotCount` slots of `JournalRecord.slotSize` bytes.
//
// ```
// offset size type    field        meaning
// ------ ---- ------- ------------ ---------------------------------------------------------
//      0    8 bytes   magic        "CHRNJRNL"
//      8    4 UInt32  version      1
//     12    4 UInt32  slotSize     128
//     16    8 UInt64  first        sequence of slot 0
//     24    8 UInt64  slotCount    slots in the file
//     32    8 UInt64  shard        shard id
//     40    8 UInt64  fingerprint  ShardIdentity fingerprint of the shard that wrote it
//     48    8 UInt64  created      wall clock at creation, ns since the Unix epoch
//     56    4 UInt32  textLength   bytes of the identity text at offset 64
//     60    4 UInt32  checksum     of bytes 0..<60 and the identity text
//     64    …  UTF-8   identity     the ShardIdentity's canonical text (≤ 4,032 bytes)
// ```
//
// Invariants:
// - `base` maps the whole file (`byteCount` bytes), shared, for the object's life; `fd` is open.
// - Space is reserved with `posix_fallocate` before mapping, so a store to a slot never meets a
//   full disk (which, through a mapping, would be SIGBUS instead of an error).
// - A file is created under a temporary name and renamed once its header is written and synced:
//   a segment file with its final name always has a valid header.
// Safe because `slot(_:)` is only called for sequences in `first ..< first + slotCount`
// (checked by `contains`), so every slot pointer lies inside the mapping.

/// One journal segment file, mapped into memory.
public final class JournalSegment: @unchecked Sendable {
    /// Bytes of the header before slot 0.
    public static let headerSize = 4_096
    static let magic: UInt64 = 0x4C4E_524A_4E52_4843  // "CHRNJRNL" little-endian
    static let version: UInt32 = 1

    /// The file's path.
    public let path: String
    /// Sequence of slot 0.
    public let firstSequence: UInt64
    /// Slots in the file.
    public let slotCount: Int
    /// The shard that wrote it.
    public let shard: Int
    /// The identity text of that shard's configuration, and its fingerprint.
    public let identityText: String
    public let fingerprint: UInt64
    /// True when mapped for writing.
    public let writable: Bool
    let fd: Int32
    let base: UnsafeMutableRawPointer
    let byteCount: Int

    /// The last sequence the segment can hold.
    public var lastSequence: UInt64 { firstSequence + UInt64(slotCount) - 1 }

    /// True when `sequence` falls in this segment.
    @inline(__always)
    public func contains(_ sequence: UInt64) -> Bool {
        sequence >= firstSequence && sequence - firstSequence < UInt64(slotCount)
    }

    /// The slot of `sequence` (which must be ``contains(_:)``).
    @inline(__always)
    public func slot(_ sequence: UInt64) -> UnsafeMutableRawPointer {
        base + Self.headerSize + Int(sequence - firstSequence) * JournalRecord.slotSize
    }

    /// The frame of `sequence` when its slot holds a valid record.
    public func frame(_ sequence: UInt64) -> UnsafeRawBufferPointer? {
        guard contains(sequence) else { return nil }
        return JournalRecord.read(UnsafeRawPointer(slot(sequence)), sequence: sequence)
    }

    /// The file name of the segment whose first sequence is `first`.
    public static func fileName(first: UInt64) -> String {
        let digits = String(first)
        return "segment-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".journal"
    }

    /// The first sequence encoded in a segment file name, or nil for another file (only the names
    /// ``fileName(first:)`` gives: 20 digits, no sign).
    public static func firstSequence(fileName: String) -> UInt64? {
        guard fileName.hasPrefix("segment-"), fileName.hasSuffix(".journal"),
            let first = UInt64(fileName.dropFirst(8).dropLast(8)), Self.fileName(first: first) == fileName
        else { return nil }
        return first
    }

    private init(
        path: String, fd: Int32, base: UnsafeMutableRawPointer, byteCount: Int, writable: Bool,
        header: Header
    ) {
        self.path = path
        self.fd = fd
        self.base = base
        self.byteCount = byteCount
        self.writable = writable
        firstSequence = header.first
        slotCount = header.slotCount
        shard = header.shard
        identityText = header.identityText
        fingerprint = header.fingerprint
    }

    deinit {
        munmap(base, byteCount)
        close(fd)
    }

    // MARK: Creating and opening

    /// Creates, preallocates and maps a new segment in `directory` (writable). The file appears
    /// under its final name only complete. With `sync`, the file and the folder are synced
    /// before it is renamed into place and after.
    public static func create(
        directory: String, first: UInt64, slotCount: Int, shard: Int, identityText: String, fingerprint: UInt64,
        createdNanos: UInt64, sync: Bool
    ) throws(JournalError) -> JournalSegment {
        precondition(slotCount > 0 && first > 0, "segment sizes must be positive")
        let path = directory + "/" + fileName(first: first)
        let temporary = path + ".tmp"
        let byteCount = headerSize + slotCount * JournalRecord.slotSize
        unlink(temporary)
        let fd = Glibc.open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("create \(temporary)", errno) }
        var ok = false
        defer { if !ok { close(fd); unlink(temporary) } }
        let rc = posix_fallocate(fd, 0, off_t(byteCount))
        guard rc == 0 else { throw .system("reserve \(byteCount) bytes for \(temporary)", rc) }
        let header = Header(
            first: first, slotCount: slotCount, shard: shard, fingerprint: fingerprint, created: createdNanos,
            identityText: identityText)
        var bytes = [UInt8](repeating: 0, count: headerSize)
        try header.encode(into: &bytes)
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, headerSize, 0) }
        guard written == headerSize else { throw .system("write the header of \(temporary)", errno) }
        if sync && fdatasync(fd) != 0 { throw .system("sync \(temporary)", errno) }
        guard rename(temporary, path) == 0 else { throw .system("rename \(temporary)", errno) }
        if sync { try syncDirectory(directory) }
        let base = try map(fd, byteCount: byteCount, writable: true, path: path)
        ok = true
        return JournalSegment(path: path, fd: fd, base: base, byteCount: byteCount, writable: true, header: header)
    }

    /// Opens and maps an existing segment, validating its header.
    public static func open(path: String, writable: Bool) throws(JournalError) -> JournalSegment {
        let fd = Glibc.open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open \(path)", errno) }
        var ok = false
        defer { if !ok { close(fd) } }
        var bytes = [UInt8](repeating: 0, count: headerSize)
        let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, headerSize, 0) }
        guard read == headerSize else { throw .corrupt(path, "shorter than its \(headerSize)-byte header") }
        let header = try Header.decode(bytes, path: path)
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .system("stat \(path)", errno) }
        let byteCount = headerSize + header.slotCount * JournalRecord.slotSize
        guard Int(status.st_size) >= byteCount else {
            throw .corrupt(path, "holds \(status.st_size) bytes, its header promises \(byteCount)")
        }
        let base = try map(fd, byteCount: byteCount, writable: writable, path: path)
        ok = true
        return JournalSegment(path: path, fd: fd, base: base, byteCount: byteCount, writable: writable, header: header)
    }

    private static func map(_ fd: Int32, byteCount: Int, writable: Bool, path: String) throws(JournalError)
        -> UnsafeMutableRawPointer
    {
        let protection = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        guard let address = mmap(nil, byteCount, protection, MAP_SHARED, fd, 0), address != MAP_FAILED else {
            throw .system("map \(path)", errno)
        }
        return address
    }

    // MARK: Use

    /// Touches every page of the slot area for writing, so that the engine thread's stores take no
    /// page fault (the pages are zero already; writing a zero makes them present and writable).
    public func prefault() {
        precondition(writable, "prefault needs a writable segment")
        let page = 4_096
        var offset = Self.headerSize
        while offset < byteCount {
            // A volatile-like store through an opaque pointer: the optimizer cannot drop it.
            (base + offset).storeBytes(of: (base + offset).load(as: UInt8.self), as: UInt8.self)
            offset += page
        }
    }

    /// Zeroes every slot from `sequence` on (records a crash left beyond the end of the journal),
    /// so that none of them is ever read as a record of a later life.
    public func clear(from sequence: UInt64) {
        precondition(writable, "clear needs a writable segment")
        guard sequence <= lastSequence else { return }
        let start = max(sequence, firstSequence)
        let begin = slot(start)
        memset(begin, 0, Int(lastSequence - start + 1) * JournalRecord.slotSize)
    }

    /// Writes the dirty pages of the file to the device (`fdatasync`).
    public func sync() throws(JournalError) {
        guard fdatasync(fd) == 0 else { throw .system("sync \(path)", errno) }
    }

    /// Makes a rename or a new file in `directory` durable (`fsync` of the folder).
    public static func syncDirectory(_ directory: String) throws(JournalError) {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open \(directory)", errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .system("sync \(directory)", errno) }
    }

    // MARK: Header

    struct Header {
        var first: UInt64
        var slotCount: Int
        var shard: Int
        var fingerprint: UInt64
        var created: UInt64
        var identityText: String

        func encode(into bytes: inout [UInt8]) throws(JournalError) {
            let text = Array(identityText.utf8)
            guard text.count <= JournalSegment.headerSize - 64 else {
                throw .invalidConfiguration(
                    "the shard's identity text is longer than \(JournalSegment.headerSize - 64) bytes")
            }
            bytes.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: JournalSegment.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: JournalSegment.version.littleEndian, toByteOffset: 8, as: UInt32.self)
                raw.storeBytes(of: UInt32(JournalRecord.slotSize).littleEndian, toByteOffset: 12, as: UInt32.self)
                raw.storeBytes(of: first.littleEndian, toByteOffset: 16, as: UInt64.self)
                raw.storeBytes(of: UInt64(slotCount).littleEndian, toByteOffset: 24, as: UInt64.self)
                raw.storeBytes(of: UInt64(shard).littleEndian, toByteOffset: 32, as: UInt64.self)
                raw.storeBytes(of: fingerprint.littleEndian, toByteOffset: 40, as: UInt64.self)
                raw.storeBytes(of: created.littleEndian, toByteOffset: 48, as: UInt64.self)
                raw.storeBytes(of: UInt32(text.count).littleEndian, toByteOffset: 56, as: UInt32.self)
            }
            for (i, byte) in text.enumerated() { bytes[64 + i] = byte }
            let sum = Self.checksum(bytes, textLength: text.count)
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: sum.littleEndian, toByteOffset: 60, as: UInt32.self) }
        }

        static func decode(_ bytes: [UInt8], path: String) throws(JournalError) -> Header {
            func u64(_ o: Int) -> UInt64 {
                bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
            }
            func u32(_ o: Int) -> UInt32 {
                bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
            }
            guard u64(0) == JournalSegment.magic else { throw .corrupt(path, "not a Chronos journal segment") }
            guard u32(8) == JournalSegment.version else {
                throw .corrupt(path, "journal format version \(u32(8)); this build reads \(JournalSegment.version)")
            }
            guard u32(12) == UInt32(JournalRecord.slotSize) else { throw .corrupt(path, "slot size \(u32(12))") }
            let textLength = Int(u32(56))
            guard textLength <= JournalSegment.headerSize - 64 else { throw .corrupt(path, "identity length") }
            guard checksum(bytes, textLength: textLength) == u32(60) else {
                throw .corrupt(path, "the header's checksum does not match")
            }
            let slotCount = u64(24)
            guard u64(16) > 0, slotCount > 0, slotCount < 1 << 40, u64(16) <= UInt64.max - slotCount else {
                throw .corrupt(path, "segment bounds")
            }
            return Header(
                first: u64(16), slotCount: Int(slotCount), shard: Int(truncatingIfNeeded: u64(32)),
                fingerprint: u64(40), created: u64(48),
                identityText: String(decoding: bytes[64..<(64 + textLength)], as: UTF8.self))
        }

        static func checksum(_ bytes: [UInt8], textLength: Int) -> UInt32 {
            bytes.withUnsafeBytes { raw in
                let covered = UnsafeRawBufferPointer(rebasing: raw[0..<60])
                let text = UnsafeRawBufferPointer(rebasing: raw[64..<(64 + textLength)])
                return JournalRecord.checksum(sequence: 1, frame: covered)
                    ^ JournalRecord.checksum(sequence: 2, frame: text)
            }
        }
    }
}
