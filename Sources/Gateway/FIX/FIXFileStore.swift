import Foundation

/// A store in a directory, surviving process restarts.
///
/// Files:
/// - `seqnums`: `<nextSender> <nextTarget>\n` as two zero-padded 20-digit numbers: a fixed 42-byte record
///   overwritten in place with one `pwrite` per change (a single small write at offset 0, so a crashed process
///   leaves either the old or the new pair; no rename or temporary file on the per-message path).
/// - `messages`: append-only records, each
///   ```
///   +-----------+--------------+------------------+
///   | seq (u32) | length (u32) | bytes (length)   |   little endian
///   +-----------+--------------+------------------+
///   ```
///   The index (seq → offset) is rebuilt by scanning the file on open; a truncated last record (a crash in the
///   middle of a write) is cut off. A later record for the same seq wins.
///
/// Durability: by default nothing is fsync'ed — data reaches the kernel on every call, so it survives a crash of
/// the process but not of the machine (a power loss may lose the last writes, and then the counterparty's
/// ResendRequest or our sequence reset recovers). `synchronizesWrites: true` fsyncs the messages file and the
/// sequence numbers on every change, at the cost of a disk flush per message.
public final class FIXFileStore: FIXSessionStore {
    /// The directory holding `seqnums` and `messages`.
    public let directory: URL
    private let synchronizesWrites: Bool
    private var sender = 1
    private var target = 1
    private var index: [Int: (offset: UInt64, length: Int)] = [:]
    private var messagesHandle: FileHandle
    private var messagesSize: UInt64
    /// `seqnums`, open for the store's life.
    private let seqnumsDescriptor: Int32
    /// The last I/O failure, nil when none.
    public private(set) var lastError: (any Error)?

    /// Opens (creating when needed) the store in `directory`.
    /// - Throws: when the directory or its files cannot be created or read.
    public init(directory: URL, synchronizesWrites: Bool = false) throws {
        self.directory = directory
        self.synchronizesWrites = synchronizesWrites
        let manager = FileManager.default
        try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        let seqnumsURL = directory.appendingPathComponent("seqnums")
        if let text = try? String(contentsOf: seqnumsURL, encoding: .utf8) {
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if parts.count >= 2, let sender = Int(parts[0]), let target = Int(parts[1]) {
                self.sender = sender
                self.target = target
            }
        }
        seqnumsDescriptor = open(seqnumsURL.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard seqnumsDescriptor >= 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: seqnumsURL.path])
        }
        let messagesURL = directory.appendingPathComponent("messages")
        if !manager.fileExists(atPath: messagesURL.path) {
            guard manager.createFile(atPath: messagesURL.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: messagesURL.path])
            }
        }
        let data = try Data(contentsOf: messagesURL)
        var offset = 0
        var index: [Int: (offset: UInt64, length: Int)] = [:]
        while offset + 8 <= data.count {
            let seq = FIXFileStore.readUInt32(data, offset)
            let length = FIXFileStore.readUInt32(data, offset + 4)
            guard offset + 8 + length <= data.count else { break }
            index[seq] = (UInt64(offset + 8), length)
            offset += 8 + length
        }
        self.index = index
        messagesHandle = try FileHandle(forUpdating: messagesURL)
        if offset < data.count { try messagesHandle.truncate(atOffset: UInt64(offset)) }
        messagesSize = UInt64(offset)
        try messagesHandle.seek(toOffset: messagesSize)
        writeSequenceNumbers()
        _ = ftruncate(seqnumsDescriptor, off_t(Self.seqnumsRecordSize))
    }

    deinit {
        try? messagesHandle.close()
        close(seqnumsDescriptor)
    }

    private static let seqnumsRecordSize = 42

    /// MsgSeqNum of the next message we send; setting it rewrites `seqnums`.
    public var nextSenderMsgSeqNum: Int {
        get { sender }
        set {
            sender = newValue
            writeSequenceNumbers()
        }
    }

    /// MsgSeqNum expected on the next message we receive; setting it rewrites `seqnums`.
    public var nextTargetMsgSeqNum: Int {
        get { target }
        set {
            target = newValue
            writeSequenceNumbers()
        }
    }

    /// Appends the message sent with `seq` to `messages`.
    public func store(seq: Int, bytes: [UInt8]) {
        var record = Data(capacity: bytes.count + 8)
        FIXFileStore.appendUInt32(&record, seq)
        FIXFileStore.appendUInt32(&record, bytes.count)
        record.append(contentsOf: bytes)
        do {
            try messagesHandle.seek(toOffset: messagesSize)
            try messagesHandle.write(contentsOf: record)
            if synchronizesWrites { try messagesHandle.synchronize() }
            index[seq] = (messagesSize + 8, bytes.count)
            messagesSize += UInt64(record.count)
        } catch {
            lastError = error
        }
    }

    /// The stored messages in `range`, ascending, read back from `messages`.
    public func messages(in range: ClosedRange<Int>) -> [(seq: Int, bytes: [UInt8])] {
        var result: [(seq: Int, bytes: [UInt8])] = []
        for seq in index.keys.sorted() where range.contains(seq) {
            guard let entry = index[seq] else { continue }
            do {
                try messagesHandle.seek(toOffset: entry.offset)
                let data = try messagesHandle.read(upToCount: entry.length) ?? Data()
                result.append((seq, [UInt8](data)))
            } catch {
                lastError = error
            }
        }
        return result
    }

    /// Sets both sequence numbers to 1 and empties `messages`.
    public func reset() {
        sender = 1
        target = 1
        index = [:]
        do {
            try messagesHandle.truncate(atOffset: 0)
            messagesSize = 0
            if synchronizesWrites { try messagesHandle.synchronize() }
        } catch {
            lastError = error
        }
        writeSequenceNumbers()
    }

    private func writeSequenceNumbers() {
        var record = [UInt8](repeating: UInt8(ascii: "0"), count: Self.seqnumsRecordSize)
        func put(_ value: Int, endingAt end: Int) {
            var v = max(0, value)
            var i = end
            repeat {
                record[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                i -= 1
            } while v > 0 && i >= end - 19
        }
        put(sender, endingAt: 19)
        record[20] = UInt8(ascii: " ")
        put(target, endingAt: 40)
        record[41] = UInt8(ascii: "\n")
        let written = record.withUnsafeBytes { pwrite(seqnumsDescriptor, $0.baseAddress, $0.count, 0) }
        if written != record.count {
            lastError = CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory.path + "/seqnums"])
        } else if synchronizesWrites {
            _ = fsync(seqnumsDescriptor)
        }
    }

    private static func readUInt32(_ data: Data, _ offset: Int) -> Int {
        var value = 0
        for byteIndex in 0..<4 {
            value |= Int(data[data.startIndex + offset + byteIndex]) << (8 * byteIndex)
        }
        return value
    }

    private static func appendUInt32(_ data: inout Data, _ value: Int) {
        for byteIndex in 0..<4 { data.append(UInt8(truncatingIfNeeded: value >> (8 * byteIndex))) }
    }
}
