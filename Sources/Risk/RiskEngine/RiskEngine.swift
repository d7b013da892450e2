import ChronosCore
import FencedCollections

/// The pre-trade risk engine's static (deterministic) checks, with the per-account,
/// per-symbol and per-order state they need. No I/O, no clock (time comes in as nanoseconds),
/// no Foundation; every table is preallocated in `init`, and ``check(_:now:)``,
/// ``checkReplace(_:now:)`` and ``apply(_:)`` are O(1) and never allocate.
///
/// ## Use
///
/// ```swift
/// let risk = RiskEngine(configuration: RiskConfiguration())
/// risk.setSymbolLimits(configuration.symbolLimits(named: "AAPL"), for: aapl)   // optional
/// let decision = risk.check(order, now: nanoseconds)
/// if decision.action != .reject { engine.submit(.new(order)) }                  // else reply risk_<reason>
/// for event in engine.events { risk.apply(event) }                               // every event, in order
/// ```
///
/// One thread owns an engine (like the matching engine); it is not `Sendable`.
///
/// ## What is checked, in this order (the first failure is the ``RiskDecision/reason``)
///
/// 1. `capacity_exhausted`: the symbol is outside `0..<symbolCapacity`, or a new account finds
///    the account table full.
/// 2. `kill_switch`: the account's switch is on (cancels are never checked: they always pass).
/// 3. `message_rate`: token bucket per account, refilled at `maxMessagesPerSecond` up to
///    `messageBurst` tokens; each checked new or replace takes one token (also when a later
///    check rejects it). Off when the rate is 0.
/// 4. Commands the matching engine will refuse anyway pass without further checks and without
///    changing state: quantity ≤ 0, limit price ≤ 0, a new order whose id is already working,
///    a replace of an order that is not working or belongs to another account or symbol.
/// 5. `max_order_qty`: qty > the symbol's limit.
/// 6. `no_reference_price`: a market order, and the symbol has no reference price.
///    The reference is the last trade price, else the configured one.
/// 7. `price_band`: `|price − reference| × 10,000 > band_bps × reference` (a limit order or a
///    replace that changes the price; skipped without a reference or with band 0).
/// 8. `notional_limit`: `price × qty × tickValueMicros > maxNotionalMicros`, in `Int128`
///    (market orders are valued at the reference price).
/// 9. `open_orders_limit`: a GTC limit order when the account already has `maxOpenOrders`
///    resting-capable orders working.
/// 10. `capacity_exhausted`: the working-order table or the position table is full.
/// 11. `position_limit`: buy: `position + openBuyQty + qty > maxPosition`; sell:
///     `−position + openSellQty + qty > maxPosition` (per symbol; a replace counts its new
///     quantity instead of the order's current one).
/// 12. `credit_limit` (buy orders): `openBuyNotional + positionCost + notional > creditLimit`.
///
/// ## State
///
/// - A passed new order is *reserved* at once: it becomes a working order (pending until the
///   engine's `accepted`), counting in open orders, open quantity and open buy notional, so that
///   orders in flight count against the limits. ``apply(_:)`` then follows the engine: fills
///   reduce it and move positions, `canceled` and a `rejected` new release it, `replaced` resizes
///   it. A replace reserves nothing; its `replaced` event applies the change.
/// - `position` (lots, signed) and `netCost` (µ$, buys add price × qty × tick value, sells
///   subtract) per (account, symbol). `positionCost` of an account = Σ over its symbols of
///   max(0, netCost): the cash spent on positions, valued at cost (no mark to market); short
///   sales give no credit.
/// - `openBuyNotional` = Σ over the account's working buy orders of price × leaves × tick value
///   (market orders at the reference price when checked).
/// - Every fill sets the symbol's last trade price (the band's reference).
public final class RiskEngine {
    /// The configuration the engine was built with (capacities and defaults).
    public let configuration: RiskConfiguration
    private let defaultSymbol: SymbolRiskLimits
    private let defaultAccount: AccountRiskLimits
    private var symbols: FixedArray<SymbolState>
    private var accounts: FixedSlab<AccountState>
    private var accountIndex: IDTable
    private var positions: FixedSlab<PositionState>
    private var positionIndex: IDTable
    private var orders: FixedSlab<OrderState>
    private var orderIndex: IDTable
    /// Engine events about orders or accounts the engine could not track (tables full).
    public private(set) var untrackedEvents = 0
    /// The dynamic check, when a model is attached.
    private var spoofing: SpoofingGuard?

    /// An engine with every table preallocated from `configuration` (capacities must be valid:
    /// see ``RiskConfiguration/validationErrors``). Symbols use the defaults until
    /// ``setSymbolLimits(_:for:)``; accounts use the defaults until ``setAccountLimits(_:for:)``.
    public init(configuration: RiskConfiguration) {
        self.configuration = configuration
        defaultSymbol = configuration.defaultSymbolLimits
        defaultAccount = configuration.defaultAccountLimits
        // Written once here (prefaulted): the checks never take a page fault.
        let memory = PoolMemory(prefault: true)
        symbols = FixedArray(
            capacity: configuration.symbolCapacity, blank: SymbolState(limits: configuration.defaultSymbolLimits),
            memory: memory)
        accounts = FixedSlab(capacity: configuration.accountCapacity, memory: memory)
        accountIndex = IDTable(maxEntries: configuration.accountCapacity, memory: memory)
        positions = FixedSlab(capacity: configuration.positionCapacity, memory: memory)
        positionIndex = IDTable(maxEntries: configuration.positionCapacity, memory: memory)
        orders = FixedSlab(capacity: configuration.orderCapacity, memory: memory)
        orderIndex = IDTable(maxEntries: configuration.orderCapacity, memory: memory)
    }

    deinit {
        symbols.deallocate()
        accounts.deallocate()
        accountIndex.deallocate()
        positions.deallocate()
        positionIndex.deallocate()
        orders.deallocate()
        orderIndex.deallocate()
    }

    // MARK: Setup and operator controls (not the hot path)

    /// Sets the limits of `symbol` (its last trade price is kept). Returns false when the symbol
    /// is outside `0..<symbolCapacity`.
    @discardableResult
    public func setSymbolLimits(_ limits: SymbolRiskLimits, for symbol: SymbolID) -> Bool {
        guard Int(symbol.rawValue) < Int(symbols.capacity) else { return false }
        symbols[Int32(symbol.rawValue)].limits = limits
        return true
    }

    /// Sets the last trade price of `symbol` (price units, > 0), as a fill at that price would: the
    /// reference of its price band and of market orders' notional. For a restart, which recovers
    /// the books but not the prices this engine saw trade. Returns false when the price is not
    /// positive or the symbol is outside `0..<symbolCapacity`.
    @discardableResult
    public func setLastTradePrice(_ price: Price, for symbol: SymbolID) -> Bool {
        guard price > 0, Int(symbol.rawValue) < Int(symbols.capacity) else { return false }
        symbols[Int32(symbol.rawValue)].lastTradePrice = price
        return true
    }

    /// Sets the limits of `account`, including its kill switch. An account not seen before starts
    /// with a full bucket of its own burst; for a known one, counters, positions and the token
    /// bucket are kept (the bucket is clamped to the new burst). Returns false when the account
    /// table is full.
    @discardableResult
    public func setAccountLimits(_ limits: AccountRiskLimits, for account: AccountID) -> Bool {
        let known = accountIndex.handle(for: UInt64(account.rawValue)) != nil
        guard let a = accountSlot(account) else { return false }
        if known {
            // A change (a reload): the bucket keeps what it holds, up to the new burst.
            accounts[a].limits = limits
            accounts[a].tokens = min(accounts[a].tokens, limits.messageBurst * Self.nanosPerSecond)
        } else {
            // An account configured before its first message starts with its own full burst, as an
            // account under the default limits starts with the default's.
            accounts[a] = AccountState(limits: limits)
        }
        return true
    }

    /// Turns the account's kill switch on or off, at run time: while on, every new order and
    /// replace of the account is rejected `kill_switch` (cancels still pass). Returns false when
    /// the account table is full. Canceling its working orders is the caller's choice: see
    /// ``forEachWorkingOrder(of:_:)``.
    @discardableResult
    public func setKillSwitch(account: AccountID, on: Bool) -> Bool {
        guard let a = accountSlot(account) else { return false }
        accounts[a].limits.killed = on
        return true
    }

    /// Slows the account down until `until` (ns, the checks' clock): its message rate becomes at
    /// most `messagesPerSecond` with a burst of one, and orders beyond it are rejected
    /// `message_rate`. What the gateway does with the model's `throttle` action. Returns false
    /// when the account table is full.
    @discardableResult
    public func throttle(account: AccountID, messagesPerSecond: Int64, until: UInt64) -> Bool {
        guard messagesPerSecond > 0, let a = accountSlot(account) else { return false }
        accounts[a].throttledUntil = max(accounts[a].throttledUntil, until)
        accounts[a].throttleRate = messagesPerSecond
        accounts[a].tokens = min(accounts[a].tokens, Self.nanosPerSecond)
        return true
    }

    /// Whether the account's kill switch is on (false for an account never seen).
    public func isKilled(_ account: AccountID) -> Bool {
        guard let a = accountIndex.handle(for: UInt64(account.rawValue)) else { return defaultAccount.killed }
        return accounts[a].limits.killed
    }

    /// The working orders of `account` (resting or in flight) with their symbol, for
    /// cancel-on-kill. O(order capacity); does not allocate.
    public func forEachWorkingOrder(of account: AccountID, _ body: (OrderID, SymbolID) -> Void) {
        guard let a = accountIndex.handle(for: UInt64(account.rawValue)) else { return }
        orderIndex.forEachHandle { slot in
            let order = orders[slot]
            if order.account == a { body(OrderID(order.id), SymbolID(positions[order.position].symbol)) }
        }
    }

    // MARK: Queries (tests, metrics, operators)

    /// A copy of the account's counters, or nil for an account never seen.
    public func accountState(_ account: AccountID) -> AccountRiskState? {
        guard let a = accountIndex.handle(for: UInt64(account.rawValue)) else { return nil }
        let s = accounts[a]
        return AccountRiskState(
            limits: s.limits, openOrders: s.openOrders, workingOrders: s.workingOrders,
            openBuyNotionalMicros: s.openBuyNotional, positionCostMicros: s.positionCost,
            availableMessages: s.tokens / Self.nanosPerSecond)
    }

    /// A copy of the account's position in `symbol` (zero when it never traded or ordered it).
    public func positionState(_ account: AccountID, _ symbol: SymbolID) -> PositionRiskState {
        guard let a = accountIndex.handle(for: UInt64(account.rawValue)),
            let p = positionIndex.handle(for: Self.positionKey(a, symbol.rawValue))
        else { return PositionRiskState(position: 0, openBuyQuantity: 0, openSellQuantity: 0, netCostMicros: 0) }
        let s = positions[p]
        return PositionRiskState(
            position: s.position, openBuyQuantity: s.openBuy, openSellQuantity: s.openSell, netCostMicros: s.netCost)
    }

    /// The symbol's limits, or nil outside `0..<symbolCapacity`.
    public func symbolLimits(_ symbol: SymbolID) -> SymbolRiskLimits? {
        guard Int(symbol.rawValue) < Int(symbols.capacity) else { return nil }
        return symbols[Int32(symbol.rawValue)].limits
    }

    /// The price the band and market orders use: the last trade price, else the configured
    /// reference; nil when neither exists.
    public func referencePrice(_ symbol: SymbolID) -> Price? {
        guard Int(symbol.rawValue) < Int(symbols.capacity) else { return nil }
        let reference = symbols[Int32(symbol.rawValue)].reference
        return reference > 0 ? reference : nil
    }

    /// Working orders tracked now, all accounts.
    public var workingOrderCount: Int { orderIndex.count }
    /// Accounts tracked now.
    public var accountCount: Int { accountIndex.count }
    /// (account, symbol) positions tracked now.
    public var positionCount: Int { positionIndex.count }

    // MARK: The spoofing model

    /// Attaches a spoofing model: from now on every new order and replace that passes the static
    /// limits is scored (in its path or score-behind) and `policy` decides what the score does.
    /// Mode `off` detaches. Feature tables are preallocated here from the configuration's
    /// capacities (symbols, positions as account × symbol pairs, orders). Set up before trading:
    /// orders already working are not followed by the features.
    public func attachSpoofingModel(_ scorer: SpoofingScorer, policy: SpoofingPolicy) {
        spoofing =
            policy.mode == .off ? nil : SpoofingGuard(scorer: scorer, policy: policy, configuration: configuration)
    }

    /// The attached model's policy, nil without one.
    public var spoofingPolicy: SpoofingPolicy? { spoofing?.policy }

    /// How the model was used so far (zeros without one).
    public var spoofingCounters: SpoofingModelCounters { spoofing?.counters ?? SpoofingModelCounters() }

    /// Score-behind: rescores up to `limit` (account, symbol) pairs whose events made their score
    /// stale, off the order path; their next order uses the new score. Returns how many were
    /// scored (0 without a model or in in-path scoring).
    @discardableResult
    public func refreshBehindScores(now: UInt64, limit: Int = .max) -> Int {
        spoofing?.refresh(now: now, limit: limit) ?? 0
    }

    /// Pairs waiting for a score-behind refresh.
    public var staleBehindScores: Int { spoofing?.staleCount ?? 0 }

    /// Tick sizes for the features' distances (ticks), per symbol; default 1 price unit.
    public func setTickSize(_ tickSize: Int64, for symbol: SymbolID) {
        spoofing?.features.setTickSize(tickSize, for: symbol)
    }

    // MARK: Checks (hot path)

    /// Checks a new order at time `now` (nanoseconds, any epoch, non-decreasing per account):
    /// the static limits, then, when a model is attached and the limits pass, the spoofing model's
    /// policy. A passed order is reserved as a working order until the engine's events release it.
    /// O(1); never allocates (the scorer aside).
    public func check(_ order: NewOrder, now: UInt64) -> RiskDecision {
        var reserved = false
        let limits = checkLimits(order, now: now, reserved: &reserved)
        guard limits.action == .pass, let spoofing else { return limits }
        let decision = spoofing.decide(order, now: now)
        if decision.action == .reject && reserved { release(order.id) }
        return decision
    }

    /// Checks a replace at time `now`: the order's new price (if it changes) against the band, the
    /// new quantity against the quantity, notional, position and credit limits, then the model's
    /// policy. Reserves nothing; the engine's `replaced` event updates the state. O(1); never
    /// allocates (the scorer aside).
    public func checkReplace(_ replace: ReplaceOrder, now: UInt64) -> RiskDecision {
        let limits = checkReplaceLimits(replace, now: now)
        guard limits.action == .pass, let spoofing else { return limits }
        return spoofing.decide(replace, now: now)
    }

    private func checkLimits(_ order: NewOrder, now: UInt64, reserved: inout Bool) -> RiskDecision {
        guard Int(order.symbol.rawValue) < Int(symbols.capacity) else { return .reject(.capacityExhausted) }
        guard let a = accountSlot(order.account) else { return .reject(.capacityExhausted) }
        if accounts[a].limits.killed { return .reject(.killSwitch) }
        if !takeToken(a, now: now) { return .reject(.messageRate) }
        let isMarket = order.type == .market
        if order.quantity <= 0 || (!isMarket && order.price <= 0) { return .pass }
        if orderIndex.handle(for: order.id.rawValue) != nil { return .pass }
        let symbol = symbols[Int32(order.symbol.rawValue)]
        let limits = symbol.limits
        if order.quantity > limits.maxOrderQuantity { return .reject(.maxOrderQuantity) }
        let reference = symbol.reference
        let price: Price
        if isMarket {
            guard reference > 0 else { return .reject(.noReferencePrice) }
            price = reference
        } else {
            price = order.price
            if Self.outsideBand(price, reference: reference, basisPoints: limits.priceBandBasisPoints) {
                return .reject(.priceBand)
            }
        }
        let unitValue = Self.value(price, limits.tickValueMicros)
        let notional = Self.value(unitValue, order.quantity)
        if notional > limits.maxNotionalMicros { return .reject(.notionalLimit) }
        let account = accounts[a]
        let mayRest = !isMarket && order.timeInForce == .goodTillCancel
        if mayRest && account.openOrders >= account.limits.maxOpenOrders { return .reject(.openOrdersLimit) }
        if orderIndex.isFull { return .reject(.capacityExhausted) }
        let key = Self.positionKey(a, order.symbol.rawValue)
        let existing = positionIndex.handle(for: key)
        if existing == nil && positionIndex.isFull { return .reject(.capacityExhausted) }
        let position = existing.map { positions[$0] } ?? PositionState()
        if Self.exceedsPosition(position, side: order.side, adding: order.quantity, account.limits.maxPosition) {
            return .reject(.positionLimit)
        }
        if order.side == .buy
            && account.openBuyNotional + account.positionCost + notional > account.limits.creditLimitMicros
        {
            return .reject(.creditLimit)
        }
        // Passed: reserve it as a working order (pending until accepted).
        guard let p = existing ?? newPosition(key, account: a, symbol: order.symbol.rawValue),
            let slot = orders.take()
        else { return .reject(.capacityExhausted) }
        orders[slot] = OrderState(
            id: order.id.rawValue, price: price, unitValue: unitValue, leaves: order.quantity, account: a,
            position: p, side: order.side, mayRest: mayRest, pending: true)
        _ = orderIndex.insertIfRoom(order.id.rawValue, handle: slot)
        addWorking(slot, order.quantity)
        reserved = true
        return .pass
    }

    private func checkReplaceLimits(_ replace: ReplaceOrder, now: UInt64) -> RiskDecision {
        guard let a = accountSlot(replace.account) else { return .reject(.capacityExhausted) }
        if accounts[a].limits.killed { return .reject(.killSwitch) }
        if !takeToken(a, now: now) { return .reject(.messageRate) }
        guard let slot = orderIndex.handle(for: replace.id.rawValue) else { return .pass }
        let order = orders[slot]
        let position = positions[order.position]
        guard order.account == a, position.symbol == replace.symbol.rawValue, !order.pending else { return .pass }
        let newPrice = replace.price ?? order.price
        let newQuantity = replace.quantity ?? order.leaves
        if newPrice <= 0 || newQuantity <= 0 { return .pass }
        let symbol = symbols[Int32(replace.symbol.rawValue)]
        let limits = symbol.limits
        if newQuantity > limits.maxOrderQuantity { return .reject(.maxOrderQuantity) }
        if newPrice != order.price
            && Self.outsideBand(newPrice, reference: symbol.reference, basisPoints: limits.priceBandBasisPoints)
        {
            return .reject(.priceBand)
        }
        let notional = Self.value(Self.value(newPrice, limits.tickValueMicros), newQuantity)
        if notional > limits.maxNotionalMicros { return .reject(.notionalLimit) }
        let account = accounts[a]
        var others = position
        if order.side == .buy { others.openBuy -= order.leaves } else { others.openSell -= order.leaves }
        if Self.exceedsPosition(others, side: order.side, adding: newQuantity, account.limits.maxPosition) {
            return .reject(.positionLimit)
        }
        if order.side == .buy {
            let usage = account.openBuyNotional - Self.value(order.unitValue, order.leaves) + account.positionCost
            if usage + notional > account.limits.creditLimitMicros { return .reject(.creditLimit) }
        }
        return .pass
    }

    // MARK: Engine events

    /// Releases the reservation of a passed new order that the engine will never see (e.g. its
    /// shard was down), as an engine reject of it does. Only a new order's own reservation is
    /// pending; an id that names a live (accepted) order is left alone. O(1); never allocates.
    public func release(_ id: OrderID) {
        if let slot = orderIndex.handle(for: id.rawValue), orders[slot].pending { removeWorking(slot) }
    }

    /// Follows one matching-engine event (every event, in the engine's order): accepted orders
    /// become live, fills move positions and release quantity, cancels and rejected new orders
    /// release their reservation, replaces resize. O(1); never allocates.
    ///
    /// `now` (ns) is the time of the command that caused the event: the spoofing features use it
    /// (counters decay, order lifetimes); the static limits do not.
    public func apply(_ event: EngineEvent, now: UInt64 = 0) {
        spoofing?.apply(event, now: now)
        switch event {
        case .accepted(let e):
            if let slot = orderIndex.handle(for: e.id.rawValue) {
                orders[slot].pending = false
            } else {
                trackUnchecked(e)
            }
        case .rejected(let e):
            if e.command == .new { release(e.id) }
        case .fill(let e):
            if Int(e.symbol.rawValue) < Int(symbols.capacity) {
                symbols[Int32(e.symbol.rawValue)].lastTradePrice = e.price
            }
            applyFill(e.takerID, e.takerAccount, e.symbol, e.takerSide, e.price, e.quantity, leaves: e.takerLeaves)
            applyFill(
                e.makerID, e.makerAccount, e.symbol, e.takerSide.opposite, e.price, e.quantity, leaves: e.makerLeaves)
        case .canceled(let e):
            if let slot = orderIndex.handle(for: e.id.rawValue) { removeWorking(slot) }
        case .replaced(let e):
            guard let slot = orderIndex.handle(for: e.id.rawValue) else { return }
            let order = orders[slot]
            removeFromTotals(order, order.leaves)
            let tickValue =
                Int(e.symbol.rawValue) < Int(symbols.capacity)
                ? symbols[Int32(e.symbol.rawValue)].limits.tickValueMicros : defaultSymbol.tickValueMicros
            orders[slot].price = e.price
            orders[slot].unitValue = Self.value(e.price, tickValue)
            orders[slot].leaves = e.quantity
            addWorking(slot, e.quantity, countOrder: false)
            if e.quantity <= 0 { removeWorking(slot) }
        }
    }

    // MARK: Internals

    static let nanosPerSecond: Int64 = 1_000_000_000

    private static func positionKey(_ account: Int32, _ symbol: UInt32) -> UInt64 {
        UInt64(UInt32(bitPattern: account)) << 32 | UInt64(symbol)
    }

    /// Money values saturate here (2^90 µ$ ≈ $1.2 × 10^21, far above any limit, which is at
    /// most (2^63 − 1) dollars): a product of price, tick value and quantity never traps, and sums
    /// over the working orders (≤ 2^28) stay inside `Int128`. Totals add and subtract with
    /// wrapping arithmetic, so equal amounts in and out always cancel exactly.
    static let valueCeiling: Int128 = 1 << 90

    /// `a × b`, saturated to ±``valueCeiling``.
    @inline(__always)  // two multiplies on every check; keep them in the caller's code
    static func value(_ a: Int128, _ b: Int64) -> Int128 {
        let (product, overflow) = a.multipliedReportingOverflow(by: Int128(b))
        if overflow || product > valueCeiling || product < -valueCeiling {
            return (a < 0) != (b < 0) ? -valueCeiling : valueCeiling
        }
        return product
    }

    @inline(__always)  // see value(_:_:)
    static func value(_ price: Int64, _ tickValue: Int64) -> Int128 { value(Int128(price), tickValue) }

    private static func outsideBand(_ price: Price, reference: Price, basisPoints: Int64) -> Bool {
        guard basisPoints > 0 && reference > 0 else { return false }
        let distance = Int128(price) - Int128(reference)
        return distance.magnitude * 10_000 > UInt128(basisPoints) * UInt128(reference)
    }

    private static func exceedsPosition(_ p: PositionState, side: Side, adding quantity: Int64, _ limit: Int64) -> Bool
    {
        let projected: Int128 =
            side == .buy
            ? Int128(p.position) + Int128(p.openBuy) + Int128(quantity)
            : -Int128(p.position) + Int128(p.openSell) + Int128(quantity)
        return projected > Int128(limit)
    }

    /// The account's slot, created with the default limits on first sight; nil when full.
    private func accountSlot(_ account: AccountID) -> Int32? {
        let key = UInt64(account.rawValue)
        if let a = accountIndex.handle(for: key) { return a }
        guard let a = accounts.take() else { return nil }
        accounts[a] = AccountState(limits: defaultAccount)
        _ = accountIndex.insertIfRoom(key, handle: a)
        return a
    }

    private func newPosition(_ key: UInt64, account: Int32, symbol: UInt32) -> Int32? {
        guard let p = positions.take() else { return nil }
        positions[p] = PositionState(account: account, symbol: symbol)
        _ = positionIndex.insertIfRoom(key, handle: p)
        return p
    }

    /// Takes one token from the account's bucket after refilling it for the time since its last
    /// message; false when the bucket is empty. Time never runs backwards (an earlier `now`
    /// refills nothing).
    private func takeToken(_ a: Int32, now: UInt64) -> Bool {
        var rate = accounts[a].limits.maxMessagesPerSecond
        var burst = accounts[a].limits.messageBurst
        if now < accounts[a].throttledUntil {
            rate = rate > 0 ? min(rate, accounts[a].throttleRate) : accounts[a].throttleRate
            burst = 1
        }
        guard rate > 0 else { return true }
        let capacity = burst * Self.nanosPerSecond
        var tokens = accounts[a].tokens
        let last = accounts[a].lastRefill
        if now > last {
            let elapsed = now - last
            // Past this the bucket is full anyway; below it elapsed × rate < capacity + rate ≤ 2·10^18.
            let fill = UInt64(capacity / rate) + 1
            tokens = elapsed >= fill ? capacity : min(capacity, tokens + Int64(elapsed) * rate)
            accounts[a].lastRefill = now
        }
        guard tokens >= Self.nanosPerSecond else {
            accounts[a].tokens = tokens
            return false
        }
        accounts[a].tokens = tokens - Self.nanosPerSecond
        return true
    }

    /// Adds a working order's open quantity (and the order itself when `countOrder`) to the totals.
    private func addWorking(_ slot: Int32, _ quantity: Int64, countOrder: Bool = true) {
        let order = orders[slot]
        if countOrder {
            accounts[order.account].workingOrders += 1
            if order.mayRest { accounts[order.account].openOrders += 1 }
        }
        if order.side == .buy {
            positions[order.position].openBuy += quantity
            accounts[order.account].openBuyNotional &+= Self.value(order.unitValue, quantity)
        } else {
            positions[order.position].openSell += quantity
        }
    }

    private func removeFromTotals(_ order: OrderState, _ quantity: Int64) {
        if order.side == .buy {
            positions[order.position].openBuy -= quantity
            accounts[order.account].openBuyNotional &-= Self.value(order.unitValue, quantity)
        } else {
            positions[order.position].openSell -= quantity
        }
    }

    /// Releases a working order's remaining quantity and drops it.
    private func removeWorking(_ slot: Int32) {
        let order = orders[slot]
        removeFromTotals(order, order.leaves)
        accounts[order.account].workingOrders -= 1
        if order.mayRest { accounts[order.account].openOrders -= 1 }
        orderIndex.removeIfPresent(order.id)
        orders.release(slot)
    }

    private func applyFill(
        _ id: OrderID, _ account: AccountID, _ symbol: SymbolID, _ side: Side, _ price: Price, _ quantity: Int64,
        leaves: Int64
    ) {
        let p: Int32
        if let slot = orderIndex.handle(for: id.rawValue) {
            let order = orders[slot]
            p = order.position
            let filled = min(quantity, order.leaves)
            removeFromTotals(order, filled)
            orders[slot].leaves = order.leaves - filled
            if leaves <= 0 || orders[slot].leaves <= 0 { removeWorking(slot) }
        } else {
            guard let a = accountSlot(account),
                case let key = Self.positionKey(a, symbol.rawValue),
                let found = positionIndex.handle(for: key) ?? newPosition(key, account: a, symbol: symbol.rawValue)
            else {
                untrackedEvents += 1
                return
            }
            p = found
        }
        let tickValue =
            Int(symbol.rawValue) < Int(symbols.capacity)
            ? symbols[Int32(symbol.rawValue)].limits.tickValueMicros : defaultSymbol.tickValueMicros
        let value = Self.value(Self.value(price, tickValue), quantity)
        let a = positions[p].account
        let oldCost = max(0, positions[p].netCost)
        if side == .buy {
            positions[p].position += quantity
            positions[p].netCost &+= value
        } else {
            positions[p].position -= quantity
            positions[p].netCost &-= value
        }
        accounts[a].positionCost &+= max(0, positions[p].netCost) &- oldCost
    }

    /// An accepted order that was never checked (e.g. entered before the risk engine started):
    /// tracked from the event so that its fills and cancel balance.
    private func trackUnchecked(_ e: OrderAccepted) {
        guard let a = accountSlot(e.account), Int(e.symbol.rawValue) < Int(symbols.capacity) else {
            untrackedEvents += 1
            return
        }
        let key = Self.positionKey(a, e.symbol.rawValue)
        let symbol = symbols[Int32(e.symbol.rawValue)]
        let price = e.type == .market ? symbol.reference : e.price
        guard let p = positionIndex.handle(for: key) ?? newPosition(key, account: a, symbol: e.symbol.rawValue),
            let slot = orders.take()
        else {
            untrackedEvents += 1
            return
        }
        orders[slot] = OrderState(
            id: e.id.rawValue, price: price, unitValue: Self.value(price, symbol.limits.tickValueMicros),
            leaves: e.quantity, account: a, position: p, side: e.side,
            mayRest: e.type == .limit && e.timeInForce == .goodTillCancel, pending: false)
        guard orderIndex.insertIfRoom(e.id.rawValue, handle: slot) else {
            orders.release(slot)
            untrackedEvents += 1
            return
        }
        addWorking(slot, e.quantity)
    }
}

/// A copy of one account's risk counters (``RiskEngine/accountState(_:)``).
public struct AccountRiskState: Hashable, Sendable {
    /// The account's limits and kill switch.
    public var limits: AccountRiskLimits
    /// Working GTC limit orders (resting, or passed and not yet answered): the open-order count.
    public var openOrders: Int64
    /// Every working order, IOC/FOK/market in flight included.
    public var workingOrders: Int64
    /// Σ price × leaves × tick value over working buy orders, µ$.
    public var openBuyNotionalMicros: Int128
    /// Σ over symbols of max(0, net cost of the position), µ$.
    public var positionCostMicros: Int128
    /// Whole tokens in the message-rate bucket (meaningless when the rate is 0).
    public var availableMessages: Int64

    /// What counts against the credit limit: ``openBuyNotionalMicros`` + ``positionCostMicros``.
    public var creditUsageMicros: Int128 { openBuyNotionalMicros + positionCostMicros }
}

/// A copy of one (account, symbol) position (``RiskEngine/positionState(_:_:)``).
public struct PositionRiskState: Hashable, Sendable {
    /// Signed position in lots (long > 0).
    public var position: Int64
    /// Open quantity of working buy orders, lots.
    public var openBuyQuantity: Int64
    /// Open quantity of working sell orders, lots.
    public var openSellQuantity: Int64
    /// Σ buys − Σ sells of price × qty × tick value, µ$.
    public var netCostMicros: Int128

    /// A position value (tests and reports compare against one).
    public init(position: Int64, openBuyQuantity: Int64, openSellQuantity: Int64, netCostMicros: Int128) {
        self.position = position
        self.openBuyQuantity = openBuyQuantity
        self.openSellQuantity = openSellQuantity
        self.netCostMicros = netCostMicros
    }
}

// MARK: Storage records (trivial structs in the fixed pools)

struct SymbolState {
    var limits: SymbolRiskLimits
    /// Price of the last fill; 0 before any.
    var lastTradePrice: Price = 0

    init(limits: SymbolRiskLimits) { self.limits = limits }

    /// Last trade price, else the configured reference; 0 = none.
    var reference: Price { lastTradePrice > 0 ? lastTradePrice : limits.referencePrice }
}

struct AccountState {
    var limits: AccountRiskLimits
    var openOrders: Int64 = 0
    var workingOrders: Int64 = 0
    var openBuyNotional: Int128 = 0
    var positionCost: Int128 = 0
    /// Token bucket in nano-tokens (one message = 10^9).
    var tokens: Int64
    var lastRefill: UInt64 = 0
    /// Throttled (``RiskEngine/throttle(account:messagesPerSecond:until:)``) until this time (ns).
    var throttledUntil: UInt64 = 0
    var throttleRate: Int64 = 0

    init(limits: AccountRiskLimits) {
        self.limits = limits
        tokens = limits.messageBurst * RiskEngine.nanosPerSecond
    }
}

struct PositionState {
    var netCost: Int128 = 0
    var position: Int64 = 0
    var openBuy: Int64 = 0
    var openSell: Int64 = 0
    var account: Int32 = -1
    var symbol: UInt32 = 0

    init() {}
    init(account: Int32, symbol: UInt32) {
        self.account = account
        self.symbol = symbol
    }
}

struct OrderState {
    /// price × tick value, µ$ per lot.
    var unitValue: Int128 = 0
    var id: UInt64 = 0
    var price: Price = 0
    var leaves: Int64 = 0
    var account: Int32 = -1
    var position: Int32 = -1
    var side: Side = .buy
    /// A GTC limit order: it counts as an open order.
    var mayRest = false
    /// Passed by ``RiskEngine/check(_:now:)`` and not yet accepted.
    var pending = false

    init() {}
    init(
        id: UInt64, price: Price, unitValue: Int128, leaves: Int64, account: Int32, position: Int32, side: Side,
        mayRest: Bool, pending: Bool
    ) {
        self.unitValue = unitValue
        self.id = id
        self.price = price
        self.leaves = leaves
        self.account = account
        self.position = position
        self.side = side
        self.mayRest = mayRest
        self.pending = pending
    }
}
