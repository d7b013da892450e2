/// What the risk engine decided for one order or replace.
@frozen
public enum RiskAction: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The command goes on to the matching engine.
    case pass = 0
    /// Goes on, marked for surveillance (the spoofing model's policy; static checks never flag).
    case flag = 1
    /// Goes on; the caller slows the account down (the spoofing model's policy).
    case throttle = 2
    /// Refused: the command never reaches the book.
    case reject = 3

    /// `"pass"`, `"flag"`, `"throttle"` or `"reject"`, as in the replay protocol.
    public var codeLiteral: StaticString {
        switch self {
        case .pass: "pass"
        case .flag: "flag"
        case .throttle: "throttle"
        case .reject: "reject"
        }
    }

    public var description: String { codeLiteral.description }
}

/// The static limit that rejected a command. ``code`` is the stable reason string (snake_case);
/// clients see ``rejectCode`` (`risk_` + code).
///
/// The first check that fails is reported; ``RiskEngine`` lists the order they run in.
@frozen
public enum RiskReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A preallocated risk table (accounts, positions or working orders) is full.
    case capacityExhausted = 0
    /// The account's kill switch is on.
    case killSwitch = 1
    /// The account's token bucket is empty.
    case messageRate = 2
    /// Quantity above the symbol's `max_order_qty`.
    case maxOrderQuantity = 3
    /// A market order on a symbol with neither a last trade nor a configured reference price.
    case noReferencePrice = 4
    /// Limit price outside the band around the reference price.
    case priceBand = 5
    /// price × qty × tick value above the notional limit.
    case notionalLimit = 6
    /// One more resting-capable order than `max_open_orders`.
    case openOrdersLimit = 7
    /// The position plus working orders on the order's side would exceed `max_position`.
    case positionLimit = 8
    /// Credit usage plus the order's notional would exceed the credit limit (buy orders).
    case creditLimit = 9
    /// The spoofing model's score reached the policy's threshold (flag, throttle or reject mode).
    case spoofingModel = 10
    /// The model failed or ran out of its time budget and the policy fails closed.
    case modelUnavailable = 11
    /// The gateway's risk sidecar did not answer in time (the gateway fails closed).
    case unavailable = 12

    /// The reason code, e.g. `"notional_limit"`.
    public var code: String { codeLiteral.description }

    /// ``code`` as a static literal, for writers on the hot path.
    public var codeLiteral: StaticString {
        switch self {
        case .capacityExhausted: "capacity_exhausted"
        case .killSwitch: "kill_switch"
        case .messageRate: "message_rate"
        case .maxOrderQuantity: "max_order_qty"
        case .noReferencePrice: "no_reference_price"
        case .priceBand: "price_band"
        case .notionalLimit: "notional_limit"
        case .openOrdersLimit: "open_orders_limit"
        case .positionLimit: "position_limit"
        case .creditLimit: "credit_limit"
        case .spoofingModel: "spoofing_model"
        case .modelUnavailable: "model_unavailable"
        case .unavailable: "unavailable"
        }
    }

    /// The rejection reason a client sees: `"risk_"` + ``code``, e.g. `"risk_notional_limit"`.
    public var rejectCodeLiteral: StaticString {
        switch self {
        case .capacityExhausted: "risk_capacity_exhausted"
        case .killSwitch: "risk_kill_switch"
        case .messageRate: "risk_message_rate"
        case .maxOrderQuantity: "risk_max_order_qty"
        case .noReferencePrice: "risk_no_reference_price"
        case .priceBand: "risk_price_band"
        case .notionalLimit: "risk_notional_limit"
        case .openOrdersLimit: "risk_open_orders_limit"
        case .positionLimit: "risk_position_limit"
        case .creditLimit: "risk_credit_limit"
        case .spoofingModel: "risk_spoofing_model"
        case .modelUnavailable: "risk_model_unavailable"
        case .unavailable: "risk_unavailable"
        }
    }

    public var description: String { code }
}

/// Whether a model scored the command.
@frozen
public enum ModelStatus: UInt8, Sendable {
    /// No model is configured: ``RiskDecision/score`` is nil.
    case off = 0
    /// The model failed or ran out of its time budget (fail-open): ``RiskDecision/score`` is nil.
    case failed = 1
    /// The model scored the command: ``RiskDecision/score`` holds its probability.
    case scored = 2
}

/// The answer to one ``RiskEngine/check(_:now:)`` or ``RiskEngine/checkReplace(_:now:)``.
/// A plain value: building one never allocates.
@frozen
public struct RiskDecision: Hashable, Sendable {
    /// Pass or reject by a static limit; flag, throttle or reject by the spoofing model's policy.
    public var action: RiskAction
    /// The limit (or ``RiskReason/spoofingModel``) that decided a non-pass action; nil for a pass.
    public var reason: RiskReason?
    /// The model's probability (0…1) that the order is spoofing; nil without a model.
    public var score: Double?
    /// Whether ``score`` comes from a model.
    public var model: ModelStatus

    /// A decision.
    @inlinable
    public init(action: RiskAction, reason: RiskReason?, score: Double? = nil, model: ModelStatus = .off) {
        self.action = action
        self.reason = reason
        self.score = score
        self.model = model
    }

    /// The command passes every static limit (no model).
    public static let pass = RiskDecision(action: .pass, reason: nil)

    /// Rejected by `reason`.
    @inlinable public static func reject(_ reason: RiskReason) -> RiskDecision {
        RiskDecision(action: .reject, reason: reason)
    }
}
