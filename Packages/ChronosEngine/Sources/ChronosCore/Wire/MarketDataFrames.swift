// The market-data frames an engine shard publishes: trade, bookDelta. Offsets are from the start
// of the frame; bytes 0–7 are the common header (`WireFormat`).

import FencedCollections

/// Encodes and decodes a `trade` frame (type 5), 48 bytes:
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 5, length 48, shard, flags 0
///      8    8 UInt64  sequence              sequence number of the fill event
///     16    8 UInt64  tradeID               TradeID
///     24    8 Int64   price                 trade price in ticks
///     32    8 Int64   quantity              traded lots
///     40    4 UInt32  symbol                SymbolID
///     44    1 UInt8   aggressorSide         0 buy, 1 sell
///     45    3         padding               0
/// ```
enum TradeFrame {
    static func encode(_ trade: PublicTrade, _ writer: ByteWriter) {
        writer.put(trade.sequence, at: 8)
        writer.put(trade.tradeID.rawValue, at: 16)
        writer.put(trade.price, at: 24)
        writer.put(trade.quantity, at: 32)
        writer.put(trade.symbol.rawValue, at: 40)
        writer.put(trade.aggressorSide.rawValue, at: 44)
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let trade = PublicTrade(
            sequence: fields.u64(8), tradeID: TradeID(fields.u64(16)), symbol: SymbolID(fields.u32(40)),
            price: fields.i64(24), quantity: fields.i64(32), aggressorSide: fields.side(44))
        fields.zero(45..<48)
        return .trade(trade)
    }
}

/// Encodes and decodes a `bookDelta` frame (type 6), 48 bytes:
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 6, length 48, shard, flags 0
///      8    8 UInt64  sequence              sequence number of the event that changed it
///     16    8 Int64   price                 level price in ticks
///     24    8 Int64   quantity              new level total in lots (0: level removed)
///     32    4 UInt32  symbol                SymbolID
///     36    4 UInt32  orderCount            new number of orders at the level
///     40    1 UInt8   side                  0 buy (bid), 1 sell (ask)
///     41    7         padding               0
/// ```
enum BookDeltaFrame {
    static func encode(_ delta: BookDelta, _ writer: ByteWriter) {
        writer.put(delta.sequence, at: 8)
        writer.put(delta.price, at: 16)
        writer.put(delta.quantity, at: 24)
        writer.put(delta.symbol.rawValue, at: 32)
        writer.put(delta.orderCount, at: 36)
        writer.put(delta.side.rawValue, at: 40)
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let delta = BookDelta(
            sequence: fields.u64(8), symbol: SymbolID(fields.u32(32)), side: fields.side(40),
            price: fields.i64(16), quantity: fields.i64(24), orderCount: fields.u32(36))
        fields.zero(41..<48)
        return .bookDelta(delta)
    }
}
