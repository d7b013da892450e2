/// Constants of Chronos's internal wire format: fixed-size little-endian frames exchanged between
/// the services (gateway, engine shards, persistence, market data) over ZeroMQ, one frame per
/// message part.
///
/// Every frame starts with the same 8-byte header, then a body whose size depends only on the
/// message type (docs/wire-format.md draws every layout):
///
/// ```
/// offset size type    field    meaning
/// ------ ---- ------- -------- ---------------------------------------------------------------
///      0    1 UInt8   version  format version, 1 (a receiver drops any other: `badVersion`)
///      1    1 UInt8   type     `WireMessageType` raw value (1...9)
///      2    2 UInt16  length   total frame size in bytes, header included; must equal the type's
///                              fixed size and the size of the buffer it arrives in
///      4    2 UInt16  shard    engine shard the frame comes from or is addressed to
///                              (0 when there is one shard)
///      6    2 UInt16  flags    reserved, 0 in version 1 (`nonZeroReserved` otherwise)
/// ```
public enum WireFormat {
    /// The format version this code reads and writes (header byte 0).
    public static let version: UInt8 = 1

    /// Size of the common header in bytes.
    public static let headerSize = 8

    /// The largest frame of any type, in bytes (the `event` frame): a buffer this large holds any
    /// frame.
    public static let maxFrameSize = 96
}

/// The type byte of a frame (header byte 1). Each type has one fixed frame size.
@frozen
public enum WireMessageType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Gateway → engine: a new order (``NewOrder``), 56 bytes.
    case newOrder = 1
    /// Gateway → engine: cancel a resting order (``CancelOrder``), 32 bytes.
    case cancel = 2
    /// Gateway → engine: change a resting order's price and/or quantity (``ReplaceOrder``), 56 bytes.
    case replace = 3
    /// Engine → gateway and subscribers: one ``EngineEvent`` (the execution report), 96 bytes.
    case event = 4
    /// Engine → market data: a public trade (``PublicTrade``), 48 bytes.
    case trade = 5
    /// Engine → market data: a changed price level (``BookDelta``), 48 bytes.
    case bookDelta = 6
    /// Any service → its peers: liveness and sequence high-water mark (``Heartbeat``), 32 bytes.
    case heartbeat = 7
    /// Subscriber → engine: ask for events again (``ReplayRequest``), 24 bytes.
    case replayRequest = 8
    /// Engine → subscriber: the answer to a replay request (``ReplayResponse``), 32 bytes; the
    /// events follow as `event` frames in the next message parts.
    case replayResponse = 9
    /// Risk sidecar → gateway: the decision on a checked order (``RiskVerdict``), 32 bytes.
    case riskDecision = 10

    /// The fixed size in bytes of a frame of this type, header included.
    @inlinable
    public var frameSize: Int {
        switch self {
        case .newOrder: 56
        case .cancel: 32
        case .replace: 56
        case .event: 96
        case .trade: 48
        case .bookDelta: 48
        case .heartbeat: 32
        case .replayRequest: 24
        case .replayResponse: 32
        case .riskDecision: 32
        }
    }

    /// The type's name as in docs/wire-format.md, e.g. `"newOrder"`.
    public var description: String {
        switch self {
        case .newOrder: "newOrder"
        case .cancel: "cancel"
        case .replace: "replace"
        case .event: "event"
        case .trade: "trade"
        case .bookDelta: "bookDelta"
        case .heartbeat: "heartbeat"
        case .replayRequest: "replayRequest"
        case .riskDecision: "riskDecision"
        case .replayResponse: "replayResponse"
        }
    }
}

/// The header fields at fixed offsets (see ``WireFormat``).
enum WireHeader {
    static let version = 0
    static let type = 1
    static let length = 2
    static let shard = 4
    static let flags = 6
}
