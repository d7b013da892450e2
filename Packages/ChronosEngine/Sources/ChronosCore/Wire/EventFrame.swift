// The frame of one engine event: the execution report a gateway receives and what the engine
// publishes on its PUB socket. Offsets are from the start of the frame; bytes 0–7 are the common
// header (`WireFormat`).

import FencedCollections

/// Encodes and decodes an `event` frame (type 4), 96 bytes whatever the event's kind, so a
/// retransmission ring can hold events in equal slots. Bytes 8–31 are common to every kind;
/// bytes 25–27 and 32–95 depend on the kind, and the bytes a kind does not use are 0.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 4, length 96, shard, flags 0
///      8    8 UInt64  sequence              per-shard event sequence number
///     16    8 UInt64  clientTimestampNanos  from the command that caused the event
///                                           (a fill: the taker's command)
///     24    1 UInt8   eventKind             0 accepted, 1 rejected, 2 fill, 3 canceled,
///                                           4 replaced
///     25    3         (by kind)             see below
///     28    4 UInt32  symbol                SymbolID
///     32   64         (by kind)             see below
/// ```
///
/// `accepted` (``OrderAccepted``):
/// ```
///     25    1 UInt8   side                  0 buy, 1 sell
///     26    1 UInt8   orderType             0 limit, 1 market
///     27    1 UInt8   timeInForce           0 gtc, 1 ioc, 2 fok
///     32    8 UInt64  id                    OrderID
///     40    8 Int64   price                 limit price in ticks (0 for market)
///     48    8 Int64   quantity              ordered lots
///     56    4 UInt32  account               AccountID
///     60    1 UInt8   postOnly              0 false, 1 true
///     61   35         unused                0
/// ```
///
/// `rejected` (``OrderRejected``):
/// ```
///     25    1 UInt8   commandKind           0 new, 1 cancel, 2 replace
///     26    1 UInt8   rejectReason          RejectReason raw value, 0...9
///     27    1         unused                0
///     32    8 UInt64  id                    OrderID the command named
///     40    4 UInt32  account               AccountID
///     44   52         unused                0
/// ```
///
/// `fill` (``Fill``):
/// ```
///     25    1 UInt8   side                  the taker's (aggressor's) side
///     26    2         unused                0
///     32    8 UInt64  tradeID               TradeID
///     40    8 UInt64  takerID               OrderID of the incoming order
///     48    8 UInt64  makerID               OrderID of the resting order
///     56    8 Int64   price                 trade price in ticks (the maker's)
///     64    8 Int64   quantity              traded lots
///     72    8 Int64   takerLeaves           taker's open lots after the fill
///     80    8 Int64   makerLeaves           maker's open lots after the fill
///     88    4 UInt32  takerAccount          AccountID
///     92    4 UInt32  makerAccount          AccountID
/// ```
///
/// `canceled` (``OrderCanceled``):
/// ```
///     25    1 UInt8   side                  0 buy, 1 sell
///     26    1 UInt8   cancelReason          CancelReason raw value, 0...3
///     27    1         unused                0
///     32    8 UInt64  id                    OrderID
///     40    8 Int64   quantity              lots removed
///     48    4 UInt32  account               AccountID
///     52   44         unused                0
/// ```
///
/// `replaced` (``OrderReplaced``):
/// ```
///     25    1 UInt8   side                  0 buy, 1 sell
///     26    1 UInt8   keptPriority          0 false, 1 true
///     27    1         unused                0
///     32    8 UInt64  id                    OrderID
///     40    8 Int64   price                 new limit price in ticks
///     48    8 Int64   quantity              new open lots
///     56    4 UInt32  account               AccountID
///     60   36         unused                0
/// ```
enum EventFrame {
    /// The `eventKind` byte (offset 24).
    enum Kind: UInt8 {
        case accepted = 0
        case rejected = 1
        case fill = 2
        case canceled = 3
        case replaced = 4
    }

    static func encode(_ event: EngineEvent, _ clientTimestampNanos: UInt64, _ writer: ByteWriter) {
        writer.put(event.sequence, at: 8)
        writer.put(clientTimestampNanos, at: 16)
        writer.put(event.symbol.rawValue, at: 28)
        switch event {
        case .accepted(let e):
            writer.put(Kind.accepted.rawValue, at: 24)
            writer.put(e.side.rawValue, at: 25)
            writer.put(e.type.rawValue, at: 26)
            writer.put(e.timeInForce.rawValue, at: 27)
            writer.put(e.id.rawValue, at: 32)
            writer.put(e.price, at: 40)
            writer.put(e.quantity, at: 48)
            writer.put(e.account.rawValue, at: 56)
            writer.put(e.postOnly, at: 60)
        case .rejected(let e):
            writer.put(Kind.rejected.rawValue, at: 24)
            writer.put(e.command.rawValue, at: 25)
            writer.put(e.reason.rawValue, at: 26)
            writer.put(e.id.rawValue, at: 32)
            writer.put(e.account.rawValue, at: 40)
        case .fill(let e):
            writer.put(Kind.fill.rawValue, at: 24)
            writer.put(e.takerSide.rawValue, at: 25)
            writer.put(e.tradeID.rawValue, at: 32)
            writer.put(e.takerID.rawValue, at: 40)
            writer.put(e.makerID.rawValue, at: 48)
            writer.put(e.price, at: 56)
            writer.put(e.quantity, at: 64)
            writer.put(e.takerLeaves, at: 72)
            writer.put(e.makerLeaves, at: 80)
            writer.put(e.takerAccount.rawValue, at: 88)
            writer.put(e.makerAccount.rawValue, at: 92)
        case .canceled(let e):
            writer.put(Kind.canceled.rawValue, at: 24)
            writer.put(e.side.rawValue, at: 25)
            writer.put(e.reason.rawValue, at: 26)
            writer.put(e.id.rawValue, at: 32)
            writer.put(e.quantity, at: 40)
            writer.put(e.account.rawValue, at: 48)
        case .replaced(let e):
            writer.put(Kind.replaced.rawValue, at: 24)
            writer.put(e.side.rawValue, at: 25)
            writer.put(e.keptPriority, at: 26)
            writer.put(e.id.rawValue, at: 32)
            writer.put(e.price, at: 40)
            writer.put(e.quantity, at: 48)
            writer.put(e.account.rawValue, at: 56)
        }
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let sequence = fields.u64(8)
        let clientTimestampNanos = fields.u64(16)
        let symbol = SymbolID(fields.u32(28))
        let event: EngineEvent
        switch fields.enumeration(24, .eventKind, placeholder: Kind.accepted) {
        case .accepted:
            event = .accepted(
                OrderAccepted(
                    sequence: sequence, id: OrderID(fields.u64(32)), account: AccountID(fields.u32(56)),
                    symbol: symbol, side: fields.side(25),
                    type: fields.enumeration(26, .orderType, placeholder: .limit),
                    timeInForce: fields.enumeration(27, .timeInForce, placeholder: .goodTillCancel),
                    postOnly: fields.bool(60, .postOnly), price: fields.i64(40), quantity: fields.i64(48)))
            fields.zero(61..<96)
        case .rejected:
            event = .rejected(
                OrderRejected(
                    sequence: sequence, id: OrderID(fields.u64(32)), account: AccountID(fields.u32(40)),
                    symbol: symbol, command: fields.enumeration(25, .commandKind, placeholder: .new),
                    reason: fields.enumeration(26, .rejectReason, placeholder: .malformed)))
            fields.zero(27..<28)
            fields.zero(44..<96)
        case .fill:
            event = .fill(
                Fill(
                    sequence: sequence, tradeID: TradeID(fields.u64(32)), symbol: symbol,
                    takerID: OrderID(fields.u64(40)), makerID: OrderID(fields.u64(48)),
                    takerAccount: AccountID(fields.u32(88)), makerAccount: AccountID(fields.u32(92)),
                    takerSide: fields.side(25), price: fields.i64(56), quantity: fields.i64(64),
                    takerLeaves: fields.i64(72), makerLeaves: fields.i64(80)))
            fields.zero(26..<28)
        case .canceled:
            event = .canceled(
                OrderCanceled(
                    sequence: sequence, id: OrderID(fields.u64(32)), account: AccountID(fields.u32(48)),
                    symbol: symbol, side: fields.side(25), quantity: fields.i64(40),
                    reason: fields.enumeration(26, .cancelReason, placeholder: .requested)))
            fields.zero(27..<28)
            fields.zero(52..<96)
        case .replaced:
            event = .replaced(
                OrderReplaced(
                    sequence: sequence, id: OrderID(fields.u64(32)), account: AccountID(fields.u32(56)),
                    symbol: symbol, side: fields.side(25), price: fields.i64(40), quantity: fields.i64(48),
                    keptPriority: fields.bool(26, .keptPriority)))
            fields.zero(27..<28)
            fields.zero(60..<96)
        }
        return .event(event, clientTimestampNanos: clientTimestampNanos)
    }
}
