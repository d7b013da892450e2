#if canImport(Glibc)
    import Glibc
#endif

/// A snapshot of a shard's engine on disk: the engine's state after the event numbered
/// `sequence`, with the identity of the shard that wrote it and a checksum of the whole.
///
/// ```
/// offset size type    field        meaning
/// ------ ---- ------- ------------ ------------------------------------------------------
///      0    8 bytes   magic        "CHRNSNAP"
///      8    4 UInt32  version      1
///     12    4 UInt32  textLength   bytes of the identity text
///     16    8 UInt64  sequence     the last event the state includes
///     24    8 UInt64  fingerprint  ShardIdentity fingerprint
///     32    8 UInt64  bodyLength   bytes of the engine snapshot (Engine.snapshotBytes())
///     40    8 UInt64  checksum     of the header (this field as 0), the identity text and the body
///     48    8 UInt64  created      wall clock, ns since the Unix epoch
///     56    …  UTF-8   identity     then the body
/// ```
///
/// Written under a temporary name, synced, renamed into place and the folder synced: a file
/// with a snapshot name is complete, or is refused by its checksum.
public struct SnapshotFile: Sendable {
    static let magic: UInt64 = 0x5041_4E53_4E52_4843  // "CHRNSNAP"
    static let version: UInt32 = 1
    static let headerSize = 56

    /// The last event the state includes.
    public var sequence: UInt64
    public var identityText: String
    public var fingerprint: UInt64
    /// The engine's snapshot bytes.
    public var body: [UInt8]
    public var createdNanos: UInt64

    public init(sequence: UInt64, identityText: String, fingerprint: UInt64, body: [UInt8], createdNanos: UInt64) {
        self.sequence = sequence
        self.identityText = identityText
        self.fingerprint = fingerprint
        self.body = body
        self.createdNanos = createdNanos
    }

    /// `snapshot-<sequence, 20 digits>.snap`.
    public static func fileName(sequence: UInt64) -> String {
        let digits = String(sequence)
        return "snapshot-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".snap"
    }

    /// The sequence in a snapshot file name, or nil for another file (only the names
    /// ``fileName(sequence:)`` gives: 20 digits, no sign).
    public static func sequence(fileName: String) -> UInt64? {
        guard fileName.hasPrefix("snapshot-"), fileName.hasSuffix(".snap"),
            let sequence = UInt64(fileName.dropFirst(9).dropLast(5)), Self.fileName(sequence: sequence) == fileName
        else { return nil }
        return sequence
    }

    /// Writes the snapshot into `directory` durably; returns its path.
    @discardableResult
    public func write(directory: String) throws(JournalError) -> String {
        let path = directory + "/" + Self.fileName(sequence: sequence)
        let temporary = path + ".tmp"
        let text = Array(identityText.utf8)
        var bytes = [UInt8](repeating: 0, count: Self.headerSize)
        bytes.reserveCapacity(Self.headerSize + text.count + body.count)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: Self.version.littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: UInt32(text.count).littleEndian, toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: sequence.littleEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: fingerprint.littleEndian, toByteOffset: 24, as: UInt64.self)
            raw.storeBytes(of: UInt64(body.count).littleEndian, toByteOffset: 32, as: UInt64.self)
            raw.storeBytes(of: createdNanos.littleEndian, toByteOffset: 48, as: UInt64.self)
        }
        let sum = Self.checksum(bytes, text, body)
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: sum.littleEndian, toByteOffset: 40, as: UInt64.self) }
        bytes += text
        bytes += body
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("create \(temporary)", errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                close(fd)
                unlink(temporary)
                throw .system("write \(temporary)", code)
            }
            offset += n
        }
        guard fsync(fd) == 0 else {
            let code = errno
            close(fd)
            unlink(temporary)
            throw .system("sync \(temporary)", code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw .system("rename \(temporary)", errno) }
        try JournalSegment.syncDirectory(directory)
        return path
    }

    /// Reads and checks a snapshot file.
    public static func read(path: String) throws(JournalError) -> SnapshotFile {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open \(path)", errno) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .system("stat \(path)", errno) }
        let size = Int(status.st_size)
        guard size >= headerSize else { throw .corrupt(path, "shorter than a snapshot header") }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, size - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .system("read \(path)", errno) }
            offset += n
        }
        func u64(_ o: Int) -> UInt64 {
            bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        }
        func u32(_ o: Int) -> UInt32 {
            bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        }
        guard u64(0) == magic else { throw .corrupt(path, "not a Chronos snapshot") }
        guard u32(8) == version else { throw .corrupt(path, "snapshot version \(u32(8))") }
        let textLength = Int(u32(12))
        let bodyLength = u64(32)
        // `bodyLength` is checked against the size first: a damaged length cannot overflow the sum.
        guard bodyLength <= UInt64(size), UInt64(headerSize + textLength) + bodyLength == UInt64(size) else {
            throw .corrupt(path, "holds \(size) bytes, its header says \(headerSize + textLength) + \(bodyLength)")
        }
        let text = Array(bytes[headerSize..<(headerSize + textLength)])
        let body = Array(bytes[(headerSize + textLength)...])
        var header = Array(bytes[0..<headerSize])
        for i in 40..<48 { header[i] = 0 }
        guard checksum(header, text, body) == u64(40) else {
            throw .corrupt(path, "the snapshot's checksum does not match")
        }
        return SnapshotFile(
            sequence: u64(16), identityText: String(decoding: text, as: UTF8.self), fingerprint: u64(24),
            body: body, createdNanos: u64(48))
    }

    /// The checksum of a snapshot: `header` is the 56-byte header with its checksum field 0, so
    /// that every byte of the file is covered (a damaged sequence or fingerprint reads as corrupt,
    /// not as another snapshot or another shard's).
    static func checksum(_ header: [UInt8], _ text: [UInt8], _ body: [UInt8]) -> UInt64 {
        var h: UInt64 = 0x1319_8A2E_0370_7344 ^ UInt64(body.count)
        for part in [header, text, body] {
            part.withUnsafeBytes { raw in
                var offset = 0
                while offset + 8 <= raw.count {
                    h = JournalRecord.mix(h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    offset += 8
                }
                var tail: UInt64 = 0x80
                while offset < raw.count {
                    tail = (tail << 8) | UInt64(raw[offset])
                    offset += 1
                }
                h = JournalRecord.mix(h ^ tail)
            }
        }
        return h
    }
}
