#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a ``JSONLinesWriter`` sends its bytes.
public enum OutputTarget {
    /// A file descriptor (e.g. 1 for standard output), written with `write(2)`.
    case fileDescriptor(Int32)
    /// An in-memory byte array (tests), read back with ``JSONLinesWriter/collected``.
    case memory
}

/// An error writing output.
public struct OutputError: Error, CustomStringConvertible {
    /// The `errno` of the failed `write(2)`.
    public var code: Int32
    public var description: String { "write failed: \(String(cString: strerror(code)))" }
}

/// Builds JSON Lines in a fixed buffer and writes it out in large blocks.
///
/// Appending never allocates (the buffer is allocated once); the buffer is flushed when an
/// append would not fit and on ``flush()``.
public struct JSONLinesWriter {
    @usableFromInline let buffer: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    @usableFromInline var used = 0
    let target: OutputTarget
    /// Everything flushed so far, for `.memory`.
    public private(set) var collected: [UInt8] = []
    /// The first write error; later writes are dropped once set.
    public private(set) var error: OutputError?

    /// A writer with a `capacity`-byte buffer (at least 4 KiB).
    public init(target: OutputTarget, capacity: Int = 1 << 18) {
        self.capacity = max(capacity, 4096)
        self.target = target
        buffer = .allocate(capacity: self.capacity)
    }

    /// Frees the buffer (after a final ``flush()``).
    public func deallocate() { buffer.deallocate() }

    /// Writes out what is buffered.
    public mutating func flush() {
        guard used > 0 else { return }
        defer { used = 0 }
        switch target {
        case .memory:
            collected.append(contentsOf: UnsafeBufferPointer(start: buffer, count: used))
        case .fileDescriptor(let fd):
            guard error == nil else { return }
            var offset = 0
            while offset < used {
                let n = write(fd, buffer + offset, used - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    error = OutputError(code: errno)
                    return
                }
                offset += n
            }
        }
    }

    /// Makes room for `n` bytes (n ≤ capacity).
    @inlinable @inline(__always)
    mutating func reserve(_ n: Int) {
        if used + n > capacity { flush() }
    }

    /// Appends ASCII text.
    @inlinable
    public mutating func append(_ text: StaticString) {
        let n = text.utf8CodeUnitCount
        reserve(n)
        (buffer + used).update(from: text.utf8Start, count: n)
        used += n
    }

    /// Appends one byte.
    @inlinable
    public mutating func append(byte: UInt8) {
        reserve(1)
        buffer[used] = byte
        used += 1
    }

    /// Appends an unsigned integer in decimal.
    @inlinable
    public mutating func append(_ value: UInt64) {
        reserve(20)
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes of stack scratch
        withUnsafeMutableBytes(of: &digits) { scratch in
            var v = value
            var i = 32
            repeat {
                i -= 1
                scratch[i] = UInt8(truncatingIfNeeded: v % 10) + UInt8(ascii: "0")
                v /= 10
            } while v > 0
            let n = 32 - i
            (buffer + used).update(from: scratch.baseAddress!.assumingMemoryBound(to: UInt8.self) + i, count: n)
            used += n
        }
    }

    /// Appends a signed integer in decimal.
    @inlinable
    public mutating func append(_ value: Int64) {
        if value < 0 { append(byte: UInt8(ascii: "-")) }
        append(value.magnitude)
    }

    /// Appends `bytes` as a JSON string: quotes, `"` and `\` escaped, control characters as
    /// `\n`, `\r`, `\t`, `\b`, `\f` or `\u00xx`; everything else raw UTF-8.
    public mutating func appendJSONString<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        append(byte: UInt8(ascii: "\""))
        for c in bytes {
            switch c {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case 0..<0x20:
                append("\\u00")
                let hex: StaticString = "0123456789abcdef"
                append(byte: hex.utf8Start[Int(c >> 4)])
                append(byte: hex.utf8Start[Int(c & 0xF)])
            default: append(byte: c)
            }
        }
        append(byte: UInt8(ascii: "\""))
    }
}
