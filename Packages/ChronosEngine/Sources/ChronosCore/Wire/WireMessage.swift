/// One internal message, as carried by one wire frame (docs/wire-format.md).
///
/// Commands and events carry `clientTimestampNanos`: the sender of a command sets it (a gateway's
/// receive time, a load generator's send time; any clock, any meaning, 0 for none), and the engine
/// copies it into every event the command causes, so the sender measures the round trip on its own
/// clock.

import FencedCollections

@frozen
public enum WireMessage: Hashable, Sendable {
    /// Gateway → engine: a new order. Frame type `newOrder`, 56 bytes.
    case newOrder(NewOrder, clientTimestampNanos: UInt64)
    /// Gateway → engine: a cancel. Frame type `cancel`, 32 bytes.
    case cancel(CancelOrder, clientTimestampNanos: UInt64)
    /// Gateway → engine: a replace. Frame type `replace`, 56 bytes.
    case replace(ReplaceOrder, clientTimestampNanos: UInt64)
    /// Engine → gateway (execution report) and PUB subscribers: one event, with the timestamp of
    /// the command that caused it (for a fill: the taker's command). Frame type `event`, 96 bytes.
    case event(EngineEvent, clientTimestampNanos: UInt64)
    /// Engine → market data: a public trade. Frame type `trade`, 48 bytes.
    case trade(PublicTrade)
    /// Engine → market data: a changed price level. Frame type `bookDelta`, 48 bytes.
    case bookDelta(BookDelta)
    /// Liveness and high-water mark. Frame type `heartbeat`, 32 bytes.
    case heartbeat(Heartbeat)
    /// Subscriber → engine: replay a range of events. Frame type `replayRequest`, 24 bytes.
    case replayRequest(ReplayRequest)
    /// Engine → subscriber: the replay answer; `event` frames follow in the next message parts.
    /// Frame type `replayResponse`, 32 bytes.
    case replayResponse(ReplayResponse)
    /// Risk sidecar → gateway: the decision on a checked order. Frame type `riskDecision`, 32 bytes.
    case riskDecision(RiskVerdict)

    /// The frame type that carries this message.
    @inlinable
    public var type: WireMessageType {
        switch self {
        case .newOrder: .newOrder
        case .cancel: .cancel
        case .replace: .replace
        case .event: .event
        case .trade: .trade
        case .bookDelta: .bookDelta
        case .heartbeat: .heartbeat
        case .replayRequest: .replayRequest
        case .replayResponse: .replayResponse
        case .riskDecision: .riskDecision
        }
    }

    /// The size in bytes of this message's frame, header included.
    @inlinable
    public var frameSize: Int { type.frameSize }

    /// The fixed size in bytes of a frame of `type`, header included (at most
    /// ``WireFormat/maxFrameSize``).
    @inlinable
    public static func size(of type: WireMessageType) -> Int { type.frameSize }
}

/// A message with the header fields that are not implied by its type: what one wire frame holds.
///
/// Encoding and decoding are O(1), never allocate, never throw and never trap on any input:
/// problems come back as a ``WireError`` value.
@frozen
public struct WireFrame: Hashable, Sendable {
    /// The engine shard the frame comes from or is addressed to (header bytes 4–5; 0 when there
    /// is one shard). For replay frames, the shard whose events are replayed; for a heartbeat,
    /// the shard whose stream its sequence counts.
    public var shard: UInt16
    /// The message.
    public var message: WireMessage

    /// Wraps `message` for `shard`.
    @inlinable
    public init(shard: UInt16 = 0, message: WireMessage) {
        self.shard = shard
        self.message = message
    }

    /// Writes the frame at the start of `buffer`.
    ///
    /// - Returns: the number of bytes written (the message's ``WireMessage/frameSize``), or
    ///   ``WireError/bufferTooSmall(needed:available:)``; a buffer of ``WireFormat/maxFrameSize``
    ///   bytes always suffices. Bytes of `buffer` past the frame are not touched.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, WireError> {
        let type = message.type
        let size = type.frameSize
        guard buffer.count >= size else { return .failure(.bufferTooSmall(needed: size, available: buffer.count)) }
        let writer = ByteWriter(buffer, size: size)
        writer.put(WireFormat.version, at: WireHeader.version)
        writer.put(type.rawValue, at: WireHeader.type)
        writer.put(UInt16(truncatingIfNeeded: size), at: WireHeader.length)
        writer.put(shard, at: WireHeader.shard)
        // Header flags stay 0 (zero-filled by the writer).
        switch message {
        case .newOrder(let order, let timestamp): NewOrderFrame.encode(order, timestamp, writer)
        case .cancel(let cancel, let timestamp): CancelFrame.encode(cancel, timestamp, writer)
        case .replace(let replace, let timestamp): ReplaceFrame.encode(replace, timestamp, writer)
        case .event(let event, let timestamp): EventFrame.encode(event, timestamp, writer)
        case .trade(let trade): TradeFrame.encode(trade, writer)
        case .bookDelta(let delta): BookDeltaFrame.encode(delta, writer)
        case .heartbeat(let heartbeat): HeartbeatFrame.encode(heartbeat, writer)
        case .replayRequest(let request): ReplayRequestFrame.encode(request, writer)
        case .replayResponse(let response): ReplayResponseFrame.encode(response, writer)
        case .riskDecision(let verdict): RiskDecisionFrame.encode(verdict, writer)
        }
        return .success(size)
    }

    /// Reads the one frame that `bytes` holds, exactly.
    ///
    /// Every byte is checked: header, length against both the type and the buffer, every enum and
    /// `Bool` byte, and every reserved, padding or unused byte (must be 0). A frame that decodes
    /// therefore encodes back to the same bytes.
    ///
    /// - Returns: the frame, or the first problem found (see ``WireError`` for the order).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<WireFrame, WireError> {
        guard bytes.count >= WireFormat.headerSize else {
            return .failure(.tooShort(needed: WireFormat.headerSize, actual: bytes.count))
        }
        let header = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<WireFormat.headerSize]))
        let version = header.u8(WireHeader.version)
        guard version == WireFormat.version else { return .failure(.badVersion(version)) }
        let typeByte = header.u8(WireHeader.type)
        guard let type = WireMessageType(rawValue: typeByte) else { return .failure(.unknownType(typeByte)) }
        let size = type.frameSize
        let declared = Int(header.u16(WireHeader.length))
        guard declared == size else { return .failure(.badLength(declared: declared, expected: size)) }
        guard bytes.count >= size else { return .failure(.tooShort(needed: size, actual: bytes.count)) }
        guard bytes.count == size else { return .failure(.trailingBytes(expected: size, actual: bytes.count)) }
        if let offset = header.firstNonZero(WireHeader.flags..<WireFormat.headerSize) {
            return .failure(.nonZeroReserved(offset: offset))
        }
        let shard = header.u16(WireHeader.shard)

        var fields = WireFieldDecoder(ByteReader(bytes))
        let message: WireMessage
        switch type {
        case .newOrder: message = NewOrderFrame.decode(&fields)
        case .cancel: message = CancelFrame.decode(&fields)
        case .replace: message = ReplaceFrame.decode(&fields)
        case .event: message = EventFrame.decode(&fields)
        case .trade: message = TradeFrame.decode(&fields)
        case .bookDelta: message = BookDeltaFrame.decode(&fields)
        case .heartbeat: message = HeartbeatFrame.decode(&fields)
        case .replayRequest: message = ReplayRequestFrame.decode(&fields)
        case .replayResponse: message = ReplayResponseFrame.decode(&fields)
        case .riskDecision: message = RiskDecisionFrame.decode(&fields)
        }
        if let error = fields.error { return .failure(error) }
        return .success(WireFrame(shard: shard, message: message))
    }
}

/// Reads a frame's body fields and keeps the first problem found, so the layouts read straight
/// through without `throws` and the caller checks ``error`` once at the end. On a bad byte the
/// field reads as a placeholder value that the caller never returns.
struct WireFieldDecoder {
    let reader: ByteReader
    /// The first problem found, if any.
    private(set) var error: WireError?

    init(_ reader: ByteReader) {
        self.reader = reader
    }

    func u32(_ offset: Int) -> UInt32 { reader.u32(offset) }
    func u64(_ offset: Int) -> UInt64 { reader.u64(offset) }
    func i64(_ offset: Int) -> Int64 { reader.i64(offset) }
    func u8(_ offset: Int) -> UInt8 { reader.u8(offset) }

    mutating func fail(_ problem: WireError) {
        if error == nil { error = problem }
    }

    /// The enum whose raw value is the byte at `offset`, or `placeholder` and a `badEnum` error.
    mutating func enumeration<E: RawRepresentable>(_ offset: Int, _ field: WireField, placeholder: E) -> E
    where E.RawValue == UInt8 {
        let raw = reader.u8(offset)
        if let value = E(rawValue: raw) { return value }
        fail(.badEnum(field, raw))
        return placeholder
    }

    mutating func side(_ offset: Int) -> Side { enumeration(offset, .side, placeholder: .buy) }

    /// A `Bool` byte: 0 or 1, anything else is a `badEnum` error.
    mutating func bool(_ offset: Int, _ field: WireField) -> Bool {
        let raw = reader.u8(offset)
        if raw > 1 { fail(.badEnum(field, raw)) }
        return raw == 1
    }

    /// Checks that the bytes in `range` are all zero.
    mutating func zero(_ range: Range<Int>) {
        if let offset = reader.firstNonZero(range) { fail(.nonZeroReserved(offset: offset)) }
    }
}
