#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// JSONLineScanner: a strict, allocation-free JSON reader for one command line.
//
// It validates the whole line as one JSON object (RFC 8259: strict number grammar, string
// escapes, UTF-8, no NaN/Infinity, nothing after the object) and records the values of the
// handful of keys the replay protocol knows. Values of other keys are validated and skipped.
//
// Invariants:
// - `scratch` holds `scratchCapacity` bytes, allocated once; decoded strings of known keys are
//   stored there as (start, count) ranges, valid until the next `scan`. A decoded string is
//   never longer than its encoded form, so a line no longer than `scratchCapacity` always fits.
// - Reads go through `byte(at:)`, which answers 0 past the end of the line. A real 0 byte is
//   invalid everywhere in JSON text, so the sentinel can only end a scan with an error.
// - Nesting deeper than `maxDepth` (the line's object being level 1) is an error: recursion is bounded.

/// The keys the replay protocol reads; every other key is skipped.
public enum CommandKey: Int, CaseIterable, Sendable {
    case op, id, account, symbol, side, type, tif, price, qty, postOnly, ts

    /// The key as it appears in JSON.
    public var name: String {
        switch self {
        case .op: "op"
        case .id: "id"
        case .account: "account"
        case .symbol: "symbol"
        case .side: "side"
        case .type: "type"
        case .tif: "tif"
        case .price: "price"
        case .qty: "qty"
        case .postOnly: "post_only"
        case .ts: "ts"
        }
    }
}

/// The value a known key had on the line.
@frozen
public struct ScannedValue: Sendable, Equatable {
    /// What kind of JSON value it was.
    public enum Kind: UInt8, Sendable {
        case absent, null, boolean, integer, float, string, compound
    }

    public var kind: Kind = .absent
    /// For `.boolean`.
    public var boolean: Bool = false
    /// For `.integer`: the absolute value (meaningless when `overflow`).
    public var magnitude: UInt64 = 0
    /// For `.integer`: a leading minus sign.
    public var negative: Bool = false
    /// For `.integer`: the absolute value does not fit 64 bits.
    public var overflow: Bool = false
    /// For `.string`: the decoded UTF-8 bytes in the scanner's scratch buffer.
    public var stringStart: Int = 0
    public var stringCount: Int = 0

    public init() {}

    /// The value as an unsigned 64-bit integer, when it is one (`-0` counts as 0).
    @inlinable public var uint64: UInt64? {
        guard kind == .integer, !overflow, !negative || magnitude == 0 else { return nil }
        return magnitude
    }

    /// The value clamped for price/quantity checks: itself when it fits `1...Int64.max`,
    /// otherwise 0 (every out-of-range integer is invalid, and 0 is rejected by the same check).
    @inlinable public var positiveInt64OrZero: Int64 {
        guard kind == .integer, !overflow, !negative, magnitude <= UInt64(Int64.max) else { return 0 }
        return Int64(magnitude)
    }
}

/// Scans one line of JSON into the values of the known keys.
public struct JSONLineScanner {
    /// Longest line accepted (1 MiB).
    public static let maxLineLength = 1 << 20
    /// Deepest nesting accepted, counting the line's own object as level 1.
    public static let maxDepth = 64

    @usableFromInline let scratch: UnsafeMutablePointer<UInt8>
    @usableFromInline let scratchCapacity: Int
    @usableFromInline var scratchUsed = 0
    @usableFromInline var values: [ScannedValue]
    @usableFromInline var line: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
    @usableFromInline var pos = 0

    /// A scanner with its own scratch buffer (freed with ``deallocate()``).
    public init() {
        scratchCapacity = Self.maxLineLength
        scratch = .allocate(capacity: scratchCapacity)
        values = Array(repeating: ScannedValue(), count: CommandKey.allCases.count)
    }

    /// Frees the scratch buffer.
    public func deallocate() { scratch.deallocate() }

    /// The value recorded for `key` by the last successful ``scan(_:)``.
    @inlinable public subscript(key: CommandKey) -> ScannedValue { values[key.rawValue] }

    /// The decoded bytes of a `.string` value, valid until the next scan.
    @inlinable
    public func bytes(of value: ScannedValue) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: scratch + value.stringStart, count: value.stringCount)
    }

    /// True when the decoded string value equals `literal` (ASCII).
    @inlinable
    public func string(_ value: ScannedValue, equals literal: StaticString) -> Bool {
        guard value.kind == .string, value.stringCount == literal.utf8CodeUnitCount else { return false }
        return memcmp(scratch + value.stringStart, literal.utf8Start, value.stringCount) == 0
    }

    /// Scans `line`. Returns true when it is exactly one valid JSON object (surrounding
    /// whitespace allowed); the known keys' values are then available through the subscript.
    public mutating func scan(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard line.count <= scratchCapacity else { return false }
        self.line = line
        pos = 0
        scratchUsed = 0
        for i in values.indices { values[i] = ScannedValue() }
        skipWhitespace()
        guard byte() == UInt8(ascii: "{") else { return false }
        guard scanTopObject() else { return false }
        skipWhitespace()
        return pos == line.count
    }

    // MARK: Bytes

    @inlinable @inline(__always)
    func byte() -> UInt8 { pos < line.count ? line[pos] : 0 }

    @inlinable @inline(__always)
    mutating func skipWhitespace() {
        while pos < line.count {
            let c = line[pos]
            guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { return }
            pos += 1
        }
    }

    @inlinable @inline(__always)
    mutating func expect(_ c: UInt8) -> Bool {
        guard byte() == c else { return false }
        pos += 1
        return true
    }

    // MARK: Objects

    mutating func scanTopObject() -> Bool {
        pos += 1  // {
        skipWhitespace()
        if expect(UInt8(ascii: "}")) { return true }
        while true {
            skipWhitespace()
            let keyStart = scratchUsed
            guard byte() == UInt8(ascii: "\""), scanString() else { return false }
            let key = knownKey(start: keyStart, count: scratchUsed - keyStart)
            scratchUsed = keyStart  // keys are not kept
            skipWhitespace()
            guard expect(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            if let key {
                guard let value = scanValue() else { return false }
                values[key.rawValue] = value
            } else {
                let mark = scratchUsed
                guard skipValue(depth: 2) else { return false }
                scratchUsed = mark
            }
            skipWhitespace()
            if expect(UInt8(ascii: ",")) { continue }
            return expect(UInt8(ascii: "}"))
        }
    }

    func knownKey(start: Int, count: Int) -> CommandKey? {
        for key in CommandKey.allCases {
            let name = key.name.utf8
            if name.count == count && name.elementsEqual(UnsafeBufferPointer(start: scratch + start, count: count)) {
                return key
            }
        }
        return nil
    }

    /// A value of a known key: scalars recorded, compound values validated and marked.
    mutating func scanValue() -> ScannedValue? {
        var value = ScannedValue()
        switch byte() {
        case UInt8(ascii: "\""):
            let start = scratchUsed
            guard scanString() else { return nil }
            value.kind = .string
            value.stringStart = start
            value.stringCount = scratchUsed - start
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard scanNumber(into: &value) else { return nil }
        case UInt8(ascii: "t"):
            guard literal("true") else { return nil }
            value.kind = .boolean
            value.boolean = true
        case UInt8(ascii: "f"):
            guard literal("false") else { return nil }
            value.kind = .boolean
        case UInt8(ascii: "n"):
            guard literal("null") else { return nil }
            value.kind = .null
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let mark = scratchUsed
            guard skipValue(depth: 2) else { return nil }
            scratchUsed = mark
            value.kind = .compound
        default:
            return nil
        }
        return value
    }

    /// Validates and skips any JSON value.
    mutating func skipValue(depth: Int) -> Bool {
        switch byte() {
        case UInt8(ascii: "{"):
            guard depth <= Self.maxDepth else { return false }
            pos += 1
            skipWhitespace()
            if expect(UInt8(ascii: "}")) { return true }
            while true {
                skipWhitespace()
                guard byte() == UInt8(ascii: "\""), scanString() else { return false }
                skipWhitespace()
                guard expect(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                if expect(UInt8(ascii: ",")) { continue }
                return expect(UInt8(ascii: "}"))
            }
        case UInt8(ascii: "["):
            guard depth <= Self.maxDepth else { return false }
            pos += 1
            skipWhitespace()
            if expect(UInt8(ascii: "]")) { return true }
            while true {
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                if expect(UInt8(ascii: ",")) { continue }
                return expect(UInt8(ascii: "]"))
            }
        default:
            return scanValue() != nil
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard pos + n <= line.count, memcmp(line.baseAddress! + pos, word.utf8Start, n) == 0 else { return false }
        pos += n
        return true
    }

    // MARK: Numbers

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    mutating func scanNumber(into value: inout ScannedValue) -> Bool {
        value.negative = expect(UInt8(ascii: "-"))
        var magnitude: UInt64 = 0
        var overflow = false
        let first = byte()
        guard first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else { return false }
        if first == UInt8(ascii: "0") {
            pos += 1
        } else {
            while case let c = byte(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(c &- UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = sum
                pos += 1
            }
        }
        var isFloat = false
        if byte() == UInt8(ascii: ".") {
            pos += 1
            guard digits() else { return false }
            isFloat = true
        }
        if byte() == UInt8(ascii: "e") || byte() == UInt8(ascii: "E") {
            pos += 1
            if byte() == UInt8(ascii: "+") || byte() == UInt8(ascii: "-") { pos += 1 }
            guard digits() else { return false }
            isFloat = true
        }
        value.kind = isFloat ? .float : .integer
        value.magnitude = magnitude
        value.overflow = overflow
        return true
    }

    /// One or more digits.
    mutating func digits() -> Bool {
        let start = pos
        while case let c = byte(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { pos += 1 }
        return pos > start
    }

    // MARK: Strings

    /// Decodes a string (at its opening quote) onto the end of the scratch buffer.
    mutating func scanString() -> Bool {
        pos += 1  // "
        while true {
            guard pos < line.count else { return false }
            let c = line[pos]
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                return true
            case UInt8(ascii: "\\"):
                pos += 1
                guard decodeEscape() else { return false }
            case 0..<0x20:
                return false
            case 0x20..<0x80:
                append(c)
                pos += 1
            default:
                guard copyUTF8Sequence() else { return false }
            }
        }
    }

    @inlinable @inline(__always)
    mutating func append(_ c: UInt8) {
        scratch[scratchUsed] = c
        scratchUsed += 1
    }

    mutating func decodeEscape() -> Bool {
        let c = byte()
        pos += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): append(c)
        case UInt8(ascii: "b"): append(0x08)
        case UInt8(ascii: "f"): append(0x0C)
        case UInt8(ascii: "n"): append(0x0A)
        case UInt8(ascii: "r"): append(0x0D)
        case UInt8(ascii: "t"): append(0x09)
        case UInt8(ascii: "u"):
            guard var scalar = hex4() else { return false }
            if scalar >= 0xD800 && scalar < 0xDC00 {
                // A high surrogate must be followed by an escaped low surrogate.
                guard expect(UInt8(ascii: "\\")), expect(UInt8(ascii: "u")), let low = hex4(),
                    low >= 0xDC00 && low < 0xE000
                else { return false }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                return false  // lone low surrogate
            }
            appendUTF8(scalar)
        default:
            return false
        }
        return true
    }

    mutating func hex4() -> UInt32? {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = byte()
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            append(UInt8(scalar))
        case 0x80..<0x800:
            append(UInt8(0xC0 | scalar >> 6))
            append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            append(UInt8(0xE0 | scalar >> 12))
            append(UInt8(0x80 | scalar >> 6 & 0x3F))
            append(UInt8(0x80 | scalar & 0x3F))
        default:
            append(UInt8(0xF0 | scalar >> 18))
            append(UInt8(0x80 | scalar >> 12 & 0x3F))
            append(UInt8(0x80 | scalar >> 6 & 0x3F))
            append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Copies one well-formed UTF-8 sequence (no overlongs, no surrogates, ≤ U+10FFFF).
    mutating func copyUTF8Sequence() -> Bool {
        let lead = line[pos]
        let length: Int
        var minimum: UInt32
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; minimum = 0x80; scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; minimum = 0x800; scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; minimum = 0x10000; scalar = UInt32(lead & 0x07)
        default: return false
        }
        guard pos + length <= line.count else { return false }
        for i in 1..<length {
            let c = line[pos + i]
            guard c & 0xC0 == 0x80 else { return false }
            scalar = scalar << 6 | UInt32(c & 0x3F)
        }
        guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800..<0xE000).contains(scalar) else { return false }
        for i in 0..<length { append(line[pos + i]) }
        pos += length
        return true
    }
}
