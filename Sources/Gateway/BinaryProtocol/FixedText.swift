// The fixed-width ASCII fields of the binary protocol: a symbol (8 bytes), a username (16) and a
// password (32). Each is held as little-endian 64-bit words (byte i of the field is bits
// 8·(i mod 8) … of word i / 8), so a message decodes into them without allocating.

/// The 8-byte ASCII code of a symbol, e.g. `"AAPL"`: 1–8 printable, non-space characters
/// (`!`…`~`), padded with zero bytes. On the wire the padding may also be spaces; decoding turns
/// them into zeros, so two codes with the same characters are equal.
@frozen
public struct SymbolCode: Hashable, Sendable, CustomStringConvertible {
    /// The 8 bytes as a little-endian integer: the first character is the low byte. Zero-padded.
    public let rawValue: UInt64

    /// The code of `name`, or `nil` unless it is 1–8 characters `!`…`~`.
    public init?(_ name: String) {
        var word: UInt64 = 0
        var count = 0
        for byte in name.utf8 {
            guard count < 8, FixedText.isVisible(byte) else { return nil }
            word |= UInt64(byte) << (8 * UInt64(count))
            count += 1
        }
        guard count > 0 else { return nil }
        rawValue = word
    }

    /// The code whose wire bytes, read as a little-endian integer, are `rawValue`; `nil` unless
    /// they are 1–8 characters `!`…`~` followed by zero or space padding (spaces become zeros).
    public init?(rawValue: UInt64) {
        guard let normalized = FixedText.normalizedSymbol(rawValue) else { return nil }
        self.rawValue = normalized
    }

    /// Wraps bytes already checked and normalized by the decoder.
    init(checked rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// The characters without padding, e.g. `"AAPL"`.
    public var name: String { FixedText.string(of: [rawValue]) }

    /// ``name``.
    public var description: String { name }
}

/// A login username: 1–16 printable, non-space ASCII characters (`!`…`~`), zero-padded to 16
/// bytes on the wire.
@frozen
public struct Username: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline let word0: UInt64
    @usableFromInline let word1: UInt64

    /// The username `string`, or `nil` unless it is 1–16 characters `!`…`~`.
    public init?(_ string: String) {
        guard let words = FixedText.words(string, capacity: 16, allowsSpace: false), string.utf8.count > 0 else {
            return nil
        }
        word0 = words.0
        word1 = words.1
    }

    init(word0: UInt64, word1: UInt64) {
        self.word0 = word0
        self.word1 = word1
    }

    /// The characters without padding.
    public var string: String { FixedText.string(of: [word0, word1]) }

    /// ``string``.
    public var description: String { string }
}

/// A login password: 0–32 printable ASCII characters (space…`~`), zero-padded to 32 bytes on the
/// wire. Its `description` does not show it.
@frozen
public struct Password: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline let word0: UInt64
    @usableFromInline let word1: UInt64
    @usableFromInline let word2: UInt64
    @usableFromInline let word3: UInt64

    /// The password `string`, or `nil` unless it is at most 32 characters space…`~`.
    public init?(_ string: String) {
        guard let low = FixedText.words(string, capacity: 32, allowsSpace: true) else { return nil }
        let high = FixedText.words(string, capacity: 32, allowsSpace: true, skipping: 16) ?? (0, 0)
        word0 = low.0
        word1 = low.1
        word2 = high.0
        word3 = high.1
    }

    init(word0: UInt64, word1: UInt64, word2: UInt64, word3: UInt64) {
        self.word0 = word0
        self.word1 = word1
        self.word2 = word2
        self.word3 = word3
    }

    /// The characters without padding. Handle with care: this is the secret.
    public var string: String { FixedText.string(of: [word0, word1, word2, word3]) }

    /// `"<password>"`: never the secret itself.
    public var description: String { "<password>" }
}

/// Checks and converts fixed-width ASCII fields.
enum FixedText {
    /// `!`…`~`: a character of a symbol or username.
    @inline(__always)
    static func isVisible(_ byte: UInt8) -> Bool { byte >= 0x21 && byte <= 0x7E }

    /// Byte `index` of a field held as little-endian words.
    @inline(__always)
    static func byte(_ index: Int, _ word: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: word >> (8 * UInt64(index & 7)))
    }

    /// The symbol word with space padding turned into zeros, or `nil` when the characters are not
    /// 1–8 `!`…`~` followed only by zero or space bytes.
    static func normalizedSymbol(_ word: UInt64) -> UInt64? {
        var normalized: UInt64 = 0
        var padding = false
        for index in 0..<8 {
            let byte = byte(index, word)
            if padding || byte == 0 || byte == 0x20 {
                guard byte == 0 || byte == 0x20 else { return nil }
                padding = true
            } else {
                guard isVisible(byte) else { return nil }
                normalized |= UInt64(byte) << (8 * UInt64(index))
            }
        }
        return normalized == 0 ? nil : normalized
    }

    /// The offset (within the field) of the first invalid byte of a zero-padded text field of
    /// `count` bytes whose little-endian words `word(i)` gives, or `nil` when it is valid:
    /// characters `!`…`~` (or space too, when `allowsSpace`), then only zero bytes; at least one
    /// character unless `allowsEmpty`.
    static func firstInvalidByte(
        count: Int, allowsSpace: Bool, allowsEmpty: Bool, word: (Int) -> UInt64
    ) -> Int? {
        var padding = false
        for index in 0..<count {
            let byte = byte(index, word(index / 8))
            if byte == 0 {
                if index == 0 && !allowsEmpty { return 0 }
                padding = true
            } else if padding || !(isVisible(byte) || (allowsSpace && byte == 0x20)) {
                return index
            }
        }
        return nil
    }

    /// Sixteen bytes of `string` from byte `skipping` as two little-endian words, or `nil` when
    /// `string` is longer than `capacity` or has a byte outside `!`…`~` (and space, when
    /// `allowsSpace`).
    static func words(
        _ string: String, capacity: Int, allowsSpace: Bool, skipping: Int = 0
    ) -> (UInt64, UInt64)? {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var index = 0
        for byte in string.utf8 {
            guard index < capacity, isVisible(byte) || (allowsSpace && byte == 0x20) else { return nil }
            let position = index - skipping
            if position >= 0 && position < 8 {
                low |= UInt64(byte) << (8 * UInt64(position))
            } else if position >= 8 && position < 16 {
                high |= UInt64(byte) << (8 * UInt64(position - 8))
            }
            index += 1
        }
        return (low, high)
    }

    /// The text held in `words` up to the first zero byte.
    static func string(of words: [UInt64]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(words.count * 8)
        for index in 0..<(words.count * 8) {
            let byte = byte(index, words[index / 8])
            if byte == 0 { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
