import ChronosCore
import MatchingEngine
import RiskEngine
import Workload

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The simulated venue of one run: the real ``Engine``, the risk engine's ``SpoofingFeatures``
/// following it, the clock, and the day's agents.
///
/// Every command an agent sends goes through one path, the same as the risk engine's in front of
/// the book: features of the order as it arrives (new or replace) → the labeled row → the engine →
/// every event applied to the features at the command's time → the events routed to the agents
/// that own the orders. Agents see the book only through the engine's public queries.
final class Market {
    let engine: Engine
    let features: SpoofingFeatures
    let output: SimulationOutput
    private let featureBuffer: UnsafeMutableBufferPointer<Float>

    /// Simulated time in ns.
    private(set) var now: UInt64 = 0
    /// The day's symbol.
    private(set) var symbol = SymbolID(0)
    /// The day's seed.
    private(set) var daySeed: UInt64 = 0
    private var nextOrderID: UInt64 = 1
    private var nextAccount: UInt32 = 0
    private var nextEpisode: UInt64 = 1

    /// The day's population, by index; account `accountBase + i` is agent `i`.
    private(set) var agents: [Agent] = []
    private var reactiveAgents: [Agent] = []
    private var accountBase: UInt32 = 0
    private var queue = WakeQueue()

    /// The latent value the price follows (ticks): a Brownian motion of `volatility` ticks/√s,
    /// kept within ±5 % of the open so that no static price band is ever reached.
    private(set) var fundamental = 0.0
    private var volatility = 0.0
    private var openMid = 0.0
    private var fundamentalTime: UInt64 = 0
    private var marketRNG = SplitMix64(seed: 0)
    /// The last trade price of the day (0 before the first trade).
    private(set) var lastTradePrice: Price = 0

    /// The day's counts.
    private(set) var summary = DaySummary(day: 0, daySeed: 0)
    /// True while the end-of-day cleanup runs (its cancels are not counted as agent behaviour).
    private var closing = false

    /// Orders above this notional in ticks × lots are cut down (the default static notional limit
    /// of `chronos replay --risk` is $1,000,000 at $0.01 a tick: 10^8).
    static let maxNotionalTicks: Int64 = 90_000_000

    init(engine: Engine, features: SpoofingFeatures, output: SimulationOutput) {
        self.engine = engine
        self.features = features
        self.output = output
        featureBuffer = .allocate(capacity: SpoofingFeatureSchema.count)
        featureBuffer.initialize(repeating: 0)
    }

    deinit { featureBuffer.deallocate() }

    // MARK: Days

    /// Opens day `day`: its symbol, its clock at `start`, its fundamental.
    func openDay(
        day: Int, daySeed: UInt64, symbol: SymbolID, start: UInt64, openMid: Int64, volatility: Double
    ) {
        self.daySeed = daySeed
        self.symbol = symbol
        now = start
        fundamentalTime = start
        self.openMid = Double(openMid)
        fundamental = Double(openMid)
        self.volatility = volatility
        marketRNG = .derived(daySeed, stream: 0xFEED)
        lastTradePrice = 0
        agents.removeAll()
        reactiveAgents.removeAll()
        accountBase = nextAccount
        queue.removeAll()
        summary = DaySummary(day: day, daySeed: daySeed)
        summary.openMid = openMid
        closing = false
    }

    /// The next account number, for a new agent (call in population order).
    func takeAccount() -> AccountID {
        defer { nextAccount += 1 }
        return AccountID(nextAccount)
    }

    /// Adds an agent of the day (its account from ``takeAccount()``).
    func add(_ agent: Agent) {
        precondition(agent.account.rawValue == accountBase + UInt32(agents.count), "agents in account order")
        agents.append(agent)
        if agent.reactsToBook { reactiveAgents.append(agent) }
        summary[agent.kind].agents += 1
    }

    /// Runs the day until `rows` feature rows were written, the agenda empties, or `end` (ns).
    func run(rows: Int, end: UInt64) {
        for agent in agents { agent.start(self) }
        while summary.rows < rows, let entry = queue.pop() {
            guard entry.time <= end else { break }
            let agent = agents[Int(entry.agent)]
            guard agent.scheduledWake == entry.time else { continue }  // rescheduled since
            agent.scheduledWake = .max
            advance(to: entry.time)
            agent.wake(self)
        }
    }

    /// Closes the day: every working order is canceled (the cancels go to the engine, the
    /// features and the commands file like any other), the counts are returned.
    func closeDay(start: UInt64) -> DaySummary {
        closing = true
        for agent in agents {
            for order in agent.orders.items where order.leaves > 0 { cancel(order.id, by: agent) }
        }
        summary.seconds = Double(now - start) / 1e9
        summary.closeMid = Int64((mid ?? fundamental).rounded())
        output.dayFinished(summary)
        return summary
    }

    // MARK: Clock

    /// Moves the clock to `time` and the fundamental with it.
    private func advance(to time: UInt64) {
        guard time > now else { return }
        now = time
        let dt = Double(time - fundamentalTime) / 1e9
        if dt >= 0.001 {
            fundamental += volatility * dt.squareRoot() * marketRNG.normal()
            fundamental = min(max(fundamental, openMid * 0.95), openMid * 1.05)
            fundamentalTime = time
        }
    }

    /// Wakes `agent` at `time` (ns, after now) unless it is due earlier already.
    func schedule(_ agent: Agent, at time: UInt64) {
        let time = max(time, now + 1)
        guard time < agent.scheduledWake else { return }
        agent.scheduledWake = time
        queue.push(time: time, agent: agent.index)
    }

    /// Wakes `agent` after `seconds` of simulated time.
    func schedule(_ agent: Agent, after seconds: Double) { schedule(agent, at: now &+ nanoseconds(seconds)) }

    /// A new episode id (unique over the run) for a manipulator starting one.
    func startEpisode() -> UInt64 {
        summary.episodes += 1
        defer { nextEpisode += 1 }
        return nextEpisode
    }

    /// A manipulator's genuine leg traded in an episode.
    func episodeSucceeded() { summary.episodesGenuineFilled += 1 }

    // MARK: Commands (the one path every order takes)

    /// Sends a new order for `agent`. Market orders carry no price. The quantity is at least 1
    /// and at most the notional cap. Returns the order id.
    @discardableResult
    func send(
        _ side: Side, price: Price, quantity: Quantity, by agent: Agent, type: OrderType = .limit,
        timeInForce: TimeInForce = .goodTillCancel, role: OrderRole = .plain, episode: UInt64 = 0
    ) -> OrderID {
        var type = type
        var timeInForce = timeInForce
        var price = price
        if type == .market && lastTradePrice == 0 {
            // Before the day's first trade a market order has no reference price, and the static
            // risk checks of `chronos replay --risk` refuse it: traders send an IOC at the touch.
            type = .limit
            timeInForce = .immediateOrCancel
            price = touch(side.opposite) ?? Price(referencePrice.rounded())
        }
        let id = OrderID(nextOrderID)
        nextOrderID += 1
        let limitPrice = type == .market ? 0 : max(price, 1)
        let reference = type == .market ? max(Int64(fundamental), 1) : limitPrice
        let lots = min(max(quantity, 1), max(Self.maxNotionalTicks / reference, 1))
        let order = NewOrder(
            id: id, account: agent.account, symbol: symbol, side: side, type: type, timeInForce: timeInForce,
            price: limitPrice, quantity: lots)
        agent.orders.add(WorkingOrder(id: id, side: side, price: limitPrice, leaves: lots, role: role))
        features.compute(order, now: now, into: featureBuffer)
        writeRow(agent, id: id, role: role, episode: episode, isReplace: false)
        summary[agent.kind].newOrders += 1
        output.command(.new(order), ts: now)
        engine.submit(.new(order))
        afterCommand(by: agent)
        return id
    }

    /// Replaces one of `agent`'s working orders (new price and/or open quantity). The row keeps
    /// the order's role: re-pricing a spoof leg is labeled like the leg.
    func replace(_ id: OrderID, price: Price? = nil, quantity: Quantity? = nil, by agent: Agent, episode: UInt64 = 0) {
        guard let working = agent.orders[id] else { return }
        let newPrice = price.map { max($0, 1) }
        let reference = newPrice ?? working.price
        let lots = quantity.map { min(max($0, 1), max(Self.maxNotionalTicks / max(reference, 1), 1)) }
        let replace = ReplaceOrder(id: id, account: agent.account, symbol: symbol, price: newPrice, quantity: lots)
        if features.computeReplace(replace, now: now, into: featureBuffer) {
            writeRow(agent, id: id, role: working.role, episode: episode, isReplace: true)
        }
        summary[agent.kind].replaces += 1
        output.command(.replace(replace), ts: now)
        engine.submit(.replace(replace))
        afterCommand(by: agent)
    }

    /// Cancels one of `agent`'s working orders.
    func cancel(_ id: OrderID, by agent: Agent) {
        guard agent.orders.contains(id) else { return }
        if !closing { summary[agent.kind].cancels += 1 }
        let cancel = CancelOrder(id: id, account: agent.account, symbol: symbol)
        output.command(.cancel(cancel), ts: now)
        engine.submit(.cancel(cancel))
        afterCommand(by: agent)
    }

    private func writeRow(_ agent: Agent, id: OrderID, role: OrderRole, episode: UInt64, isReplace: Bool) {
        let label: UInt8 = role == .spoof ? 1 : 0
        summary.rows += 1
        if label == 1 {
            summary.labeledRows += 1
            summary[agent.kind].labeled += 1
        }
        output.row(
            SimulatedOrderRow(
                daySeed: daySeed, ts: now, agentKind: agent.kind, agentID: agent.account.rawValue,
                episodeID: episode, orderID: id.rawValue, label: label, isReplace: isReplace),
            features: UnsafeBufferPointer(featureBuffer))
    }

    /// The features follow every event at the command's time; then the owners learn what
    /// happened to their orders, and the agents that watch the book are told it changed.
    private func afterCommand(by actor: Agent) {
        let events = engine.events
        for event in events { features.apply(event, now: now) }
        output.events(events, ts: now)
        var changed = false
        for event in events {
            switch event {
            case .accepted:
                changed = true
            case .rejected(let e):
                if let owner = agent(e.account) {
                    summary[owner.kind].rejects += 1
                    if e.command == .new {
                        owner.orders.remove(e.id)
                        owner.removed(e.id, market: self)
                    }
                }
            case .fill(let e):
                changed = true
                summary.fills += 1
                lastTradePrice = e.price
                if let maker = agent(e.makerAccount) {
                    summary[maker.kind].fills += 1
                    let side = e.takerSide.opposite
                    maker.position += side == .buy ? e.quantity : -e.quantity
                    maker.orders.filled(e.makerID, leaves: e.makerLeaves)
                    maker.filled(
                        e.makerID, side: side, price: e.price, quantity: e.quantity, leaves: e.makerLeaves, market: self
                    )
                }
                if let taker = agent(e.takerAccount) {
                    summary[taker.kind].fills += 1
                    taker.position += e.takerSide == .buy ? e.quantity : -e.quantity
                    taker.orders.filled(e.takerID, leaves: e.takerLeaves)
                    taker.filled(
                        e.takerID, side: e.takerSide, price: e.price, quantity: e.quantity, leaves: e.takerLeaves,
                        market: self)
                }
            case .canceled(let e):
                changed = true
                if let owner = agent(e.account) {
                    owner.orders.remove(e.id)
                    owner.removed(e.id, market: self)
                }
            case .replaced(let e):
                changed = true
                agent(e.account)?.orders.replaced(e.id, price: e.price, quantity: e.quantity)
            }
        }
        guard changed, !closing else { return }
        for agent in reactiveAgents where agent !== actor { agent.bookChanged(self) }
    }

    private func agent(_ account: AccountID) -> Agent? {
        let i = Int(account.rawValue) - Int(accountBase)
        return i >= 0 && i < agents.count ? agents[i] : nil
    }

    // MARK: The book, as any participant sees it

    /// Best bid price, if any.
    var bestBid: Price? { engine.bestBid(symbol)?.price }
    /// Best ask price, if any.
    var bestAsk: Price? { engine.bestAsk(symbol)?.price }

    /// Best price of one side.
    func touch(_ side: Side) -> Price? { engine.touch(symbol, side)?.price }

    /// The best price of `side` at which someone other than `agent` rests (its own orders alone
    /// at a level do not make a touch). O(levels × the agent's orders).
    func touch(_ side: Side, excludingOrdersOf agent: Agent) -> Price? {
        var found: Price?
        engine.forEachLevel(symbol, side) { level in
            var own: Quantity = 0
            for order in agent.orders.items where order.side == side && order.price == level.price {
                own += order.leaves
            }
            if level.quantity > own { found = level.price }
            return found == nil
        }
        return found
    }

    /// Mid price in ticks when both sides have orders.
    var mid: Double? {
        guard let bid = bestBid, let ask = bestAsk else { return nil }
        return Double(bid + ask) / 2
    }

    /// A price to trade around: the mid, else the one touch, else the last trade, else the fundamental.
    var referencePrice: Double {
        if let mid { return mid }
        if let bid = bestBid { return Double(bid) + 1 }
        if let ask = bestAsk { return Double(ask) - 1 }
        return lastTradePrice > 0 ? Double(lastTradePrice) : fundamental
    }

    /// Bid–ask spread in ticks (nil with a side empty).
    var spread: Int64? {
        guard let bid = bestBid, let ask = bestAsk else { return nil }
        return ask - bid
    }

    /// Total quantity of the best `levels` price levels of one side.
    func depth(_ side: Side, levels: Int) -> Quantity {
        var total: Quantity = 0
        var seen = 0
        engine.forEachLevel(symbol, side) { level in
            total += level.quantity
            seen += 1
            return seen < levels
        }
        return total
    }

    /// Mean quantity per level over the best `levels` levels of one side (0 when empty).
    func averageLevelQuantity(_ side: Side, levels: Int) -> Double {
        var total: Quantity = 0
        var seen = 0
        engine.forEachLevel(symbol, side) { level in
            total += level.quantity
            seen += 1
            return seen < levels
        }
        return seen == 0 ? 0 : Double(total) / Double(seen)
    }

    /// Order-book imbalance over the best `levels` levels: (bids − asks) / (bids + asks), in −1…1.
    func imbalance(levels: Int) -> Double {
        let bids = Double(depth(.buy, levels: levels))
        let asks = Double(depth(.sell, levels: levels))
        return bids + asks > 0 ? (bids - asks) / (bids + asks) : 0
    }

    /// Quantity resting at `price` on `side`.
    func quantity(at price: Price, _ side: Side) -> Quantity { engine.quantity(at: price, side: side, symbol: symbol) }
}
