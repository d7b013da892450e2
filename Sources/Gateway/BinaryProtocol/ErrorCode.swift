/// Why the gateway refused a login or a request: the `UInt16` error code of `loginRejected` and
/// `rejected` messages (docs/protocol.md, "Error codes").
///
/// Codes 0–9 are exactly the engine's reject reasons (ChronosCore's `RejectReason` raw values):
/// the gateway forwards an engine rejection as `ErrorCode(rawValue: UInt16(reason.rawValue))`.
/// Codes from 100 are the gateway's own. Every code has a stable ``name``; renumbering or renaming
/// a code changes the protocol. A code a decoder does not know is a `badEnum` error, so adding one
/// is a new protocol version.
@frozen
public enum ErrorCode: UInt16, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    // MARK: The engine's reject reasons (0–9)

    /// The engine could not read the command (also: a request the gateway found inconsistent).
    case malformed = 0
    /// The exchange order id was already used in this engine's life.
    case duplicateID = 1
    /// Cancel or replace of an order that is not resting (filled, canceled, or another symbol).
    case unknownOrder = 2
    /// Cancel or replace by an account that does not own the order.
    case notOwner = 3
    /// Price ≤ 0, off the tick grid, or outside the symbol's price limits.
    case invalidPrice = 4
    /// Quantity ≤ 0, not a lot multiple, or outside the symbol's limits.
    case invalidQuantity = 5
    /// A post-only order whose price would take liquidity on arrival.
    case postOnlyWouldCross = 6
    /// A fill-or-kill order that cannot be filled completely right now. The engine's reason; the
    /// gateway does not send it for a new order but answers `orderAccepted` then `canceled`
    /// (docs/protocol.md, `canceled`).
    case fillOrKillUnfillable = 7
    /// The symbol does not exist on the exchange.
    case unknownSymbol = 8
    /// An engine pool is full (resting orders or used ids).
    case capacityExhausted = 9

    // MARK: The gateway's (100…)

    /// A request other than `login` before the session logged in.
    case notLoggedIn = 100
    /// Unknown username or wrong password.
    case badCredentials = 101
    /// A second `login` on a session that is logged in, or the user already has a session.
    case alreadyLoggedIn = 102
    /// The session's user may not trade for the request's account.
    case accountNotPermitted = 103
    /// A `newOrder` whose `clientOrderID` this session has already used.
    case duplicateClientOrderID = 104
    /// A cancel or replace naming a `clientOrderID` this session does not know.
    case unknownClientOrderID = 105
    /// The session sends faster than its configured rate.
    case rateLimited = 106
    /// The length field exceeds ``BinaryFormat/maxMessageSize`` (the session is disconnected).
    case messageTooLarge = 107
    /// The header's type byte is not a client message type.
    case unknownMessageType = 108
    /// The header's version byte is not 1.
    case unsupportedVersion = 109
    /// The engine shard that trades the symbol is down or not connected.
    case shardUnavailable = 110
    /// The engine did not answer in time: the order's state is unknown until a later report.
    case engineTimeout = 111
    /// The session's outbound queue is full (a slow reader); the gateway disconnects it.
    case outboundQueueOverflow = 112
    /// Refused by the gateway's pre-trade risk checks (limits, notional, position).
    case riskRejected = 113
    /// A cancel or replace whose `requestID` this session has already used.
    case duplicateRequestID = 114
    /// A login whose heartbeat interval is outside the gateway's accepted range.
    case invalidHeartbeatInterval = 115
    /// The gateway has no room for another session.
    case sessionLimitReached = 116

    /// The stable snake_case name, as in docs/protocol.md, e.g. `"unknown_client_order_id"`.
    public var name: String { nameLiteral.description }

    /// ``name`` as a static literal: hot-path writers (logs, FIX text) use it without building a
    /// `String`.
    public var nameLiteral: StaticString {
        switch self {
        case .malformed: "malformed"
        case .duplicateID: "duplicate_id"
        case .unknownOrder: "unknown_order"
        case .notOwner: "not_owner"
        case .invalidPrice: "invalid_price"
        case .invalidQuantity: "invalid_qty"
        case .postOnlyWouldCross: "post_only_would_cross"
        case .fillOrKillUnfillable: "fok_unfillable"
        case .unknownSymbol: "unknown_symbol"
        case .capacityExhausted: "capacity_exhausted"
        case .notLoggedIn: "not_logged_in"
        case .badCredentials: "bad_credentials"
        case .alreadyLoggedIn: "already_logged_in"
        case .accountNotPermitted: "account_not_permitted"
        case .duplicateClientOrderID: "duplicate_client_order_id"
        case .unknownClientOrderID: "unknown_client_order_id"
        case .rateLimited: "rate_limited"
        case .messageTooLarge: "message_too_large"
        case .unknownMessageType: "unknown_message_type"
        case .unsupportedVersion: "unsupported_version"
        case .shardUnavailable: "shard_unavailable"
        case .engineTimeout: "engine_timeout"
        case .outboundQueueOverflow: "outbound_queue_overflow"
        case .riskRejected: "risk_rejected"
        case .duplicateRequestID: "duplicate_request_id"
        case .invalidHeartbeatInterval: "invalid_heartbeat_interval"
        case .sessionLimitReached: "session_limit_reached"
        }
    }

    /// The code whose ``name`` is `name`, or `nil`.
    public init?(name: String) {
        guard let code = ErrorCode.allCases.first(where: { $0.name == name }) else { return nil }
        self = code
    }

    /// ``name``.
    public var description: String { name }
}
