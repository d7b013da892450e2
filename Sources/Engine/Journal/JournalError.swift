#if canImport(Glibc)
    import Glibc
#endif

/// Why a journal or snapshot operation failed. Every case names the file or what was done.
public enum JournalError: Error, Equatable, CustomStringConvertible {
    /// A system call failed: what was attempted, and `errno` (or the call's error number).
    case system(String, Int32)
    /// A file is not what it should be: its path and what is wrong.
    case corrupt(String, String)
    /// The journal or a snapshot was written by a shard configured differently.
    case identityMismatch(path: String, stored: String, configured: String)
    /// The journal cannot be used as configured.
    case invalidConfiguration(String)
    /// Replaying the journal did not reproduce it.
    case replay(String)

    public var description: String {
        switch self {
        case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
        case .corrupt(let path, let why): "\(path): \(why)"
        case .identityMismatch(let path, let stored, let configured):
            "\(path) was written by a shard configured as [\(stored)], but this shard is configured as "
                + "[\(configured)]: refusing to recover another shard's history (restore the configuration, or "
                + "move the journal folder away to start this shard empty)"
        case .invalidConfiguration(let why): why
        case .replay(let why): why
        }
    }
}
