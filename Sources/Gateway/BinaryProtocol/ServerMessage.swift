// The messages the gateway sends to a client, their layouts and their codec. Offsets are from the
// start of the message; bytes 0–3 are the header (`BinaryFormat`). docs/protocol.md has the same
// tables.

import FencedCollections

/// The session is open.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 20, type 0x81, version 1
///      4    4 UInt32  sessionID             the session's id (never 0)
///      8    8 UInt64  sessionToken          secret for UDP datagrams (0 over TCP)
///     16    4 UInt32  heartbeatIntervalMs   the interval the gateway chose
/// ```
@frozen
public struct LoginAccepted: Hashable, Sendable {
    /// The session's id, never 0; every UDP datagram of the session carries it.
    public var sessionID: UInt32
    /// A random secret every UDP datagram of the session carries next to ``sessionID``; 0 over TCP.
    public var sessionToken: UInt64
    /// The heartbeat interval in milliseconds the gateway chose (usually the one asked for).
    public var heartbeatIntervalMs: UInt32

    /// An accepted login.
    public init(sessionID: UInt32, sessionToken: UInt64, heartbeatIntervalMs: UInt32) {
        self.sessionID = sessionID
        self.sessionToken = sessionToken
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }
}

/// A new order was accepted: it rests, or is about to trade (fills follow).
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 40, type 0x83, version 1
///      4    4         reserved              0
///      8    8 UInt64  clientOrderID         the client's id of the order
///     16    8 UInt64  exchangeOrderID       the exchange's id of the order
///     24    8 Int64   price                 limit price in price units (0 for market)
///     32    8 Int64   quantity              ordered quantity
/// ```
@frozen
public struct OrderAcceptedReport: Hashable, Sendable {
    /// The client's id of the order.
    public var clientOrderID: UInt64
    /// The exchange's id of the order, unique on the exchange.
    public var exchangeOrderID: UInt64
    /// The limit price in price units (0 for a market order).
    public var price: Int64
    /// The ordered quantity.
    public var quantity: Int64

    /// An acceptance.
    public init(clientOrderID: UInt64, exchangeOrderID: UInt64, price: Int64, quantity: Int64) {
        self.clientOrderID = clientOrderID
        self.exchangeOrderID = exchangeOrderID
        self.price = price
        self.quantity = quantity
    }
}

/// A request was refused; nothing changed.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 24, type 0x84, version 1
///      4    2 UInt16  errorCode             ErrorCode
///      6    1 UInt8   requestKind           0 other, 1 new, 2 cancel, 3 replace
///      7    1         reserved              0
///      8    8 UInt64  clientOrderID         the order the request named (0 for other)
///     16    8 UInt64  requestID             cancel/replace: the request's id; else 0
/// ```
@frozen
public struct RejectedReport: Hashable, Sendable {
    /// The order the request named: a new order's own id, a cancel's or replace's target; 0 for
    /// ``RequestKind/other``.
    public var clientOrderID: UInt64
    /// The cancel's or replace's ``CancelRequest/requestID``; 0 for a new order or other.
    public var requestID: UInt64
    /// What was refused.
    public var requestKind: RequestKind
    /// Why.
    public var errorCode: ErrorCode

    /// A rejection.
    public init(clientOrderID: UInt64, requestID: UInt64 = 0, requestKind: RequestKind, errorCode: ErrorCode) {
        self.clientOrderID = clientOrderID
        self.requestID = requestID
        self.requestKind = requestKind
        self.errorCode = errorCode
    }

    /// The rejection of `request` (its kind and ids) with `errorCode`.
    public init(_ request: ClientMessage.RequestIdentity, errorCode: ErrorCode) {
        self.init(
            clientOrderID: request.clientOrderID, requestID: request.requestID, requestKind: request.kind,
            errorCode: errorCode)
    }
}

/// One of the session's orders traded.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 64, type 0x85, version 1
///      4    1 UInt8   side                  the order's side: 1 buy, 2 sell
///      5    3         reserved              0
///      8    8 UInt64  clientOrderID         the client's id of the order
///     16    8 UInt64  exchangeOrderID       the exchange's id of the order
///     24    8 UInt64  tradeID               the trade's id (shared with the counterparty)
///     32    8 Int64   price                 trade price in price units
///     40    8 Int64   quantity              traded quantity
///     48    8 Int64   leavesQuantity        open quantity after the fill (0: done)
///     56    8 Int64   cumulativeQuantity    total filled so far
/// ```
@frozen
public struct FillReport: Hashable, Sendable {
    /// The client's id of the order.
    public var clientOrderID: UInt64
    /// The exchange's id of the order.
    public var exchangeOrderID: UInt64
    /// The trade's id; both sides' fills carry it.
    public var tradeID: UInt64
    /// The order's side.
    public var side: BinarySide
    /// The trade price in price units (the resting order's price).
    public var price: Int64
    /// The traded quantity.
    public var quantity: Int64
    /// The order's open quantity after this fill; 0 when the order is done.
    public var leavesQuantity: Int64
    /// The order's total filled quantity including this fill.
    public var cumulativeQuantity: Int64

    /// A fill.
    public init(
        clientOrderID: UInt64, exchangeOrderID: UInt64, tradeID: UInt64, side: BinarySide, price: Int64,
        quantity: Int64, leavesQuantity: Int64, cumulativeQuantity: Int64
    ) {
        self.clientOrderID = clientOrderID
        self.exchangeOrderID = exchangeOrderID
        self.tradeID = tradeID
        self.side = side
        self.price = price
        self.quantity = quantity
        self.leavesQuantity = leavesQuantity
        self.cumulativeQuantity = cumulativeQuantity
    }
}

/// Quantity left one of the session's orders without trading; the order is done.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 32, type 0x86, version 1
///      4    1 UInt8   reason                BinaryCancelReason: 0…3, 100, 101
///      5    3         reserved              0
///      8    8 UInt64  clientOrderID         the client's id of the order
///     16    8 UInt64  requestID             the cancel's id; 0 when not asked
///     24    8 Int64   canceledQuantity      quantity removed
/// ```
@frozen
public struct CanceledReport: Hashable, Sendable {
    /// The client's id of the order.
    public var clientOrderID: UInt64
    /// The ``CancelRequest/requestID`` that asked; 0 when the client did not ask (an IOC or market
    /// remainder, self-trade prevention, a kill, the end of the session).
    public var requestID: UInt64
    /// The quantity removed.
    public var canceledQuantity: Int64
    /// Why.
    public var reason: BinaryCancelReason

    /// A cancel.
    public init(clientOrderID: UInt64, requestID: UInt64, canceledQuantity: Int64, reason: BinaryCancelReason) {
        self.clientOrderID = clientOrderID
        self.requestID = requestID
        self.canceledQuantity = canceledQuantity
        self.reason = reason
    }
}

/// A replace was applied.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    4         header                length 40, type 0x87, version 1
///      4    1 UInt8   keptPriority          1: kept its time priority; 0: lost it
///      5    3         reserved              0
///      8    8 UInt64  requestID             the replace's id
///     16    8 UInt64  clientOrderID         the client's id of the order
///     24    8 Int64   price                 the order's limit price now
///     32    8 Int64   leavesQuantity        the order's open quantity now
/// ```
@frozen
public struct ReplacedReport: Hashable, Sendable {
    /// The ``ReplaceRequest/requestID``.
    public var requestID: UInt64
    /// The client's id of the order (unchanged by the replace).
    public var clientOrderID: UInt64
    /// The order's limit price after the replace, in price units.
    public var price: Int64
    /// The order's open quantity after the replace.
    public var leavesQuantity: Int64
    /// `true` when the order kept its place in the queue (same price, quantity not increased).
    public var keptPriority: Bool

    /// A replace.
    public init(requestID: UInt64, clientOrderID: UInt64, price: Int64, leavesQuantity: Int64, keptPriority: Bool) {
        self.requestID = requestID
        self.clientOrderID = clientOrderID
        self.price = price
        self.leavesQuantity = leavesQuantity
        self.keptPriority = keptPriority
    }
}

/// A message from the gateway to a client (docs/protocol.md).
///
/// Encoding and decoding are O(1), never allocate and never trap on any input.
///
/// The two small layouts without a struct of their own:
///
/// ```
/// loginRejected (type 0x82, 6 bytes)     logout (type 0x89, 5 bytes)
///      0    4  header                         0    4  header
///      4    2  UInt16 errorCode               4    1  UInt8 reason (LogoutReason)
///
/// sequenceGap (type 0x8A, 16 bytes)
///      0    4  header
///      4    4  reserved, 0
///      8    8  UInt64 expectedSequence
/// ```
@frozen
public enum ServerMessage: Hashable, Sendable {
    /// The session is open. Type 0x81, 20 bytes.
    case loginAccepted(LoginAccepted)
    /// The login was refused; over TCP the gateway closes the connection. Type 0x82, 6 bytes.
    case loginRejected(ErrorCode)
    /// A new order was accepted. Type 0x83, 40 bytes.
    case orderAccepted(OrderAcceptedReport)
    /// A request was refused. Type 0x84, 24 bytes.
    case rejected(RejectedReport)
    /// An order traded. Type 0x85, 64 bytes.
    case fill(FillReport)
    /// An order was canceled. Type 0x86, 32 bytes.
    case canceled(CanceledReport)
    /// An order was replaced. Type 0x87, 40 bytes.
    case replaced(ReplacedReport)
    /// Liveness, sent when the gateway has sent nothing for a heartbeat interval. Type 0x88,
    /// 4 bytes.
    case heartbeat
    /// The session ends; over TCP the gateway closes the connection after it. Type 0x89, 5 bytes.
    case logout(LogoutReason)
    /// UDP only: a datagram skipped client sequence numbers; it was not processed. Resend from
    /// `expectedSequence`. Type 0x8A, 16 bytes.
    case sequenceGap(expectedSequence: UInt64)

    /// The type byte of this message.
    @inlinable
    public var type: ServerMessageType {
        switch self {
        case .loginAccepted: .loginAccepted
        case .loginRejected: .loginRejected
        case .orderAccepted: .orderAccepted
        case .rejected: .rejected
        case .fill: .fill
        case .canceled: .canceled
        case .replaced: .replaced
        case .heartbeat: .heartbeat
        case .logout: .logout
        case .sequenceGap: .sequenceGap
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
        case .loginAccepted(let accepted):
            writer.put(accepted.sessionID, at: 4)
            writer.put(accepted.sessionToken, at: 8)
            writer.put(accepted.heartbeatIntervalMs, at: 16)
        case .loginRejected(let code):
            writer.put(code.rawValue, at: 4)
        case .orderAccepted(let accepted):
            writer.put(accepted.clientOrderID, at: 8)
            writer.put(accepted.exchangeOrderID, at: 16)
            writer.put(accepted.price, at: 24)
            writer.put(accepted.quantity, at: 32)
        case .rejected(let rejected):
            writer.put(rejected.errorCode.rawValue, at: 4)
            writer.put(rejected.requestKind.rawValue, at: 6)
            writer.put(rejected.clientOrderID, at: 8)
            writer.put(rejected.requestID, at: 16)
        case .fill(let fill):
            writer.put(fill.side.rawValue, at: 4)
            writer.put(fill.clientOrderID, at: 8)
            writer.put(fill.exchangeOrderID, at: 16)
            writer.put(fill.tradeID, at: 24)
            writer.put(fill.price, at: 32)
            writer.put(fill.quantity, at: 40)
            writer.put(fill.leavesQuantity, at: 48)
            writer.put(fill.cumulativeQuantity, at: 56)
        case .canceled(let canceled):
            writer.put(canceled.reason.rawValue, at: 4)
            writer.put(canceled.clientOrderID, at: 8)
            writer.put(canceled.requestID, at: 16)
            writer.put(canceled.canceledQuantity, at: 24)
        case .replaced(let replaced):
            writer.put(replaced.keptPriority ? 1 as UInt8 : 0, at: 4)
            writer.put(replaced.requestID, at: 8)
            writer.put(replaced.clientOrderID, at: 16)
            writer.put(replaced.price, at: 24)
            writer.put(replaced.leavesQuantity, at: 32)
        case .heartbeat:
            break
        case .logout(let reason):
            writer.put(reason.rawValue, at: 4)
        case .sequenceGap(let expected):
            writer.put(expected, at: 8)
        }
        return size
    }

    /// Decodes the message at the start of `bytes`, a TCP stream's unread bytes (or one datagram's
    /// message part).
    ///
    /// - Returns: the message and the bytes it took; ``BinaryDecodeResult/needMoreBytes`` when
    ///   `bytes` holds only the start of a message; or the first error (see
    ///   ``BinaryProtocolError`` for the order of the checks) with the number of bytes to skip, or
    ///   `nil` when the framing is lost and the connection must be closed.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> BinaryDecodeResult<ServerMessage> {
        let size: Int
        let typeByte: UInt8
        switch BinaryHeader.check(bytes, size: { ServerMessageType(rawValue: $0)?.size }) {
        case .needMoreBytes: return .needMoreBytes
        case .error(let error, let skip): return .error(error, skip: skip)
        case .message(let type, let messageSize):
            typeByte = type
            size = messageSize
        }
        var fields = BinaryFieldDecoder(ByteReader(bytes, size: size))
        let message: ServerMessage
        // Safe to force: `check` found the size of this very type byte.
        switch ServerMessageType(rawValue: typeByte).unsafelyUnwrapped {
        case .loginAccepted:
            message = .loginAccepted(
                LoginAccepted(
                    sessionID: fields.u32(4), sessionToken: fields.u64(8), heartbeatIntervalMs: fields.u32(16)))
        case .loginRejected:
            message = .loginRejected(fields.errorCode(4))
        case .orderAccepted:
            fields.zero(4..<8)
            message = .orderAccepted(
                OrderAcceptedReport(
                    clientOrderID: fields.u64(8), exchangeOrderID: fields.u64(16), price: fields.i64(24),
                    quantity: fields.i64(32)))
        case .rejected:
            let code = fields.errorCode(4)
            let kind = fields.enumeration(6, .requestKind, placeholder: RequestKind.other)
            fields.zero(7..<8)
            message = .rejected(
                RejectedReport(
                    clientOrderID: fields.u64(8), requestID: fields.u64(16), requestKind: kind, errorCode: code))
        case .fill:
            let side = fields.enumeration(4, .side, placeholder: BinarySide.buy)
            fields.zero(5..<8)
            message = .fill(
                FillReport(
                    clientOrderID: fields.u64(8), exchangeOrderID: fields.u64(16), tradeID: fields.u64(24), side: side,
                    price: fields.i64(32), quantity: fields.i64(40), leavesQuantity: fields.i64(48),
                    cumulativeQuantity: fields.i64(56)))
        case .canceled:
            let reason = fields.enumeration(4, .cancelReason, placeholder: BinaryCancelReason.requested)
            fields.zero(5..<8)
            message = .canceled(
                CanceledReport(
                    clientOrderID: fields.u64(8), requestID: fields.u64(16), canceledQuantity: fields.i64(24),
                    reason: reason))
        case .replaced:
            let kept = fields.bool(4, .keptPriority)
            fields.zero(5..<8)
            message = .replaced(
                ReplacedReport(
                    requestID: fields.u64(8), clientOrderID: fields.u64(16), price: fields.i64(24),
                    leavesQuantity: fields.i64(32), keptPriority: kept))
        case .heartbeat:
            message = .heartbeat
        case .logout:
            message = .logout(fields.enumeration(4, .logoutReason, placeholder: LogoutReason.requested))
        case .sequenceGap:
            fields.zero(4..<8)
            message = .sequenceGap(expectedSequence: fields.u64(8))
        }
        if let error = fields.error { return .error(error, skip: size) }
        return .message(message, consumed: size)
    }
}
