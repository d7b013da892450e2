/// Why bytes are not a valid message (or datagram).
///
/// A stream decoder checks, in this order: the length field (`badLength` when below 4,
/// `messageTooLarge` above ``BinaryFormat/maxMessageSize``), that all `length` bytes are there
/// (else it asks for more bytes), the version (`unsupportedVersion`), the type (`unknownType`),
/// the length against the type's fixed size (`badLength`), then the body's enum, text and reserved
/// bytes (`badEnum`, `badText`, `nonZeroReserved`, first failure by offset order of the checks).
/// Any byte sequence either decodes to a valid message, which encodes back to the same bytes (up to
/// a symbol's space padding), or gives one of these errors; none traps.

import FencedCollections

@frozen
public enum BinaryProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The length field is below the 4-byte header, or is not the fixed size of its (known) type.
    /// `expected` is the type's size, `nil` when the length is below the header. Framing is lost.
    case badLength(declared: Int, expected: Int?)
    /// The length field is above ``BinaryFormat/maxMessageSize``. Framing is lost.
    case messageTooLarge(declared: Int)
    /// The version byte is not 1. Nothing after the header is read.
    case unsupportedVersion(UInt8)
    /// The type byte is not a message type of this direction.
    case unknownType(UInt8)
    /// An enum, flags or error-code field holds a value outside its table.
    case badEnum(BinaryField, UInt16)
    /// A fixed-width text field is not valid ASCII of its kind; `offset` is the bad byte's
    /// position in the message.
    case badText(BinaryField, offset: Int)
    /// A reserved byte is not zero; `offset` is its position in the message.
    case nonZeroReserved(offset: Int)
    /// A datagram (or a buffer decoded as exactly one message) is shorter than its header or
    /// message needs.
    case truncated(needed: Int, actual: Int)
    /// A datagram is longer than its header and one message.
    case trailingBytes(expected: Int, actual: Int)

    /// `true` when a TCP reader cannot find the next message any more (a bad or oversized
    /// length) and must disconnect.
    public var losesFraming: Bool {
        switch self {
        case .badLength, .messageTooLarge: true
        default: false
        }
    }

    /// The error code a gateway answers this error with (`rejected` with kind `other`).
    public var errorCode: ErrorCode {
        switch self {
        case .messageTooLarge: .messageTooLarge
        case .unsupportedVersion: .unsupportedVersion
        case .unknownType: .unknownMessageType
        case .badLength, .badEnum, .badText, .nonZeroReserved, .truncated, .trailingBytes: .malformed
        }
    }

    /// A one-line explanation for logs.
    public var description: String {
        switch self {
        case .badLength(let declared, let expected?): "length field \(declared), the type's size is \(expected)"
        case .badLength(let declared, nil): "length field \(declared) is shorter than the header"
        case .messageTooLarge(let declared): "length field \(declared) exceeds \(BinaryFormat.maxMessageSize)"
        case .unsupportedVersion(let version): "unsupported protocol version \(version)"
        case .unknownType(let type): "unknown message type \(type)"
        case .badEnum(let field, let value): "invalid \(field) value \(value)"
        case .badText(let field, let offset): "invalid \(field) byte at offset \(offset)"
        case .nonZeroReserved(let offset): "reserved byte at offset \(offset) is not zero"
        case .truncated(let needed, let actual): "\(actual) bytes, need \(needed)"
        case .trailingBytes(let expected, let actual): "\(actual) bytes for a \(expected)-byte datagram"
        }
    }
}

/// The checked fields of the messages, named in ``BinaryProtocolError``.
@frozen
public enum BinaryField: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// ``BinarySide``: 1 buy, 2 sell.
    case side
    /// ``BinaryOrderType``: 1 limit, 2 market.
    case orderType
    /// ``BinaryTimeInForce``: 1 GTC, 2 IOC, 3 FOK.
    case timeInForce
    /// A new order's flags: bit 0 post-only, other bits 0.
    case flags
    /// ``RequestKind``: 0…3.
    case requestKind
    /// ``BinaryCancelReason``: 0…3, 100, 101.
    case cancelReason
    /// A replaced report's kept-priority flag: 0 or 1.
    case keptPriority
    /// ``LogoutReason``: 0…5.
    case logoutReason
    /// ``ErrorCode``: 0…9, 100…116.
    case errorCode
    /// ``SymbolCode``: 1–8 characters `!`…`~`, then zero or space padding.
    case symbol
    /// ``Username``: 1–16 characters `!`…`~`, then zero padding.
    case username
    /// ``Password``: 0–32 characters space…`~`, then zero padding.
    case password

    /// The field's name as in docs/protocol.md.
    public var description: String {
        switch self {
        case .side: "side"
        case .orderType: "ordType"
        case .timeInForce: "timeInForce"
        case .flags: "flags"
        case .requestKind: "requestKind"
        case .cancelReason: "reason"
        case .keptPriority: "keptPriority"
        case .logoutReason: "reason"
        case .errorCode: "errorCode"
        case .symbol: "symbol"
        case .username: "username"
        case .password: "password"
        }
    }
}

/// Reads a message's body fields and keeps the first problem found, so the layouts read straight
/// through without `throws` and the caller checks ``error`` once at the end. On a bad byte the
/// field reads as a placeholder value that the caller never returns.
struct BinaryFieldDecoder {
    let reader: ByteReader
    /// The first problem found, if any.
    private(set) var error: BinaryProtocolError?

    init(_ reader: ByteReader) {
        self.reader = reader
    }

    func u32(_ offset: Int) -> UInt32 { reader.u32(offset) }
    func u64(_ offset: Int) -> UInt64 { reader.u64(offset) }
    func i64(_ offset: Int) -> Int64 { reader.i64(offset) }

    mutating func fail(_ problem: BinaryProtocolError) {
        if error == nil { error = problem }
    }

    /// The enum whose raw value is the byte at `offset`, or `placeholder` and a `badEnum` error.
    mutating func enumeration<E: RawRepresentable>(_ offset: Int, _ field: BinaryField, placeholder: E) -> E
    where E.RawValue == UInt8 {
        let raw = reader.u8(offset)
        if let value = E(rawValue: raw) { return value }
        fail(.badEnum(field, UInt16(raw)))
        return placeholder
    }

    /// A `Bool` byte: 0 or 1, anything else is a `badEnum` error.
    mutating func bool(_ offset: Int, _ field: BinaryField) -> Bool {
        let raw = reader.u8(offset)
        if raw > 1 { fail(.badEnum(field, UInt16(raw))) }
        return raw == 1
    }

    /// The ``ErrorCode`` at `offset` (2 bytes).
    mutating func errorCode(_ offset: Int) -> ErrorCode {
        let raw = reader.u16(offset)
        if let code = ErrorCode(rawValue: raw) { return code }
        fail(.badEnum(.errorCode, raw))
        return .malformed
    }

    /// The symbol at `offset` (8 bytes), space padding turned into zeros.
    mutating func symbol(_ offset: Int) -> SymbolCode {
        let raw = reader.u64(offset)
        if let normalized = FixedText.normalizedSymbol(raw) { return SymbolCode(checked: normalized) }
        let bad = FixedText.firstInvalidByte(count: 8, allowsSpace: false, allowsEmpty: false) { _ in
            // Space padding is valid in a symbol: read spaces as zeros for the position search,
            // which then points at the first byte that broke the rules.
            var word = raw
            for index in 0..<8 where FixedText.byte(index, raw) == 0x20 {
                word &= ~(UInt64(0xFF) << (8 * UInt64(index)))
            }
            return word
        }
        fail(.badText(.symbol, offset: offset + (bad ?? 0)))
        return SymbolCode(checked: 0)
    }

    /// Checks a zero-padded text field of `count` bytes at `offset`.
    mutating func text(_ offset: Int, count: Int, _ field: BinaryField, allowsSpace: Bool, allowsEmpty: Bool) {
        let reader = reader
        if let bad = FixedText.firstInvalidByte(
            count: count, allowsSpace: allowsSpace, allowsEmpty: allowsEmpty, word: { reader.u64(offset + 8 * $0) })
        {
            fail(.badText(field, offset: offset + bad))
        }
    }

    /// Checks that the bytes in `range` are all zero.
    mutating func zero(_ range: Range<Int>) {
        if let offset = reader.firstNonZero(range) { fail(.nonZeroReserved(offset: offset)) }
    }
}
