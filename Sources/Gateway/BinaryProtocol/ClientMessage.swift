// The messages a client sends to the gateway, their layouts and their codec. Offsets are from the
// start of the message; bytes 0–3 are the header (`BinaryFormat`). docs/protocol.md has the same
// tables.

import FencedCollections

/// Opens a session: the first message on a TCP connection, or a UDP datagram with session id 0.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 56, type 0x01, version 1
///      4   16 ASCII   username              1–16 chars `!`…`~`, zero-padded
///     20   32 ASCII   password              0–32 chars space…`~`, zero-padded
///     52    4 UInt32  heartbeatIntervalMs   how often each side sends when otherwise idle
/// ```
@frozen
public struct Login: Hashable, Sendable {
    /// The user.
    public var username: Username
    /// The user's password.
    public var password: Password
    /// The heartbeat interval the client asks for, in milliseconds; the gateway may choose another
    /// and says so in ``LoginAccepted/heartbeatIntervalMs``.
    public var heartbeatIntervalMs: UInt32

    /// A login of `username` with `password`.
    public init(username: Username, password: Password, heartbeatIntervalMs: UInt32 = 1_000) {
        self.username = username
        self.password = password
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }
}

/// A new order.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 44, type 0x02, version 1
///      4    4 UInt32  account               account the order trades for
///      8    8 UInt64  clientOrderID         the client's id, unique per session
///     16    8 ASCII   symbol                1–8 chars `!`…`~`, zero- or space-padded
///     24    8 Int64   price                 limit price in price units (0 for market)
///     32    8 Int64   quantity              quantity in the symbol's units (lots)
///     40    1 UInt8   side                  1 buy, 2 sell
///     41    1 UInt8   ordType               1 limit, 2 market
///     42    1 UInt8   timeInForce           1 GTC, 2 IOC, 3 FOK
///     43    1 UInt8   flags                 bit 0 post-only; other bits 0
/// ```
@frozen
public struct NewOrderRequest: Hashable, Sendable {
    /// The client's id of the order, unique within the session; later messages about the order
    /// carry it.
    public var clientOrderID: UInt64
    /// The account the order trades for (the session's user must be permitted to trade it).
    public var account: UInt32
    /// The symbol.
    public var symbol: SymbolCode
    /// Buy or sell.
    public var side: BinarySide
    /// Limit or market.
    public var orderType: BinaryOrderType
    /// GTC, IOC or FOK.
    public var timeInForce: BinaryTimeInForce
    /// Limit price in integer price units of the symbol (e.g. cents for 2 price decimals);
    /// ignored for market orders (send 0). Any `Int64` travels; the engine validates.
    public var price: Int64
    /// Quantity in the symbol's quantity units (lots). Any `Int64` travels; the engine validates.
    public var quantity: Int64
    /// Post-only: rejected (`post_only_would_cross`) instead of taking liquidity. Flags bit 0.
    public var postOnly: Bool

    /// A new order; a GTC limit order unless told otherwise.
    public init(
        clientOrderID: UInt64, account: UInt32, symbol: SymbolCode, side: BinarySide,
        orderType: BinaryOrderType = .limit, timeInForce: BinaryTimeInForce = .goodTillCancel,
        price: Int64, quantity: Int64, postOnly: Bool = false
    ) {
        self.clientOrderID = clientOrderID
        self.account = account
        self.symbol = symbol
        self.side = side
        self.orderType = orderType
        self.timeInForce = timeInForce
        self.price = price
        self.quantity = quantity
        self.postOnly = postOnly
    }
}

/// Cancels a working order.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 32, type 0x03, version 1
///      4    4 UInt32  account               account of the order
///      8    8 UInt64  requestID             a fresh client id for this request
///     16    8 UInt64  clientOrderID         the order to cancel
///     24    8 ASCII   symbol                the order's symbol
/// ```
@frozen
public struct CancelRequest: Hashable, Sendable {
    /// A fresh client id for this request, unique within the session (also among order ids is
    /// not required); the `canceled` or `rejected` answer carries it.
    public var requestID: UInt64
    /// The ``NewOrderRequest/clientOrderID`` of the order to cancel.
    public var clientOrderID: UInt64
    /// The order's account.
    public var account: UInt32
    /// The order's symbol.
    public var symbol: SymbolCode

    /// A cancel of the session's order `clientOrderID`.
    public init(requestID: UInt64, clientOrderID: UInt64, account: UInt32, symbol: SymbolCode) {
        self.requestID = requestID
        self.clientOrderID = clientOrderID
        self.account = account
        self.symbol = symbol
    }
}

/// Changes a working order's price and/or quantity.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 48, type 0x04, version 1
///      4    4 UInt32  account               account of the order
///      8    8 UInt64  requestID             a fresh client id for this request
///     16    8 UInt64  clientOrderID         the order to change
///     24    8 ASCII   symbol                the order's symbol
///     32    8 Int64   newPrice              new limit price; 0 = keep
///     40    8 Int64   newQuantity           new open quantity; 0 = keep
/// ```
@frozen
public struct ReplaceRequest: Hashable, Sendable {
    /// A fresh client id for this request; the `replaced` or `rejected` answer carries it.
    public var requestID: UInt64
    /// The ``NewOrderRequest/clientOrderID`` of the order to change; it keeps this id.
    public var clientOrderID: UInt64
    /// The order's account.
    public var account: UInt32
    /// The order's symbol.
    public var symbol: SymbolCode
    /// The new limit price in price units, or 0 to keep the current one.
    public var newPrice: Int64
    /// The new open (leaves) quantity, or 0 to keep the current one.
    public var newQuantity: Int64

    /// A replace of the session's order `clientOrderID`; 0 keeps a value.
    public init(
        requestID: UInt64, clientOrderID: UInt64, account: UInt32, symbol: SymbolCode, newPrice: Int64 = 0,
        newQuantity: Int64 = 0
    ) {
        self.requestID = requestID
        self.clientOrderID = clientOrderID
        self.account = account
        self.symbol = symbol
        self.newPrice = newPrice
        self.newQuantity = newQuantity
    }
}

/// A message from a client to the gateway (docs/protocol.md).
///
/// Encoding and decoding are O(1), never allocate and never trap on any input.
@frozen
public enum ClientMessage: Hashable, Sendable {
    /// Opens the session. Type 0x01, 56 bytes.
    case login(Login)
    /// A new order. Type 0x02, 44 bytes.
    case newOrder(NewOrderRequest)
    /// Cancels an order. Type 0x03, 32 bytes.
    case cancel(CancelRequest)
    /// Changes an order. Type 0x04, 48 bytes.
    case replace(ReplaceRequest)
    /// Liveness, sent when the client has sent nothing for a heartbeat interval. Type 0x05, 4 bytes.
    case heartbeat
    /// Ends the session; the gateway confirms with a `logout` and closes. Type 0x06, 4 bytes.
    case logout

    /// The type byte of this message.
    @inlinable
    public var type: ClientMessageType {
        switch self {
        case .login: .login
        case .newOrder: .newOrder
        case .cancel: .cancel
        case .replace: .replace
        case .heartbeat: .heartbeat
        case .logout: .logout
        }
    }

    /// The size in bytes of this message, header included.
    @inlinable
    public var encodedSize: Int { type.size }

    /// Writes the message at the start of `buffer`.
    ///
    /// - Returns: the number of bytes written (``encodedSize``), or 0 when `buffer` is smaller than
    ///   that (nothing is written); a buffer of ``BinaryFormat/largestMessageSize`` bytes always
    ///   suffices. Bytes of `buffer` past the message are not touched.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let type = type
        let size = type.size
        guard buffer.count >= size else { return 0 }
        let writer = ByteWriter(buffer, size: size)
        BinaryHeader.write(type: type.rawValue, size: size, writer)
        switch self {
        case .login(let login):
            writer.put(login.username.word0, at: 4)
            writer.put(login.username.word1, at: 12)
            writer.put(login.password.word0, at: 20)
            writer.put(login.password.word1, at: 28)
            writer.put(login.password.word2, at: 36)
            writer.put(login.password.word3, at: 44)
            writer.put(login.heartbeatIntervalMs, at: 52)
        case .newOrder(let order):
            writer.put(order.account, at: 4)
            writer.put(order.clientOrderID, at: 8)
            writer.put(order.symbol.rawValue, at: 16)
            writer.put(order.price, at: 24)
            writer.put(order.quantity, at: 32)
            writer.put(order.side.rawValue, at: 40)
            writer.put(order.orderType.rawValue, at: 41)
            writer.put(order.timeInForce.rawValue, at: 42)
            writer.put(order.postOnly ? 1 as UInt8 : 0, at: 43)
        case .cancel(let cancel):
            writer.put(cancel.account, at: 4)
            writer.put(cancel.requestID, at: 8)
            writer.put(cancel.clientOrderID, at: 16)
            writer.put(cancel.symbol.rawValue, at: 24)
        case .replace(let replace):
            writer.put(replace.account, at: 4)
            writer.put(replace.requestID, at: 8)
            writer.put(replace.clientOrderID, at: 16)
            writer.put(replace.symbol.rawValue, at: 24)
            writer.put(replace.newPrice, at: 32)
            writer.put(replace.newQuantity, at: 40)
        case .heartbeat, .logout:
            break
        }
        return size
    }

    /// The kind and ids of the order request at the start of `bytes`, read from their fixed
    /// offsets without checking anything else: to answer a `newOrder`, `cancel` or `replace` that
    /// is framed but invalid (a bad enum, symbol or version) with the ids its sender gave. nil for
    /// other types, or when the length field is not the type's size or the bytes are fewer.
    public static func requestIdentity(_ bytes: UnsafeRawBufferPointer) -> RequestIdentity? {
        guard bytes.count >= BinaryFormat.headerSize,
            let type = ClientMessageType(
                rawValue: bytes.loadUnaligned(fromByteOffset: BinaryHeader.type, as: UInt8.self))
        else { return nil }
        let declared = Int(
            UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: BinaryHeader.length, as: UInt16.self)))
        guard declared == type.size, bytes.count >= declared else { return nil }
        let reader = ByteReader(bytes, size: declared)
        switch type {
        case .newOrder: return RequestIdentity(kind: .newOrder, clientOrderID: reader.u64(8), requestID: 0)
        case .cancel: return RequestIdentity(kind: .cancel, clientOrderID: reader.u64(16), requestID: reader.u64(8))
        case .replace: return RequestIdentity(kind: .replace, clientOrderID: reader.u64(16), requestID: reader.u64(8))
        case .login, .heartbeat, .logout: return nil
        }
    }

    /// The kind and ids a request's `rejected` answer carries.
    public struct RequestIdentity: Hashable, Sendable {
        public var kind: RequestKind
        public var clientOrderID: UInt64
        public var requestID: UInt64

        public init(kind: RequestKind, clientOrderID: UInt64, requestID: UInt64) {
            self.kind = kind
            self.clientOrderID = clientOrderID
            self.requestID = requestID
        }
    }

    /// The kind and ids of a decoded request (``RequestKind/other`` and zeros for a login,
    /// heartbeat or logout).
    public var requestIdentity: RequestIdentity {
        switch self {
        case .newOrder(let order): RequestIdentity(kind: .newOrder, clientOrderID: order.clientOrderID, requestID: 0)
        case .cancel(let c): RequestIdentity(kind: .cancel, clientOrderID: c.clientOrderID, requestID: c.requestID)
        case .replace(let r): RequestIdentity(kind: .replace, clientOrderID: r.clientOrderID, requestID: r.requestID)
        case .login, .heartbeat, .logout: RequestIdentity(kind: .other, clientOrderID: 0, requestID: 0)
        }
    }

    /// Decodes the message at the start of `bytes`, a TCP stream's unread bytes (or one datagram's
    /// message part).
    ///
    /// - Returns: the message and the bytes it took; ``BinaryDecodeResult/needMoreBytes`` when
    ///   `bytes` holds only the start of a message; or the first error (see
    ///   ``BinaryProtocolError`` for the order of the checks) with the number of bytes to skip, or
    ///   `nil` when the framing is lost and the connection must be closed.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> BinaryDecodeResult<ClientMessage> {
        let size: Int
        let typeByte: UInt8
        switch BinaryHeader.check(bytes, size: { ClientMessageType(rawValue: $0)?.size }) {
        case .needMoreBytes: return .needMoreBytes
        case .error(let error, let skip): return .error(error, skip: skip)
        case .message(let type, let messageSize):
            typeByte = type
            size = messageSize
        }
        var fields = BinaryFieldDecoder(ByteReader(bytes, size: size))
        let message: ClientMessage
        // Safe to force: `check` found the size of this very type byte.
        switch ClientMessageType(rawValue: typeByte).unsafelyUnwrapped {
        case .login:
            fields.text(4, count: 16, .username, allowsSpace: false, allowsEmpty: false)
            fields.text(20, count: 32, .password, allowsSpace: true, allowsEmpty: true)
            message = .login(
                Login(
                    username: Username(word0: fields.u64(4), word1: fields.u64(12)),
                    password: Password(
                        word0: fields.u64(20), word1: fields.u64(28), word2: fields.u64(36), word3: fields.u64(44)),
                    heartbeatIntervalMs: fields.u32(52)))
        case .newOrder:
            let account = fields.u32(4)
            let symbol = fields.symbol(16)
            let side = fields.enumeration(40, .side, placeholder: BinarySide.buy)
            let orderType = fields.enumeration(41, .orderType, placeholder: BinaryOrderType.limit)
            let timeInForce = fields.enumeration(42, .timeInForce, placeholder: BinaryTimeInForce.goodTillCancel)
            let flags = fields.reader.u8(43)
            if flags > 1 { fields.fail(.badEnum(.flags, UInt16(flags))) }
            message = .newOrder(
                NewOrderRequest(
                    clientOrderID: fields.u64(8), account: account, symbol: symbol, side: side, orderType: orderType,
                    timeInForce: timeInForce, price: fields.i64(24), quantity: fields.i64(32), postOnly: flags == 1))
        case .cancel:
            let symbol = fields.symbol(24)
            message = .cancel(
                CancelRequest(
                    requestID: fields.u64(8), clientOrderID: fields.u64(16), account: fields.u32(4), symbol: symbol))
        case .replace:
            let symbol = fields.symbol(24)
            message = .replace(
                ReplaceRequest(
                    requestID: fields.u64(8), clientOrderID: fields.u64(16), account: fields.u32(4), symbol: symbol,
                    newPrice: fields.i64(32), newQuantity: fields.i64(40)))
        case .heartbeat:
            message = .heartbeat
        case .logout:
            message = .logout
        }
        if let error = fields.error { return .error(error, skip: size) }
        return .message(message, consumed: size)
    }
}
