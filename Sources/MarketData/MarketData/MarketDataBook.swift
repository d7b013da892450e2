import ChronosCore

/// The market-data view of one engine shard: engine events in, per-symbol level-2 updates,
/// trades and best bid/offer out; snapshots on request.
///
/// Feed it every ``EngineEvent`` of one shard in sequence order, from the shard's first event,
/// with ``apply(_:into:)``. It keeps what the events do not repeat — each resting order's
/// symbol, side, price and open quantity (a `canceled` event carries no price, a fill names its
/// maker only by id) — and the aggregated price levels of every symbol, and publishes what
/// changed into a ``MarketDataSink``:
///
/// - a fill: a ``TradeUpdate``, then the maker's level (``LevelAction/change`` or
///   ``LevelAction/delete``);
/// - a limit order that rests (when accepted, or after its fills): its level (`new` or `change`);
/// - a cancel of a resting order, a replace: the levels it left and joined;
/// - then, when the top of the book moved, a ``BestBidOfferUpdate``.
///
/// Rejections, and immediate-or-cancel, fill-or-kill and market orders that never rest, publish
/// only their trades. Every update carries the symbol's market-data sequence number (1, 2, 3, …
/// per symbol) for gap detection.
///
/// Whether an incoming limit order rests, and with what quantity, is known only once its fills
/// are over: the book holds it aside while the opposite side still crosses its price, exactly as
/// the engine's matching loop does, and rests the remainder on the event that ends its matching.
///
/// All storage is allocated in `init` from ``MarketDataConfiguration``; applying an event does
/// not allocate (as long as the sink does not). Bad input — a sequence that goes backwards, an
/// order the book does not know, a full table — is returned as an ``EventOutcome``, never a trap.
///
/// Not thread-safe: one thread owns a book (it runs beside the shard, never on its thread).
public final class MarketDataBook {
    /// The capacities the book was built with.
    public let configuration: MarketDataConfiguration
    var orders: RestingOrderTable
    var ladders: PriceLadders
    let symbols: UnsafeMutablePointer<SymbolState>
    /// The incoming order whose matching is under way: accepted (or moved by a replace) while
    /// the opposite side crossed its price, or an order that may never rest.
    var incoming: IncomingOrder?
    /// The engine sequence number of the last event applied (or ignored for its symbol).
    public private(set) var lastEventSequence: UInt64
    /// Faults met since the book was created.
    public private(set) var faultCount = 0

    /// A book with every table allocated from `configuration`, expecting the engine event
    /// numbered `lastEventSequence + 1` next (1 for an engine's first event).
    /// - Throws: ``MarketDataSetupError/invalidConfiguration(_:)``.
    public init(configuration: MarketDataConfiguration = MarketDataConfiguration(), lastEventSequence: UInt64 = 0)
        throws
    {
        let errors = configuration.validationErrors
        guard errors.isEmpty else { throw MarketDataSetupError.invalidConfiguration(errors) }
        self.configuration = configuration
        self.lastEventSequence = lastEventSequence
        orders = RestingOrderTable(capacity: configuration.orderCapacity)
        ladders = PriceLadders(
            ladderCount: configuration.symbolCapacity * 2, capacity: configuration.levelCapacityPerSide)
        symbols = .allocate(capacity: configuration.symbolCapacity)
        symbols.initialize(repeating: SymbolState(), count: configuration.symbolCapacity)
    }

    deinit { symbols.deallocate() }

    // MARK: Events (hot path)

    /// Applies one engine event and publishes its updates into `sink`, in order.
    ///
    /// Events must come in engine sequence order: one numbered at or below
    /// ``lastEventSequence`` is ignored, one beyond the next number is applied but impairs
    /// every symbol (events were lost). O(log levels) per event plus the levels moved when a
    /// level is created or removed behind the touch; no allocation.
    @discardableResult
    public func apply<Sink: MarketDataSink>(_ event: EngineEvent, into sink: inout Sink) -> EventOutcome {
        let sequence = event.sequence
        guard sequence > lastEventSequence else {
            return ignore(.sequenceNotIncreasing(last: lastEventSequence, received: sequence))
        }
        var fault: MarketDataFault?
        if sequence != lastEventSequence &+ 1 {
            fault = .eventsMissing(expected: lastEventSequence &+ 1, received: sequence)
            for s in 0..<configuration.symbolCapacity { symbols[s].impaired = true }
        }
        lastEventSequence = sequence
        if let pending = incoming, !pending.ownsEvent(event) {
            // The incoming order's events are over: it rested (a limit GTC) or left.
            incoming = nil
            let settled = settle(pending, sequence, &sink)
            fault = fault ?? settled
        }
        let outcome: EventOutcome
        switch event {
        case .accepted(let accepted): outcome = applyAccepted(accepted, &sink)
        case .rejected: outcome = .applied
        case .fill(let fill): outcome = applyFill(fill, &sink)
        case .canceled(let canceled): outcome = applyCanceled(canceled, &sink)
        case .replaced(let replaced): outcome = applyReplaced(replaced, &sink)
        }
        if let fault {
            faultCount &+= 1
            return .impaired(fault)
        }
        return outcome
    }

    private func applyAccepted<Sink: MarketDataSink>(_ accepted: OrderAccepted, _ sink: inout Sink) -> EventOutcome {
        guard let s = index(accepted.symbol) else { return ignore(.unknownSymbol(accepted.symbol)) }
        if orders.find(accepted.id.rawValue) != nil { return impair(s, .duplicateOrder(accepted.id)) }
        let order = IncomingOrder(
            id: accepted.id.rawValue, symbol: s, side: accepted.side, price: accepted.price,
            leaves: accepted.quantity,
            mayRest: accepted.type == .limit && accepted.timeInForce == .goodTillCancel)
        let fault = admit(order, accepted.sequence, &sink)
        publishTopIfMoved(s, accepted.sequence, &sink)
        return fault.map { impair(s, $0) } ?? .applied
    }

    private func applyFill<Sink: MarketDataSink>(_ fill: Fill, _ sink: inout Sink) -> EventOutcome {
        guard let s = index(fill.symbol) else { return ignore(.unknownSymbol(fill.symbol)) }
        sink.publish(
            .trade(
                TradeUpdate(
                    symbol: fill.symbol, sequence: takeSequence(s), eventSequence: fill.sequence,
                    tradeID: fill.tradeID, price: fill.price, quantity: fill.quantity, aggressorSide: fill.takerSide)))
        var fault: MarketDataFault?

        // The maker: it leaves the book at 0, else its level shrinks. The engine's leaves are the truth.
        if let slot = orders.find(fill.makerID.rawValue) {
            let maker = orders[slot: slot]
            if maker.symbol != UInt32(s) || maker.side != fill.takerSide.opposite || maker.price != fill.price
                || maker.leaves &- fill.quantity != fill.makerLeaves
            {
                fault = .contradiction(fill.makerID)
            }
            let k = PriceLadders.ladder(Int(maker.symbol), maker.side)
            let change: LadderChange
            if fill.makerLeaves <= 0 {
                orders.remove(slot: slot)
                change = ladders.adjust(k, price: maker.price, quantityDelta: 0 &- maker.leaves, orderDelta: -1)
            } else {
                orders[slot: slot].leaves = fill.makerLeaves
                change = ladders.adjust(
                    k, price: maker.price, quantityDelta: fill.makerLeaves &- maker.leaves, orderDelta: 0)
            }
            fault =
                publish(change, Int(maker.symbol), maker.side, maker.price, maker.id, fill.sequence, &sink) ?? fault
            if maker.symbol != UInt32(s) { publishTopIfMoved(Int(maker.symbol), fill.sequence, &sink) }
        } else {
            fault = .unknownOrder(fill.makerID)
        }

        // The taker: done at 0; a limit GTC rests its remainder once nothing crosses its price.
        if var taker = incoming, taker.id == fill.takerID.rawValue {
            taker.leaves = fill.takerLeaves
            incoming = nil
            if taker.leaves > 0 {
                if taker.mayRest && !crosses(taker) {
                    fault = rest(taker, fill.sequence, &sink) ?? fault
                } else {
                    incoming = taker
                }
            }
        } else {
            fault = fault ?? .contradiction(fill.takerID)
        }
        publishTopIfMoved(s, fill.sequence, &sink)
        return fault.map { impair(s, $0) } ?? .applied
    }

    private func applyCanceled<Sink: MarketDataSink>(_ canceled: OrderCanceled, _ sink: inout Sink) -> EventOutcome {
        guard let s = index(canceled.symbol) else { return ignore(.unknownSymbol(canceled.symbol)) }
        if canceled.reason != .requested {
            // The remainder of the incoming order, which never rested.
            guard let taker = incoming, taker.id == canceled.id.rawValue else {
                return impair(s, .contradiction(canceled.id))
            }
            incoming = nil
            return taker.leaves == canceled.quantity ? .applied : impair(s, .contradiction(canceled.id))
        }
        guard let slot = orders.find(canceled.id.rawValue) else { return impair(s, .unknownOrder(canceled.id)) }
        let order = orders[slot: slot]
        var fault: MarketDataFault?
        if order.symbol != UInt32(s) || order.side != canceled.side || order.leaves != canceled.quantity {
            fault = .contradiction(canceled.id)
        }
        fault = leave(slot, canceled.sequence, &sink) ?? fault
        publishTopIfMoved(Int(order.symbol), canceled.sequence, &sink)
        return fault.map { impair(s, $0) } ?? .applied
    }

    private func applyReplaced<Sink: MarketDataSink>(_ replaced: OrderReplaced, _ sink: inout Sink) -> EventOutcome {
        guard let s = index(replaced.symbol) else { return ignore(.unknownSymbol(replaced.symbol)) }
        guard let slot = orders.find(replaced.id.rawValue) else { return impair(s, .unknownOrder(replaced.id)) }
        let order = orders[slot: slot]
        var fault: MarketDataFault?
        if order.symbol != UInt32(s) || order.side != replaced.side { fault = .contradiction(replaced.id) }
        let o = Int(order.symbol)
        if replaced.price == order.price && replaced.quantity > 0 {
            // Same price: the level's total moves by the difference; priority does not show in L2.
            orders[slot: slot].leaves = replaced.quantity
            let delta = replaced.quantity &- order.leaves
            if delta != 0 {
                let change = ladders.adjust(
                    PriceLadders.ladder(o, order.side), price: order.price, quantityDelta: delta, orderDelta: 0)
                fault = publish(change, o, order.side, order.price, order.id, replaced.sequence, &sink) ?? fault
            }
        } else {
            // A new price: the order leaves its level and comes back like a new order, same id.
            fault = leave(slot, replaced.sequence, &sink) ?? fault
            let moved = IncomingOrder(
                id: order.id, symbol: o, side: order.side, price: replaced.price, leaves: replaced.quantity,
                mayRest: true)
            fault = admit(moved, replaced.sequence, &sink) ?? fault
        }
        publishTopIfMoved(o, replaced.sequence, &sink)
        return fault.map { impair(s, $0) } ?? .applied
    }

    // MARK: Resting orders and levels

    /// An incoming limit GTC order rests at once when nothing crosses it; otherwise (or when it
    /// may never rest) it waits for its fills.
    private func admit<Sink: MarketDataSink>(
        _ order: IncomingOrder, _ eventSequence: UInt64, _ sink: inout Sink
    ) -> MarketDataFault? {
        if order.mayRest && !crosses(order) { return rest(order, eventSequence, &sink) }
        incoming = order
        return nil
    }

    /// The incoming order's events ended without the event that should have ended them.
    private func settle<Sink: MarketDataSink>(
        _ order: IncomingOrder, _ eventSequence: UInt64, _ sink: inout Sink
    ) -> MarketDataFault {
        // The engine stopped matching while this book still saw a crossing price (or left a
        // non-resting order without its cancel): the books differ. Rest a GTC remainder, as the
        // engine does when matching stops, and report it.
        symbols[order.symbol].impaired = true
        if order.mayRest && order.leaves > 0 {
            _ = rest(order, eventSequence, &sink)
            publishTopIfMoved(order.symbol, eventSequence, &sink)
        }
        return .contradiction(OrderID(order.id))
    }

    /// Puts `order` in the table and its quantity on its level.
    private func rest<Sink: MarketDataSink>(
        _ order: IncomingOrder, _ eventSequence: UInt64, _ sink: inout Sink
    ) -> MarketDataFault? {
        let tracked = TrackedOrder(
            id: order.id, price: order.price, leaves: order.leaves, symbol: UInt32(order.symbol), side: order.side,
            occupied: true)
        guard order.leaves > 0 else { return .contradiction(OrderID(order.id)) }
        guard orders.insert(tracked) else { return .orderCapacityExhausted(OrderID(order.id)) }
        let change = ladders.adjust(
            PriceLadders.ladder(order.symbol, order.side), price: order.price, quantityDelta: order.leaves,
            orderDelta: 1)
        if change == .full, let slot = orders.find(order.id) {
            orders.remove(slot: slot)  // not on any level: not tracked either
        }
        return publish(change, order.symbol, order.side, order.price, order.id, eventSequence, &sink)
    }

    /// Takes the order in `slot` out of the table and its quantity off its level.
    private func leave<Sink: MarketDataSink>(_ slot: Int, _ eventSequence: UInt64, _ sink: inout Sink)
        -> MarketDataFault?
    {
        let order = orders[slot: slot]
        orders.remove(slot: slot)
        let s = Int(order.symbol)
        let change = ladders.adjust(
            PriceLadders.ladder(s, order.side), price: order.price, quantityDelta: 0 &- order.leaves, orderDelta: -1)
        return publish(change, s, order.side, order.price, order.id, eventSequence, &sink)
    }

    /// True while the opposite side's best level crosses the incoming order's price.
    private func crosses(_ order: IncomingOrder) -> Bool {
        guard let touch = ladders.best(PriceLadders.ladder(order.symbol, order.side.opposite)) else { return false }
        return order.side == .buy ? order.price >= touch.price : order.price <= touch.price
    }

    /// Publishes a level change (or turns a failed one into a fault about order `id`).
    private func publish<Sink: MarketDataSink>(
        _ change: LadderChange, _ s: Int, _ side: Side, _ price: Price, _ id: UInt64, _ eventSequence: UInt64,
        _ sink: inout Sink
    ) -> MarketDataFault? {
        switch change {
        case .updated(let action, let level, let balanced):
            sink.publish(
                .level(
                    LevelUpdate(
                        symbol: SymbolID(UInt32(s)), sequence: takeSequence(s), eventSequence: eventSequence,
                        action: action, side: side, price: level.price, quantity: level.quantity,
                        orderCount: Int(level.orderCount))))
            return balanced ? nil : .contradiction(OrderID(id))
        case .full:
            return .levelCapacityExhausted(SymbolID(UInt32(s)), side, price)
        case .missing:
            return .contradiction(OrderID(id))
        }
    }

    /// Publishes the best bid/offer of symbol `s` when either differs from the last published.
    private func publishTopIfMoved<Sink: MarketDataSink>(_ s: Int, _ eventSequence: UInt64, _ sink: inout Sink) {
        let bid = ladders.best(PriceLadders.ladder(s, .buy)) ?? SymbolState.noLevel
        let offer = ladders.best(PriceLadders.ladder(s, .sell)) ?? SymbolState.noLevel
        guard bid != symbols[s].publishedBid || offer != symbols[s].publishedOffer else { return }
        symbols[s].publishedBid = bid
        symbols[s].publishedOffer = offer
        sink.publish(
            .bestBidOffer(
                BestBidOfferUpdate(
                    symbol: SymbolID(UInt32(s)), sequence: takeSequence(s), eventSequence: eventSequence,
                    bestBid: bid.orderCount > 0 ? bid.summary : nil,
                    bestOffer: offer.orderCount > 0 ? offer.summary : nil)))
    }

    // MARK: Helpers

    /// The dense index of `symbol`, or nil beyond the capacity.
    func index(_ symbol: SymbolID) -> Int? {
        let s = Int(symbol.rawValue)
        return s < configuration.symbolCapacity ? s : nil
    }

    private func takeSequence(_ s: Int) -> UInt64 {
        symbols[s].sequence &+= 1
        return symbols[s].sequence
    }

    private func ignore(_ fault: MarketDataFault) -> EventOutcome {
        faultCount &+= 1
        return .ignored(fault)
    }

    private func impair(_ s: Int, _ fault: MarketDataFault) -> EventOutcome {
        symbols[s].impaired = true
        faultCount &+= 1
        return .impaired(fault)
    }
}

/// Per-symbol state beside the levels.
struct SymbolState {
    static let noLevel = PriceLevel(price: 0, quantity: 0, orderCount: 0)
    /// The last market-data sequence number published.
    var sequence: UInt64 = 0
    /// The top of the book as last published (``noLevel`` for an empty side).
    var publishedBid = noLevel
    var publishedOffer = noLevel
    /// True once a fault may have made this book differ from the engine's.
    var impaired = false
}

/// An order whose matching is under way (see ``MarketDataBook``).
struct IncomingOrder {
    var id: UInt64
    var symbol: Int
    var side: Side
    /// Limit price in ticks (0 for a market order).
    var price: Int64
    /// Open quantity in lots, as of the last fill.
    var leaves: Int64
    /// A limit good-till-cancel order: its remainder rests once its matching ends.
    var mayRest: Bool

    /// True for the events that continue this order's matching: its fills as taker, the cancel
    /// of its remainder.
    func ownsEvent(_ event: EngineEvent) -> Bool {
        switch event {
        case .fill(let fill): fill.takerID.rawValue == id
        case .canceled(let canceled): canceled.id.rawValue == id && canceled.reason != .requested
        default: false
        }
    }
}
