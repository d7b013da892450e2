/// Why a buffer is not a valid frame, or why a frame could not be written.
///
/// Decoding checks, in this order: the header is there (`tooShort`), the version
/// (`badVersion`), the type (`unknownType`), the length field against the type's size
/// (`badLength`), the buffer against that size (`tooShort`, `trailingBytes`), the header's flags
/// (`nonZeroReserved`), then the body's enum, `Bool` and reserved bytes (`badEnum`,
/// `nonZeroReserved`); the first failure is reported. Any byte sequence either decodes to a valid
/// value, which encodes back to the same bytes, or gives one of these errors.
@frozen
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The buffer holds fewer bytes than needed: fewer than the 8-byte header, or fewer than the
    /// frame size of its type (a truncated frame).
    case tooShort(needed: Int, actual: Int)
    /// Header byte 0 is not a version this code reads (only 1). The rest of the frame is not
    /// looked at: another version may lay out every byte after the first differently.
    case badVersion(UInt8)
    /// Header byte 1 is not a ``WireMessageType``.
    case unknownType(UInt8)
    /// The header's length field is not the fixed frame size of its type.
    case badLength(declared: Int, expected: Int)
    /// The buffer is longer than the frame its header describes (one frame per buffer).
    case trailingBytes(expected: Int, actual: Int)
    /// A byte that holds an enum or a `Bool` is out of range for it.
    case badEnum(WireField, UInt8)
    /// A byte that must be zero is not: the header's flags, padding, an absent optional value,
    /// or a byte the event's kind does not use. `offset` is its position in the frame.
    case nonZeroReserved(offset: Int)
    /// Encoding: the destination buffer is smaller than the frame.
    case bufferTooSmall(needed: Int, available: Int)

    /// A one-line explanation for logs.
    public var description: String {
        switch self {
        case .tooShort(let needed, let actual): "frame too short: \(actual) bytes, need \(needed)"
        case .badVersion(let version): "unknown wire format version \(version)"
        case .unknownType(let type): "unknown message type \(type)"
        case .badLength(let declared, let expected): "length field \(declared), the type's size is \(expected)"
        case .trailingBytes(let expected, let actual): "\(actual) bytes for a \(expected)-byte frame"
        case .badEnum(let field, let value): "invalid \(field) byte \(value)"
        case .nonZeroReserved(let offset): "reserved byte at offset \(offset) is not zero"
        case .bufferTooSmall(let needed, let available): "buffer of \(available) bytes, frame needs \(needed)"
        }
    }
}

/// The enum and `Bool` fields of the frames, named in ``WireError/badEnum(_:_:)``.
@frozen
public enum WireField: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// ``Side``: 0 buy, 1 sell (also a fill's taker side, a trade's aggressor side).
    case side
    /// ``OrderType``: 0 limit, 1 market.
    case orderType
    /// ``TimeInForce``: 0 GTC, 1 IOC, 2 FOK.
    case timeInForce
    /// The post-only flag: 0 or 1.
    case postOnly
    /// A replace's presence bits: bit 0 price, bit 1 quantity, no other bit.
    case replaceFields
    /// The kind of an event frame: 0 accepted, 1 rejected, 2 fill, 3 canceled, 4 replaced.
    case eventKind
    /// ``CommandKind`` of a rejection: 0 new, 1 cancel, 2 replace.
    case commandKind
    /// ``RejectReason``: 0...9.
    case rejectReason
    /// ``CancelReason``: 0...3.
    case cancelReason
    /// A replaced event's kept-priority flag: 0 or 1.
    case keptPriority
    /// ``ReplayStatus``: 0...4.
    case replayStatus
    /// ``RiskVerdict/action``: 0...3.
    case riskAction
    /// ``RiskVerdict/modelStatus``: 0...2.
    case modelStatus

    /// The field's name as in docs/wire-format.md.
    public var description: String {
        switch self {
        case .side: "side"
        case .orderType: "orderType"
        case .timeInForce: "timeInForce"
        case .postOnly: "postOnly"
        case .replaceFields: "replaceFields"
        case .eventKind: "eventKind"
        case .commandKind: "commandKind"
        case .rejectReason: "rejectReason"
        case .cancelReason: "cancelReason"
        case .keptPriority: "keptPriority"
        case .replayStatus: "replayStatus"
        case .riskAction: "riskAction"
        case .modelStatus: "modelStatus"
        }
    }
}
