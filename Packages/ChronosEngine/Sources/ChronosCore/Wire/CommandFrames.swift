// The frames of the commands a gateway sends to an engine shard: newOrder, cancel, replace.
// Offsets are from the start of the frame; bytes 0–7 are the common header (`WireFormat`).

import FencedCollections

/// Encodes and decodes a `newOrder` frame (type 1), 56 bytes:
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 1, length 56, shard, flags 0
///      8    8 UInt64  id                    OrderID
///     16    8 Int64   price                 limit price in ticks (any value for market)
///     24    8 Int64   quantity              lots
///     32    8 UInt64  clientTimestampNanos  echoed in every event the order causes
///     40    4 UInt32  account               AccountID
///     44    4 UInt32  symbol                SymbolID
///     48    1 UInt8   side                  0 buy, 1 sell
///     49    1 UInt8   orderType             0 limit, 1 market
///     50    1 UInt8   timeInForce           0 gtc, 1 ioc, 2 fok
///     51    1 UInt8   postOnly              0 false, 1 true
///     52    4         padding               0
/// ```
enum NewOrderFrame {
    static func encode(_ order: NewOrder, _ clientTimestampNanos: UInt64, _ writer: ByteWriter) {
        writer.put(order.id.rawValue, at: 8)
        writer.put(order.price, at: 16)
        writer.put(order.quantity, at: 24)
        writer.put(clientTimestampNanos, at: 32)
        writer.put(order.account.rawValue, at: 40)
        writer.put(order.symbol.rawValue, at: 44)
        writer.put(order.side.rawValue, at: 48)
        writer.put(order.type.rawValue, at: 49)
        writer.put(order.timeInForce.rawValue, at: 50)
        writer.put(order.postOnly, at: 51)
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let order = NewOrder(
            id: OrderID(fields.u64(8)),
            account: AccountID(fields.u32(40)),
            symbol: SymbolID(fields.u32(44)),
            side: fields.side(48),
            type: fields.enumeration(49, .orderType, placeholder: .limit),
            timeInForce: fields.enumeration(50, .timeInForce, placeholder: .goodTillCancel),
            price: fields.i64(16),
            quantity: fields.i64(24),
            postOnly: fields.bool(51, .postOnly))
        fields.zero(52..<56)
        return .newOrder(order, clientTimestampNanos: fields.u64(32))
    }
}

/// Encodes and decodes a `cancel` frame (type 2), 32 bytes:
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 2, length 32, shard, flags 0
///      8    8 UInt64  id                    OrderID of the resting order
///     16    8 UInt64  clientTimestampNanos  echoed in every event the cancel causes
///     24    4 UInt32  account               AccountID asking (must own the order)
///     28    4 UInt32  symbol                SymbolID the order rests on
/// ```
enum CancelFrame {
    static func encode(_ cancel: CancelOrder, _ clientTimestampNanos: UInt64, _ writer: ByteWriter) {
        writer.put(cancel.id.rawValue, at: 8)
        writer.put(clientTimestampNanos, at: 16)
        writer.put(cancel.account.rawValue, at: 24)
        writer.put(cancel.symbol.rawValue, at: 28)
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let cancel = CancelOrder(
            id: OrderID(fields.u64(8)), account: AccountID(fields.u32(24)), symbol: SymbolID(fields.u32(28)))
        return .cancel(cancel, clientTimestampNanos: fields.u64(16))
    }
}

/// Encodes and decodes a `replace` frame (type 3), 56 bytes:
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 3, length 56, shard, flags 0
///      8    8 UInt64  id                    OrderID of the resting order
///     16    8 Int64   price                 new limit price in ticks; 0 when absent
///     24    8 Int64   quantity              new open quantity in lots; 0 when absent
///     32    8 UInt64  clientTimestampNanos  echoed in every event the replace causes
///     40    4 UInt32  account               AccountID asking (must own the order)
///     44    4 UInt32  symbol                SymbolID the order rests on
///     48    1 UInt8   replaceFields         bit 0: price present, bit 1: quantity present,
///                                           other bits 0
///     49    7         padding               0
/// ```
enum ReplaceFrame {
    static let pricePresent: UInt8 = 0b01
    static let quantityPresent: UInt8 = 0b10

    static func encode(_ replace: ReplaceOrder, _ clientTimestampNanos: UInt64, _ writer: ByteWriter) {
        var present: UInt8 = 0
        writer.put(replace.id.rawValue, at: 8)
        if let price = replace.price {
            writer.put(price, at: 16)
            present |= pricePresent
        }
        if let quantity = replace.quantity {
            writer.put(quantity, at: 24)
            present |= quantityPresent
        }
        writer.put(clientTimestampNanos, at: 32)
        writer.put(replace.account.rawValue, at: 40)
        writer.put(replace.symbol.rawValue, at: 44)
        writer.put(present, at: 48)
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let present = fields.u8(48)
        if present & ~(pricePresent | quantityPresent) != 0 { fields.fail(.badEnum(.replaceFields, present)) }
        var price: Price?
        if present & pricePresent != 0 { price = fields.i64(16) } else { fields.zero(16..<24) }
        var quantity: Quantity?
        if present & quantityPresent != 0 { quantity = fields.i64(24) } else { fields.zero(24..<32) }
        fields.zero(49..<56)
        let replace = ReplaceOrder(
            id: OrderID(fields.u64(8)), account: AccountID(fields.u32(40)), symbol: SymbolID(fields.u32(44)),
            price: price, quantity: quantity)
        return .replace(replace, clientTimestampNanos: fields.u64(32))
    }
}
