import ChronosCore

/// The static limits of one symbol, as the risk engine applies them (every value resolved).
///
/// Units: prices in the symbol's integer price units ("ticks" of the replay protocol), quantities
/// in lots, money in micro-dollars (1 USD = 1,000,000 µ$).
@frozen
public struct SymbolRiskLimits: Hashable, Sendable {
    /// The value in micro-dollars of one price unit for one lot: notional = price × qty × this.
    /// Default 10,000 (prices in cents, lot = 1 share: $0.01).
    public var tickValueMicros: Int64
    /// An order whose notional is above this (micro-dollars) is rejected `notional_limit`.
    public var maxNotionalMicros: Int128
    /// An order (or replace) for more lots than this is rejected `max_order_qty`.
    public var maxOrderQuantity: Quantity
    /// Half-width of the price band around the reference price, in basis points of the
    /// reference (1000 = ±10 %); 0 turns the band off.
    public var priceBandBasisPoints: Int64
    /// The reference price (price units) before the symbol's first trade; 0 = none.
    public var referencePrice: Price

    /// Limits with the engine-wide defaults of ``RiskConfiguration``.
    @inlinable
    public init(
        tickValueMicros: Int64 = 10_000, maxNotionalMicros: Int128 = 1_000_000 * 1_000_000,
        maxOrderQuantity: Quantity = 1_000_000, priceBandBasisPoints: Int64 = 1_000, referencePrice: Price = 0
    ) {
        self.tickValueMicros = tickValueMicros
        self.maxNotionalMicros = maxNotionalMicros
        self.maxOrderQuantity = maxOrderQuantity
        self.priceBandBasisPoints = priceBandBasisPoints
        self.referencePrice = referencePrice
    }
}

/// The static limits of one account, as the risk engine applies them (every value resolved).
@frozen
public struct AccountRiskLimits: Hashable, Sendable {
    /// Most working orders that may rest (GTC limit orders, in flight or resting) at once;
    /// one more is rejected `open_orders_limit`.
    public var maxOpenOrders: Int64
    /// Credit limit in micro-dollars: see ``RiskEngine`` for what counts against it.
    public var creditLimitMicros: Int128
    /// Largest absolute position per symbol, in lots, counting working orders on the same side.
    public var maxPosition: Int64
    /// Sustained message rate (new and replace commands) per second; 0 = no limit.
    public var maxMessagesPerSecond: Int64
    /// Token-bucket size: messages that may arrive at once after a quiet spell (≥ 1).
    public var messageBurst: Int64
    /// When true every new order and replace of the account is rejected `kill_switch`.
    public var killed: Bool

    /// Limits with the engine-wide defaults of ``RiskConfiguration``.
    @inlinable
    public init(
        maxOpenOrders: Int64 = 10_000, creditLimitMicros: Int128 = 100_000_000 * 1_000_000,
        maxPosition: Int64 = 10_000_000, maxMessagesPerSecond: Int64 = 0, messageBurst: Int64 = 1,
        killed: Bool = false
    ) {
        self.maxOpenOrders = maxOpenOrders
        self.creditLimitMicros = creditLimitMicros
        self.maxPosition = maxPosition
        self.maxMessagesPerSecond = maxMessagesPerSecond
        self.messageBurst = messageBurst
        self.killed = killed
    }
}

/// Per-symbol overrides of the defaults (`[[risk.symbols]]`); a nil field keeps the default.
public struct SymbolRiskOverrides: Hashable, Sendable {
    /// The symbol's name as clients spell it.
    public var name: String
    /// `tick_value_micros`.
    public var tickValueMicros: Int64?
    /// `max_notional_usd`, whole dollars.
    public var maxNotionalUSD: Int64?
    /// `max_order_qty`, lots.
    public var maxOrderQuantity: Quantity?
    /// `price_band_bps`; 0 = off.
    public var priceBandBasisPoints: Int64?
    /// `reference_price`, price units (> 0).
    public var referencePrice: Price?

    /// Overrides for `name`, nothing overridden.
    public init(name: String) { self.name = name }
}

/// Per-account overrides of the defaults (`[[risk.accounts]]`); a nil field keeps the default.
public struct AccountRiskOverrides: Hashable, Sendable {
    /// The account as the edge names it: a replay account string, or the decimal number of a
    /// gateway account (``accountNumber``).
    public var account: String
    /// `max_open_orders`.
    public var maxOpenOrders: Int64?
    /// `credit_limit_usd`, whole dollars.
    public var creditLimitUSD: Int64?
    /// `max_position`, lots per symbol.
    public var maxPosition: Int64?
    /// `max_messages_per_second`; 0 = no limit.
    public var maxMessagesPerSecond: Int64?
    /// `message_burst`.
    public var messageBurst: Int64?
    /// `killed`: the kill switch at start.
    public var killed: Bool?

    /// Overrides for `account`, nothing overridden.
    public init(account: String) { self.account = account }

    /// The account as a gateway account number, when ``account`` is a decimal `UInt32`.
    public var accountNumber: UInt32? { UInt32(account) }
}

/// Configuration of the risk engine's static checks (`[risk]` in the TOML file).
///
/// Capacities size the preallocated tables once; the limits are defaults that per-symbol and
/// per-account overrides refine. See `docs/risk.md` for every formula.
///
/// Keys (all optional; defaults in code, ``RiskConfiguration``):
///
/// ```toml
/// [risk]
/// account_capacity = 4096         # accounts tracked (preallocated)
/// symbol_capacity = 1024          # symbols tracked (replay raises it to the engine's symbol capacity)
/// order_capacity = 1000000        # working orders tracked, all accounts
/// position_capacity = 65536       # (account, symbol) positions tracked
/// tick_value_micros = 10000       # µ$ per price unit per lot ($0.01: prices in cents, 1-share lots)
/// max_notional_usd = 1000000      # per order: price × qty × tick value above this rejects
/// max_order_qty = 1000000         # lots per order
/// price_band_bps = 1000           # ± basis points around the reference price; 0 = off
/// max_open_orders = 10000         # per account: resting-capable (GTC limit) working orders
/// credit_limit_usd = 100000000    # per account: open buy notional + position cost
/// max_position = 10000000         # per account and symbol, lots, counting working orders
/// max_messages_per_second = 0     # per account, token bucket; 0 = no limit
/// message_burst = 1000            # bucket size; default one second's worth
///
/// [[risk.symbols]]                # per-symbol overrides
/// name = "AAPL"
/// max_order_qty = 50000
/// price_band_bps = 500
/// reference_price = 18950         # price units; the band's reference before the first trade
/// tick_value_micros = 10000
/// max_notional_usd = 5000000
///
/// [[risk.accounts]]               # per-account overrides
/// account = "A1"                  # a replay account name, or a gateway account number (101)
/// max_open_orders = 100
/// credit_limit_usd = 2000000
/// max_position = 10000
/// max_messages_per_second = 500
/// message_burst = 50
/// killed = false                  # the kill switch at start (operators flip it at run time)
/// ```
///
/// Unknown keys and bad values are errors naming the key.
public struct RiskConfiguration: Hashable, Sendable {
    /// Accounts the engine tracks (`account_capacity`); an order of one more is `capacity_exhausted`.
    public var accountCapacity = 4_096
    /// Symbols (dense ``SymbolID`` values `0..<symbolCapacity`, `symbol_capacity`).
    public var symbolCapacity = 1_024
    /// Working orders tracked at once (`order_capacity`), all accounts together.
    public var orderCapacity = 1_000_000
    /// (account, symbol) positions tracked (`position_capacity`); positions are never dropped.
    public var positionCapacity = 65_536
    /// `tick_value_micros`: µ$ per price unit per lot (default $0.01: prices in cents, 1 share lots).
    public var tickValueMicros: Int64 = 10_000
    /// `max_notional_usd`: the largest order notional that passes, whole dollars.
    public var maxNotionalUSD: Int64 = 1_000_000
    /// `max_order_qty`: lots per order.
    public var maxOrderQuantity: Quantity = 1_000_000
    /// `price_band_bps`: ± basis points around the reference price; 0 = off.
    public var priceBandBasisPoints: Int64 = 1_000
    /// `max_open_orders` of accounts without overrides.
    public var maxOpenOrders: Int64 = 10_000
    /// `credit_limit_usd` of accounts without overrides, whole dollars.
    public var creditLimitUSD: Int64 = 100_000_000
    /// `max_position` of accounts without overrides, lots per symbol.
    public var maxPosition: Int64 = 10_000_000
    /// `max_messages_per_second` of accounts without overrides; 0 = no limit.
    public var maxMessagesPerSecond: Int64 = 0
    /// `message_burst` of accounts without overrides; nil = one second's worth (≥ 1).
    public var messageBurst: Int64?
    /// `[[risk.symbols]]`, in file order.
    public var symbols: [SymbolRiskOverrides] = []
    /// `[[risk.accounts]]`, in file order.
    public var accounts: [AccountRiskOverrides] = []
    /// `[risk.model]`: the spoofing model and its policy.
    public var model = RiskModelConfiguration()
    /// `placement`: where the gateway's checks run — in its own path (`inline`, default) or in the
    /// `chronos risk` sidecar (`sidecar`), which sees every gateway's flow through the shards' events.
    public var placement = RiskPlacement.inline
    /// `sidecar`: the sidecar's ZeroMQ endpoint (ROUTER), bound by `chronos risk`, connected to by gateways.
    public var sidecarEndpoint = "ipc://.chronos-state/risk.ipc"
    /// `sidecar_timeout_us`: how long a gateway waits for the sidecar's answer; past it the order is
    /// rejected `risk_unavailable` (no limits, no trading).
    public var sidecarTimeoutMicros = 5_000

    /// The defaults: $1,000,000 notional limit, prices in cents.
    public init() {}

    /// The limits of an unlisted symbol.
    public var defaultSymbolLimits: SymbolRiskLimits {
        SymbolRiskLimits(
            tickValueMicros: tickValueMicros, maxNotionalMicros: Int128(maxNotionalUSD) * 1_000_000,
            maxOrderQuantity: maxOrderQuantity, priceBandBasisPoints: priceBandBasisPoints, referencePrice: 0)
    }

    /// The limits of an unlisted account.
    public var defaultAccountLimits: AccountRiskLimits {
        AccountRiskLimits(
            maxOpenOrders: maxOpenOrders, creditLimitMicros: Int128(creditLimitUSD) * 1_000_000,
            maxPosition: maxPosition, maxMessagesPerSecond: maxMessagesPerSecond,
            messageBurst: messageBurst ?? max(1, maxMessagesPerSecond), killed: false)
    }

    /// The limits of the symbol called `name`: the defaults with its overrides applied.
    public func symbolLimits(named name: String) -> SymbolRiskLimits {
        var limits = defaultSymbolLimits
        guard let o = symbols.last(where: { $0.name == name }) else { return limits }
        if let v = o.tickValueMicros { limits.tickValueMicros = v }
        if let v = o.maxNotionalUSD { limits.maxNotionalMicros = Int128(v) * 1_000_000 }
        if let v = o.maxOrderQuantity { limits.maxOrderQuantity = v }
        if let v = o.priceBandBasisPoints { limits.priceBandBasisPoints = v }
        if let v = o.referencePrice { limits.referencePrice = v }
        return limits
    }

    /// The limits of `account` (see ``AccountRiskOverrides/account``): defaults plus its overrides.
    public func accountLimits(named account: String) -> AccountRiskLimits {
        var limits = defaultAccountLimits
        guard let o = accounts.last(where: { $0.account == account }) else { return limits }
        if let v = o.maxOpenOrders { limits.maxOpenOrders = v }
        if let v = o.creditLimitUSD { limits.creditLimitMicros = Int128(v) * 1_000_000 }
        if let v = o.maxPosition { limits.maxPosition = v }
        if let v = o.maxMessagesPerSecond {
            // A rate of its own comes with one second's worth of burst unless a burst is given.
            limits.maxMessagesPerSecond = v
            limits.messageBurst = max(1, v)
        }
        if let v = o.messageBurst { limits.messageBurst = v }
        if let v = o.killed { limits.killed = v }
        return limits
    }

    /// Largest value accepted for `max_messages_per_second` and `message_burst` (keeps the
    /// token bucket's nanosecond arithmetic inside 64 bits).
    public static let maxRate: Int64 = 1_000_000_000

    /// Problems that make this configuration unusable, each naming its key (`risk.…`); empty when valid.
    public var validationErrors: [String] {
        var errors: [String] = []
        func check(_ ok: Bool, _ key: String, _ rule: String, _ value: some CustomStringConvertible) {
            if !ok { errors.append("risk.\(key): must be \(rule) (got \(value))") }
        }
        check((1...(1 << 24)).contains(accountCapacity), "account_capacity", "in 1...16777216", accountCapacity)
        check((1...(1 << 24)).contains(symbolCapacity), "symbol_capacity", "in 1...16777216", symbolCapacity)
        check((1...(1 << 28)).contains(orderCapacity), "order_capacity", "in 1...268435456", orderCapacity)
        check((1...(1 << 28)).contains(positionCapacity), "position_capacity", "in 1...268435456", positionCapacity)
        errors += model.validationErrors
        check(
            (1...10_000_000).contains(sidecarTimeoutMicros), "sidecar_timeout_us", "in 1...10000000",
            sidecarTimeoutMicros)
        check(!sidecarEndpoint.isEmpty, "sidecar", "an endpoint", "\"\"")
        func symbolChecks(_ prefix: String, _ o: SymbolRiskOverrides) {
            if let v = o.tickValueMicros { check(v > 0, prefix + "tick_value_micros", "> 0", v) }
            if let v = o.maxNotionalUSD { check(v > 0, prefix + "max_notional_usd", "> 0", v) }
            if let v = o.maxOrderQuantity { check(v > 0, prefix + "max_order_qty", "> 0", v) }
            if let v = o.priceBandBasisPoints { check(v >= 0, prefix + "price_band_bps", ">= 0", v) }
            if let v = o.referencePrice { check(v > 0, prefix + "reference_price", "> 0", v) }
        }
        var defaults = SymbolRiskOverrides(name: "")
        defaults.tickValueMicros = tickValueMicros
        defaults.maxNotionalUSD = maxNotionalUSD
        defaults.maxOrderQuantity = maxOrderQuantity
        defaults.priceBandBasisPoints = priceBandBasisPoints
        symbolChecks("", defaults)
        func accountChecks(_ prefix: String, _ o: AccountRiskOverrides) {
            if let v = o.maxOpenOrders { check(v >= 0, prefix + "max_open_orders", ">= 0", v) }
            if let v = o.creditLimitUSD { check(v >= 0, prefix + "credit_limit_usd", ">= 0", v) }
            if let v = o.maxPosition { check(v >= 0, prefix + "max_position", ">= 0", v) }
            if let v = o.maxMessagesPerSecond {
                check((0...Self.maxRate).contains(v), prefix + "max_messages_per_second", "in 0...1000000000", v)
            }
            if let v = o.messageBurst {
                check((1...Self.maxRate).contains(v), prefix + "message_burst", "in 1...1000000000", v)
            }
        }
        var accountDefaults = AccountRiskOverrides(account: "")
        accountDefaults.maxOpenOrders = maxOpenOrders
        accountDefaults.creditLimitUSD = creditLimitUSD
        accountDefaults.maxPosition = maxPosition
        accountDefaults.maxMessagesPerSecond = maxMessagesPerSecond
        accountDefaults.messageBurst = messageBurst
        accountChecks("", accountDefaults)
        var names = Set<String>()
        for (i, o) in symbols.enumerated() {
            if o.name.isEmpty { errors.append("risk.symbols[\(i)].name: must not be empty") }
            if !names.insert(o.name).inserted {
                errors.append("risk.symbols[\(i)].name: symbol \(o.name) is listed twice")
            }
            symbolChecks("symbols[\(i)].", o)
        }
        if accounts.count > accountCapacity {
            errors.append(
                "risk.accounts: \(accounts.count) accounts listed, more than account_capacity (\(accountCapacity))")
        }
        var accountNames = Set<String>()
        for (i, o) in accounts.enumerated() {
            if o.account.isEmpty { errors.append("risk.accounts[\(i)].account: must not be empty") }
            if !accountNames.insert(o.account).inserted {
                errors.append("risk.accounts[\(i)].account: account \(o.account) is listed twice")
            }
            accountChecks("accounts[\(i)].", o)
        }
        return errors
    }
}

/// Where a gateway's pre-trade checks run.
public enum RiskPlacement: String, Sendable, CaseIterable {
    /// A library call in the gateway's order path.
    case inline
    /// The `chronos risk` service, over ZeroMQ.
    case sidecar
}

/// `[risk.model]`: which spoofing model to load and what its score does (docs/risk-model.md).
///
/// ```toml
/// [risk.model]
/// path = "models/spoofing-v1.onnx"   # relative to the working directory; unset: see below
/// mode = "flag"                      # off | shadow | flag | throttle | reject
/// threshold = 0.1                    # scores at or above act (docs/risk-model.md)
/// scoring = "in_path"                # in_path | behind (score-behind)
/// fail = "open"                      # open | closed: what a failed or late score does
/// time_budget_us = 50                # a score slower than this counts as failed; 0 = no budget
/// on_load_error = "fail"             # fail (start-up error) | static_only (run without the model)
/// throttle_messages_per_second = 10  # throttle mode: the account's rate while throttled …
/// throttle_seconds = 60              # … and for how long
/// ```
///
/// Without `path`, `chronos replay --risk` runs without a model (scores are `null`); the live
/// services (`run`, `gateway`, `risk`) load the model bundled with Chronos when they find it and
/// run static-only (logged) when they do not.
public struct RiskModelConfiguration: Hashable, Sendable {
    /// The ONNX file; nil: none configured.
    public var path: String?
    public var policy = SpoofingPolicy()
    public var timeBudgetMicros = 50
    /// False: a model that cannot be loaded leaves the engine static-only instead of failing start-up.
    public var requireModel = true
    public var throttleMessagesPerSecond: Int64 = 10
    public var throttleSeconds: Int64 = 60

    public init() {}

    /// Problems with the values, each naming its key.
    public var validationErrors: [String] {
        var errors: [String] = []
        if !(0...1).contains(policy.threshold) || !policy.threshold.isFinite {
            errors.append("risk.model.threshold: must be in 0...1 (got \(policy.threshold))")
        }
        if !(0...1_000_000).contains(timeBudgetMicros) {
            errors.append("risk.model.time_budget_us: must be in 0...1000000 (got \(timeBudgetMicros))")
        }
        if !(1...1_000_000).contains(throttleMessagesPerSecond) {
            errors.append(
                "risk.model.throttle_messages_per_second: must be in 1...1000000 (got \(throttleMessagesPerSecond))")
        }
        if !(1...86_400).contains(throttleSeconds) {
            errors.append("risk.model.throttle_seconds: must be in 1...86400 (got \(throttleSeconds))")
        }
        if let path, path.isEmpty { errors.append("risk.model.path: must not be empty") }
        return errors
    }
}
