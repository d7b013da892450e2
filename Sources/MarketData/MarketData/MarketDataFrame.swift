// The market-data frames: the internal wire format's common 8-byte header (ChronosCore's
// `WireFormat`: version 1, type, length, shard, flags 0) with type bytes 11…16, which ChronosCore's
// `WireMessageType` leaves free (a test keeps it so). They travel only on the market-data
// service's sockets, never on an engine's. Layouts (offsets from the start of the frame; every
// integer little-endian; padding and absent values 0) are drawn beside each type below and in
// docs/wire-format.md.

import ChronosCore
import FencedCollections

/// The type byte of a market-data frame (header byte 1); each type has one fixed size.
@frozen
public enum MarketDataFrameType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A ``LevelUpdate``, 56 bytes.
    case level = 11
    /// A ``TradeUpdate``, 56 bytes.
    case trade = 12
    /// A ``BestBidOfferUpdate``, 72 bytes.
    case bestBidOffer = 13
    /// A ``MarketDataHeartbeat``, 32 bytes.
    case heartbeat = 14
    /// A ``SnapshotRequest``, 24 bytes.
    case snapshotRequest = 15
    /// A ``SnapshotHeader``, 48 bytes; its level frames follow in the next message parts.
    case snapshot = 16

    /// The fixed size in bytes of a frame of this type, header included.
    @inlinable
    public var frameSize: Int {
        switch self {
        case .level: 56
        case .trade: 56
        case .bestBidOffer: 72
        case .heartbeat: 32
        case .snapshotRequest: 24
        case .snapshot: 48
        }
    }

    /// The largest market-data frame, in bytes: a buffer this large holds any of them.
    public static let maxFrameSize = 72

    /// The name in docs/wire-format.md, e.g. `"marketDataLevel"`.
    public var description: String {
        switch self {
        case .level: "marketDataLevel"
        case .trade: "marketDataTrade"
        case .bestBidOffer: "marketDataBestBidOffer"
        case .heartbeat: "marketDataHeartbeat"
        case .snapshotRequest: "marketDataSnapshotRequest"
        case .snapshot: "marketDataSnapshot"
        }
    }
}

/// Why bytes are not a market-data frame (checked in this order: header present, version, type,
/// length field, buffer size, header flags, then the body's enum, flag and reserved bytes).
@frozen
public enum MarketDataFrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header, or than the type's size.
    case tooShort(needed: Int, actual: Int)
    /// Header byte 0 is not 1.
    case badVersion(UInt8)
    /// Header byte 1 is not a ``MarketDataFrameType``.
    case unknownType(UInt8)
    /// The length field is not the type's size.
    case badLength(declared: Int, expected: Int)
    /// More bytes than the frame (one frame per message part).
    case trailingBytes(expected: Int, actual: Int)
    /// An enum or flag byte out of range: `field` names it as docs/wire-format.md does.
    case badEnum(field: StaticString, value: UInt8)
    /// A padding, reserved or absent-value byte is not 0.
    case nonZeroReserved(offset: Int)
    /// Encoding: the buffer is smaller than the frame.
    case bufferTooSmall(needed: Int, available: Int)

    public static func == (a: Self, b: Self) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    /// One line for logs.
    public var description: String {
        switch self {
        case .tooShort(let needed, let actual): "frame too short: \(actual) bytes, need \(needed)"
        case .badVersion(let version): "unknown wire format version \(version)"
        case .unknownType(let type): "unknown market-data message type \(type)"
        case .badLength(let declared, let expected): "length field \(declared), the type's size is \(expected)"
        case .trailingBytes(let expected, let actual): "\(actual) bytes for a \(expected)-byte frame"
        case .badEnum(let field, let value): "invalid \(field) byte \(value)"
        case .nonZeroReserved(let offset): "reserved byte at offset \(offset) is not zero"
        case .bufferTooSmall(let needed, let available): "buffer of \(available) bytes, frame needs \(needed)"
        }
    }
}

/// One market-data message with its shard: what one wire frame holds.
///
/// Encoding and decoding are O(1), never allocate, never trap on any input: problems come back as
/// a ``MarketDataFrameError``. A frame that decodes encodes back to the same bytes.
@frozen
public struct MarketDataFrame: Hashable, Sendable {
    /// The engine shard whose market data this is (header bytes 4–5).
    public var shard: UInt16
    /// The message.
    public var message: MarketDataMessage

    /// Wraps `message` for `shard`.
    @inlinable
    public init(shard: UInt16 = 0, message: MarketDataMessage) {
        self.shard = shard
        self.message = message
    }

    /// The frame type of `message`.
    public var type: MarketDataFrameType {
        switch message {
        case .update(.level): .level
        case .update(.trade): .trade
        case .update(.bestBidOffer): .bestBidOffer
        case .heartbeat: .heartbeat
        case .snapshotRequest: .snapshotRequest
        case .snapshot: .snapshot
        }
    }

    /// Writes the frame at the start of `buffer`; returns its size. A buffer of
    /// ``MarketDataFrameType/maxFrameSize`` bytes always suffices.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, MarketDataFrameError> {
        let type = type
        let size = type.frameSize
        guard buffer.count >= size else { return .failure(.bufferTooSmall(needed: size, available: buffer.count)) }
        let w = ByteWriter(buffer, size: size)
        w.put(WireFormat.version, at: 0)
        w.put(type.rawValue, at: 1)
        w.put(UInt16(size), at: 2)
        w.put(shard, at: 4)
        switch message {
        case .update(.level(let u)):
            // 8 sequence · 16 eventSequence · 24 price · 32 quantity · 40 symbol · 44 orderCount · 48 side · 49 action
            w.put(u.sequence, at: 8)
            w.put(u.eventSequence, at: 16)
            w.put(u.price, at: 24)
            w.put(u.quantity, at: 32)
            w.put(u.symbol.rawValue, at: 40)
            w.put(UInt32(clamping: u.orderCount), at: 44)
            w.put(u.side.rawValue, at: 48)
            w.put(u.action.rawValue, at: 49)
        case .update(.trade(let t)):
            // 8 sequence · 16 eventSequence · 24 tradeID · 32 price · 40 quantity · 48 symbol · 52 aggressorSide
            w.put(t.sequence, at: 8)
            w.put(t.eventSequence, at: 16)
            w.put(t.tradeID.rawValue, at: 24)
            w.put(t.price, at: 32)
            w.put(t.quantity, at: 40)
            w.put(t.symbol.rawValue, at: 48)
            w.put(t.aggressorSide.rawValue, at: 52)
        case .update(.bestBidOffer(let b)):
            // 8 sequence · 16 eventSequence · 24 bid price · 32 bid qty · 40 offer price · 48 offer qty
            // · 56 symbol · 60 bid orders · 64 offer orders · 68 hasBid · 69 hasOffer
            w.put(b.sequence, at: 8)
            w.put(b.eventSequence, at: 16)
            if let bid = b.bestBid {
                w.put(bid.price, at: 24)
                w.put(bid.quantity, at: 32)
                w.put(UInt32(clamping: bid.orderCount), at: 60)
                w.put(UInt8(1), at: 68)
            }
            if let offer = b.bestOffer {
                w.put(offer.price, at: 40)
                w.put(offer.quantity, at: 48)
                w.put(UInt32(clamping: offer.orderCount), at: 64)
                w.put(UInt8(1), at: 69)
            }
            w.put(b.symbol.rawValue, at: 56)
        case .heartbeat(let h):
            // 8 lastSequence · 16 eventSequence · 24 symbol · 28 impaired
            w.put(h.lastSequence, at: 8)
            w.put(h.eventSequence, at: 16)
            w.put(h.symbol.rawValue, at: 24)
            w.put(UInt8(h.impaired ? 1 : 0), at: 28)
        case .snapshotRequest(let r):
            // 8 requestID · 16 symbol · 20 depth
            w.put(r.requestID, at: 8)
            w.put(r.symbol.rawValue, at: 16)
            w.put(r.depth, at: 20)
        case .snapshot(let s):
            // 8 requestID · 16 sequence · 24 eventSequence · 32 symbol · 36 bidCount · 40 offerCount
            // · 44 status · 45 complete · 46 impaired
            w.put(s.requestID, at: 8)
            w.put(s.sequence, at: 16)
            w.put(s.eventSequence, at: 24)
            w.put(s.symbol.rawValue, at: 32)
            w.put(s.bidCount, at: 36)
            w.put(s.offerCount, at: 40)
            w.put(s.status.rawValue, at: 44)
            w.put(UInt8(s.isComplete ? 1 : 0), at: 45)
            w.put(UInt8(s.impaired ? 1 : 0), at: 46)
        }
        return .success(size)
    }

    /// Reads the one frame `bytes` holds, exactly, checking every byte.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<MarketDataFrame, MarketDataFrameError> {
        guard bytes.count >= WireFormat.headerSize else {
            return .failure(.tooShort(needed: WireFormat.headerSize, actual: bytes.count))
        }
        let header = ByteReader(bytes, size: WireFormat.headerSize)
        let version = header.u8(0)
        guard version == WireFormat.version else { return .failure(.badVersion(version)) }
        guard let type = MarketDataFrameType(rawValue: header.u8(1)) else {
            return .failure(.unknownType(header.u8(1)))
        }
        let size = type.frameSize
        let declared = Int(header.u16(2))
        guard declared == size else { return .failure(.badLength(declared: declared, expected: size)) }
        guard bytes.count >= size else { return .failure(.tooShort(needed: size, actual: bytes.count)) }
        guard bytes.count == size else { return .failure(.trailingBytes(expected: size, actual: bytes.count)) }
        if let offset = header.firstNonZero(6..<8) { return .failure(.nonZeroReserved(offset: offset)) }
        let r = ByteReader(bytes, size: size)
        var fields = FieldCheck(reader: r)
        let message: MarketDataMessage
        switch type {
        case .level:
            let side = fields.side(48)
            let action = fields.enumeration(49, "levelAction", placeholder: LevelAction.new)
            fields.zero(50..<56)
            message = .update(
                .level(
                    LevelUpdate(
                        symbol: SymbolID(r.u32(40)), sequence: r.u64(8), eventSequence: r.u64(16), action: action,
                        side: side, price: r.i64(24), quantity: r.i64(32), orderCount: Int(r.u32(44)))))
        case .trade:
            let side = fields.side(52)
            fields.zero(53..<56)
            message = .update(
                .trade(
                    TradeUpdate(
                        symbol: SymbolID(r.u32(48)), sequence: r.u64(8), eventSequence: r.u64(16),
                        tradeID: TradeID(r.u64(24)), price: r.i64(32), quantity: r.i64(40), aggressorSide: side)))
        case .bestBidOffer:
            let hasBid = fields.flag(68, "hasBid")
            let hasOffer = fields.flag(69, "hasOffer")
            fields.zero(70..<72)
            if !hasBid {
                fields.zero(24..<40)
                fields.zero(60..<64)
            }
            if !hasOffer {
                fields.zero(40..<56)
                fields.zero(64..<68)
            }
            let bid = hasBid ? LevelSummary(price: r.i64(24), quantity: r.i64(32), orderCount: Int(r.u32(60))) : nil
            let offer =
                hasOffer ? LevelSummary(price: r.i64(40), quantity: r.i64(48), orderCount: Int(r.u32(64))) : nil
            message = .update(
                .bestBidOffer(
                    BestBidOfferUpdate(
                        symbol: SymbolID(r.u32(56)), sequence: r.u64(8), eventSequence: r.u64(16), bestBid: bid,
                        bestOffer: offer)))
        case .heartbeat:
            let impaired = fields.flag(28, "impaired")
            fields.zero(29..<32)
            message = .heartbeat(
                MarketDataHeartbeat(
                    symbol: SymbolID(r.u32(24)), lastSequence: r.u64(8), eventSequence: r.u64(16), impaired: impaired))
        case .snapshotRequest:
            message = .snapshotRequest(
                SnapshotRequest(requestID: r.u64(8), symbol: SymbolID(r.u32(16)), depth: r.u32(20)))
        case .snapshot:
            let status = fields.enumeration(44, "snapshotStatus", placeholder: SnapshotStatus.ok)
            let complete = fields.flag(45, "complete")
            let impaired = fields.flag(46, "impaired")
            fields.zero(47..<48)
            message = .snapshot(
                SnapshotHeader(
                    requestID: r.u64(8), status: status, symbol: SymbolID(r.u32(32)), sequence: r.u64(16),
                    eventSequence: r.u64(24), bidCount: r.u32(36), offerCount: r.u32(40), isComplete: complete,
                    impaired: impaired))
        }
        if let error = fields.error { return .failure(error) }
        return .success(MarketDataFrame(shard: header.u16(4), message: message))
    }
}

/// Checks a body's enum, flag and reserved bytes, keeping the first problem.
private struct FieldCheck {
    let reader: ByteReader
    var error: MarketDataFrameError?

    mutating func fail(_ problem: MarketDataFrameError) {
        if error == nil { error = problem }
    }

    mutating func enumeration<E: RawRepresentable>(_ offset: Int, _ field: StaticString, placeholder: E) -> E
    where E.RawValue == UInt8 {
        let raw = reader.u8(offset)
        if let value = E(rawValue: raw) { return value }
        fail(.badEnum(field: field, value: raw))
        return placeholder
    }

    mutating func side(_ offset: Int) -> Side { enumeration(offset, "side", placeholder: Side.buy) }

    mutating func flag(_ offset: Int, _ field: StaticString) -> Bool {
        let raw = reader.u8(offset)
        if raw > 1 { fail(.badEnum(field: field, value: raw)) }
        return raw == 1
    }

    mutating func zero(_ range: Range<Int>) {
        if let offset = reader.firstNonZero(range) { fail(.nonZeroReserved(offset: offset)) }
    }
}
