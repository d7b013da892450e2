import ChronosCore
import RiskEngine

extension RiskEngine {
    /// The risk engine the live services run — the gateway inline and the `chronos risk` sidecar
    /// build it here, so both apply the same limits: `[risk]` with its per-symbol overrides for
    /// the live symbols (id = index in ``ExchangeConfiguration/liveSymbols``), per-account
    /// overrides for numeric accounts (`account = "101"` is account 101) and for the names of
    /// `[gateway.account_ids]` (`account = "ACC1"`), each symbol's tick size,
    /// and the spoofing model when `scorer` is given and `[risk.model] mode` is not `off`.
    public static func live(_ exchange: ExchangeConfiguration, scorer: SpoofingScorer?) -> RiskEngine {
        let configuration = exchange.risk
        let risk = RiskEngine(configuration: configuration)
        if let scorer, configuration.model.policy.mode != .off {
            risk.attachSpoofingModel(scorer, policy: configuration.model.policy)
        }
        for (i, symbol) in exchange.liveSymbols.enumerated() {
            let id = SymbolID(UInt32(i))
            risk.setSymbolLimits(configuration.symbolLimits(named: symbol.name), for: id)
            risk.setTickSize(symbol.tickSize, for: id)
        }
        risk.applyAccountOverrides(configuration, accountIDs: exchange.gateway.accountIDs)
        return risk
    }

    /// Sets the limits (and kill switch) of every account in `configuration.accounts`
    /// (`[[risk.accounts]]`) that is a number or a name of `accountIDs` (`[gateway.account_ids]`);
    /// other accounts keep theirs. What a configuration reload (SIGHUP) applies at run time.
    /// Returns the accounts set.
    @discardableResult
    public func applyAccountOverrides(_ configuration: RiskConfiguration, accountIDs: [String: UInt32] = [:])
        -> [AccountID]
    {
        var set: [AccountID] = []
        for account in configuration.accounts {
            guard let number = GatewayConfiguration.accountNumber(account.account, names: accountIDs) else { continue }
            if setAccountLimits(configuration.accountLimits(named: account.account), for: AccountID(number)) {
                set.append(AccountID(number))
            }
        }
        return set
    }

    /// What the spoofing model's `throttle` action means in the live services (gateway inline and
    /// sidecar alike): the account is held to `[risk.model] throttle_messages_per_second` for
    /// `throttle_seconds` from `now`. (Replay never throttles: it has no clock to act on.)
    @discardableResult
    public func throttle(_ account: AccountID, as model: RiskModelConfiguration, now: UInt64) -> Bool {
        throttle(
            account: account, messagesPerSecond: model.throttleMessagesPerSecond,
            until: now + UInt64(model.throttleSeconds) * 1_000_000_000)
    }
}
