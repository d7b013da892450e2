#if canImport(Glibc)
    import Glibc
#endif

/// The files of one shard's journal folder.
public enum JournalDirectory {
    /// The folder of shard `shard` under the journal root: `<root>/shard-<shard>`.
    public static func path(root: String, shard: Int) -> String { "\(root)/shard-\(shard)" }

    /// Creates `path` and its parents when missing.
    public static func create(_ path: String) throws(JournalError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw .system("create the folder \(prefix)", errno) }
            prefix += "/"
        }
    }

    /// The file names in `path` (none when the folder does not exist).
    static func names(_ path: String) throws(JournalError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw .system("list \(path)", errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(dir) {
            // Safe because the name is read in place up to its NUL, inside the entry `readdir`
            // returned. (`entry.pointee.d_name` would copy the declared 256 bytes, past the end of
            // a short entry and, for the last one, of readdir's buffer.)
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The segment files of a shard folder, by first sequence.
    public static func segments(_ path: String) throws(JournalError) -> [(first: UInt64, path: String)] {
        try names(path).compactMap { name in
            JournalSegment.firstSequence(fileName: name).map { ($0, path + "/" + name) }
        }.sorted { $0.first < $1.first }
    }

    /// The snapshot files of a shard folder, by sequence.
    public static func snapshots(_ path: String) throws(JournalError) -> [(sequence: UInt64, path: String)] {
        try names(path).compactMap { name in
            SnapshotFile.sequence(fileName: name).map { ($0, path + "/" + name) }
        }.sorted { $0.sequence < $1.sequence }
    }

    /// Removes the temporary files an interrupted segment or snapshot creation left.
    public static func removeTemporaryFiles(_ path: String) throws(JournalError) {
        for name in try names(path) where name.hasSuffix(".tmp") { unlink(path + "/" + name) }
    }
}

/// Reads a shard's journal by sequence, from any thread or process: maps segments read-only as
/// it needs them (a few at a time) and returns only valid records.
///
/// Used by the shard's replay server (behind the engine, up to what it committed), by recovery,
/// by the snapshot writer and by `chronos journal`.
public final class JournalReader {
    /// The shard folder.
    public let directory: String
    private var known: [(first: UInt64, path: String)] = []
    private var mapped: [JournalSegment] = []
    /// Most segments kept mapped at once.
    private let mappedLimit = 4

    /// A reader of the journal in `directory` (which may not exist yet).
    public init(directory: String) throws(JournalError) {
        self.directory = directory
        try refresh()
    }

    /// Lists the folder again (new segments appear as the shard rolls over).
    public func refresh() throws(JournalError) {
        known = try JournalDirectory.segments(directory)
    }

    /// The first sequence the journal's oldest segment holds (nil: no segment).
    public var firstSequence: UInt64? { known.first?.first }

    /// The segment files, by first sequence.
    public var segmentFiles: [(first: UInt64, path: String)] { known }

    /// The frame of `sequence`, when the journal holds a valid record of it. The buffer is valid
    /// until the next call on this reader.
    public func frame(_ sequence: UInt64) throws(JournalError) -> UnsafeRawBufferPointer? {
        guard let segment = try segment(containing: sequence) else { return nil }
        return segment.frame(sequence)
    }

    /// The mapped segment holding `sequence`, if a file holds it.
    public func segment(containing sequence: UInt64) throws(JournalError) -> JournalSegment? {
        if let hit = mapped.first(where: { $0.contains(sequence) }) { return hit }
        var candidate = known.last(where: { $0.first <= sequence })
        if candidate == nil || candidate!.first == known.last?.first {
            try refresh()  // a newer segment may have appeared
            candidate = known.last(where: { $0.first <= sequence })
        }
        guard let candidate else { return nil }
        let segment = try JournalSegment.open(path: candidate.path, writable: false)
        guard segment.contains(sequence) else { return nil }
        if mapped.count >= mappedLimit { mapped.removeFirst() }
        mapped.append(segment)
        return segment
    }

    /// The last sequence of the valid records that follow `after` without a gap (`after` itself
    /// when the next one is missing).
    public func lastContiguous(after: UInt64) throws(JournalError) -> UInt64 {
        var last = after
        while try frame(last + 1) != nil { last += 1 }
        return last
    }
}

extension JournalDirectory {
    /// A new, empty folder under the system's temporary folder (`$TMPDIR`, else /tmp): a journal
    /// root for a benchmark or a test that must not recover anything from an earlier run.
    public static func makeTemporary(prefix: String = "chronos-journal") throws(JournalError) -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .system("create a temporary folder in \(base)", errno)
        }
        return String(cString: made)
    }
}
