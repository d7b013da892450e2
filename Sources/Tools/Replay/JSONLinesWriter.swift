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

    /// Appends a finite, non-negative `value` with `digits` (1…15) significant digits, as C's
    /// `%.<digits>g` prints it: fixed notation for exponents −4 up to `digits` − 1, else
    /// `d.ddde-XX`; trailing zeros (and a bare point) dropped (`0.913042`, `2.08551e-05`, `1`).
    /// A valid JSON number. No allocation.
    public mutating func append(significant value: Double, digits: Int = 6) {
        precondition(value >= 0 && value.isFinite && (1...15).contains(digits))
        if value == 0 {
            append(byte: UInt8(ascii: "0"))
            return
        }
        // The value as `mantissa` × 10^(exponent − digits + 1), `mantissa` with exactly `digits` digits.
        var exponent = Int(log10(value).rounded(.down))
        var scale = 1.0
        for _ in 0..<digits - 1 { scale *= 10 }  // 10^(digits − 1)
        var mantissa = UInt64((value / Self.power(exponent) * scale).rounded())
        if mantissa < UInt64(scale) {  // log10 rounded up across a power of ten
            exponent -= 1
            mantissa = UInt64((value / Self.power(exponent) * scale).rounded())
        }
        if mantissa >= UInt64(scale * 10) {  // rounding carried into one more digit
            exponent += 1
            mantissa = UInt64((value / Self.power(exponent) * scale).rounded())
        }
        // The digits, most significant first, trailing zeros dropped.
        var digitBytes: (UInt64, UInt64) = (0, 0)  // 16 bytes of stack scratch
        withUnsafeMutableBytes(of: &digitBytes) { scratch in
            var m = mantissa
            for i in stride(from: digits - 1, through: 0, by: -1) {
                scratch[i] = UInt8(truncatingIfNeeded: m % 10) + UInt8(ascii: "0")
                m /= 10
            }
            var count = digits
            while count > 1 && scratch[count - 1] == UInt8(ascii: "0") { count -= 1 }
            if exponent < -4 || exponent >= digits {
                append(byte: scratch[0])
                if count > 1 {
                    append(byte: UInt8(ascii: "."))
                    for i in 1..<count { append(byte: scratch[i]) }
                }
                append(byte: UInt8(ascii: "e"))
                append(byte: UInt8(ascii: exponent < 0 ? "-" : "+"))
                if exponent.magnitude < 10 { append(byte: UInt8(ascii: "0")) }
                append(UInt64(exponent.magnitude))
            } else if exponent < 0 {
                append(byte: UInt8(ascii: "0"))
                append(byte: UInt8(ascii: "."))
                for _ in 0..<(-exponent - 1) { append(byte: UInt8(ascii: "0")) }
                for i in 0..<count { append(byte: scratch[i]) }
            } else {
                for i in 0...exponent { append(byte: scratch[i]) }
                if count > exponent + 1 {
                    append(byte: UInt8(ascii: "."))
                    for i in (exponent + 1)..<count { append(byte: scratch[i]) }
                }
            }
        }
    }

    /// 10^`exponent`, exact for the exponents a probability prints with.
    static func power(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent.magnitude { result *= 10 }
        return exponent < 0 ? 1 / result : result
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
