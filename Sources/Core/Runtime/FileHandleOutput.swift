#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Unbuffered writes to standard output and standard error: a parent process waiting for a line
/// (`gateway ready`, a progress line) sees it at once, and lines from several threads do not
/// interleave within a write.
public enum FileHandleOutput {
    /// Writes `text` straight to file descriptor 1.
    public static func standardOutput(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(1, bytes.baseAddress, bytes.count) }
    }

    /// Writes `text` straight to file descriptor 2.
    public static func standardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}
