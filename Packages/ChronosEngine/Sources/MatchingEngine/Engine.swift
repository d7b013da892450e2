import ChronosCore

/// A multi-symbol matching engine: one limit order book per symbol, price-time priority,
/// deterministic, single-threaded, allocation-free per command.
///
/// Every pool is sized once from ``EngineConfiguration``: the order slab, the price levels, the
/// id index, the used-id set and the event buffer. Processing a command never allocates and
/// never grows anything; when a pool is full the command is rejected `capacity_exhausted`.
///
/// ```swift
/// let engine = try Engine(configuration: .init(orderCapacity: 100_000))
/// let aapl = try engine.addSymbol(SymbolConfiguration(name: "AAPL"))
/// engine.submit(.new(NewOrder(id: OrderID(1), account: AccountID(7), symbol: aapl,
///                             side: .buy, price: 10_050, quantity: 100)))
/// for event in engine.events { print(event) }      // valid until the next submit
/// engine.bestBid(aapl)                              // LevelSummary(price: 10050, quantity: 100, orderCount: 1)
/// ```
///
/// Not thread-safe: one thread owns an engine (one shard, one thread, as the services run it).
public final class Engine {
    let core: UnsafeMutablePointer<EngineCore>
    /// The configuration the engine was built with.
    public let configuration: EngineConfiguration
    private var symbolConfigurations: [SymbolConfiguration] = []
    private var symbolIDsByName: [String: SymbolID] = [:]

    /// Builds an engine and preallocates every pool, every page written at once unless
    /// ``EngineConfiguration/prefault`` is false (then the kernel faults pages in as they are first
    /// used, and an engine that stays small stays small in resident memory).
    public init(configuration: EngineConfiguration = EngineConfiguration()) throws {
        let errors = configuration.validationErrors
        guard errors.isEmpty else { throw EngineSetupError.invalidConfiguration(errors) }
        self.configuration = configuration
        core = .allocate(capacity: 1)
        core.initialize(to: EngineCore(configuration))
    }

    deinit {
        core.pointee.deallocate()
        core.deinitialize(count: 1)
        core.deallocate()
    }

    // MARK: Symbols (setup, may allocate)

    /// Adds a symbol and its empty book. Not for the hot path (allocates the name).
    /// - Throws: ``EngineSetupError`` for an invalid configuration, a duplicate name, or when
    ///   ``EngineConfiguration/symbolCapacity`` symbols exist already.
    @discardableResult
    public func addSymbol(_ symbol: SymbolConfiguration) throws -> SymbolID {
        let errors = symbol.validationErrors
        guard errors.isEmpty else { throw EngineSetupError.invalidSymbol(symbol.name, errors) }
        guard symbolIDsByName[symbol.name] == nil else { throw EngineSetupError.duplicateSymbol(symbol.name) }
        guard core.pointee.bookCount < core.pointee.bookCapacity else {
            throw EngineSetupError.symbolCapacityExhausted(core.pointee.bookCapacity)
        }
        let id = SymbolID(UInt32(core.pointee.bookCount))
        (core.pointee.books + core.pointee.bookCount).initialize(
            to: BookState(symbol, quantityCeiling: core.pointee.quantityCeiling))
        core.pointee.bookCount += 1
        symbolConfigurations.append(symbol)
        symbolIDsByName[symbol.name] = id
        return id
    }

    /// The id of the symbol called `name`, if it exists.
    public func symbolID(named name: String) -> SymbolID? { symbolIDsByName[name] }

    /// The configuration of an existing symbol.
    public func symbolConfiguration(_ symbol: SymbolID) -> SymbolConfiguration {
        symbolConfigurations[Int(symbol.rawValue)]
    }

    /// Number of symbols.
    public var symbolCount: Int { core.pointee.bookCount }

    // MARK: Commands (hot path)

    /// Processes one command and returns how many events it produced; read them from
    /// ``events`` before the next call. Never allocates, never traps on any command value.
    @discardableResult
    public func submit(_ command: EngineCommand) -> Int {
        core.pointee.process(command)
        return core.pointee.eventCount
    }

    /// Cancels a resting order by its id alone, for an embedder that keeps no owner or symbol
    /// per order: the order's own account and symbol are used, so there is no owner check (the
    /// gateway and `chronos replay` submit ``CancelOrder`` and keep it). Events as for
    /// ``submit(_:)``; an id that rests nowhere is refused `unknown_order` with account 0 and
    /// symbol 0. Never allocates.
    @discardableResult
    public func cancel(_ id: OrderID) -> Int {
        guard let order = restingOrder(id) else { return refuseUnknown(id, .cancel) }
        return submit(.cancel(CancelOrder(id: id, account: order.account, symbol: order.symbol)))
    }

    /// Replaces a resting order's price and/or quantity by its id alone (see ``cancel(_:)``: no
    /// owner check; an unknown id is refused `unknown_order` with account 0 and symbol 0).
    @discardableResult
    public func replace(_ id: OrderID, price: Price? = nil, quantity: Quantity? = nil) -> Int {
        guard let order = restingOrder(id) else { return refuseUnknown(id, .replace) }
        return submit(
            .replace(
                ReplaceOrder(id: id, account: order.account, symbol: order.symbol, price: price, quantity: quantity)))
    }

    private func refuseUnknown(_ id: OrderID, _ kind: CommandKind) -> Int {
        core.pointee.eventCount = 0
        core.pointee.reject(id, AccountID(0), SymbolID(0), kind, .unknownOrder)
        return core.pointee.eventCount
    }

    /// The events of the last ``submit(_:)``, in the order they happened.
    ///
    /// - Warning: a view into the engine's preallocated buffer, overwritten by the next
    ///   `submit`: copy what must outlive it.
    public var events: EngineEvents {
        EngineEvents(base: UnsafePointer(core.pointee.events), count: core.pointee.eventCount)
    }

    /// The sequence number the next event will carry (events are numbered from 1, contiguously).
    public var nextSequence: UInt64 { core.pointee.nextSequence }

    /// The trade id the next fill will carry.
    public var nextTradeID: UInt64 { core.pointee.nextTradeID }

    /// Continues numbering after a recovery: the next event gets `sequence`, the next fill `tradeID`.
    public func resumeNumbering(sequence: UInt64, tradeID: UInt64) {
        core.pointee.nextSequence = sequence
        core.pointee.nextTradeID = tradeID
    }

    // MARK: Queries (cheap, any time between commands)

    /// The highest bid level, O(1).
    public func bestBid(_ symbol: SymbolID) -> LevelSummary? { touch(symbol, .buy) }

    /// The lowest ask level, O(1).
    public func bestAsk(_ symbol: SymbolID) -> LevelSummary? { touch(symbol, .sell) }

    /// The best level of one side, O(1).
    public func touch(_ symbol: SymbolID, _ side: Side) -> LevelSummary? {
        let b = Int(symbol.rawValue)
        guard b < core.pointee.bookCount else { return nil }
        let level = core.pointee.books[b].best(side)
        return level < 0 ? nil : summary(level)
    }

    /// Aggregate open quantity resting at `price` on `side` (0 when no level), O(log levels).
    public func quantity(at price: Price, side: Side, symbol: SymbolID) -> Quantity {
        let b = Int(symbol.rawValue)
        guard b < core.pointee.bookCount else { return 0 }
        let level = core.pointee.findLevel(b, side, price)
        return level < 0 ? 0 : core.pointee.levels[level].total
    }

    /// Calls `body` with each level of one side, best first, until it returns false. No allocation.
    public func forEachLevel(_ symbol: SymbolID, _ side: Side, _ body: (LevelSummary) -> Bool) {
        let b = Int(symbol.rawValue)
        guard b < core.pointee.bookCount else { return }
        var level = core.pointee.books[b].best(side)
        while level >= 0 {
            if !body(summary(level)) { return }
            level = core.pointee.levels[level].worse
        }
    }

    /// A depth snapshot of both sides, best first, at most `maxLevels` per side, stamped with the
    /// sequence number of the last event it reflects. Allocates the arrays.
    public func snapshot(_ symbol: SymbolID, maxLevels: Int = .max) -> BookSnapshot {
        var snapshot = BookSnapshot(symbol: symbol, lastSequence: core.pointee.nextSequence - 1, bids: [], asks: [])
        guard maxLevels > 0 else { return snapshot }
        forEachLevel(symbol, .buy) {
            snapshot.bids.append($0); return snapshot.bids.count < maxLevels
        }
        forEachLevel(symbol, .sell) {
            snapshot.asks.append($0); return snapshot.asks.count < maxLevels
        }
        return snapshot
    }

    /// A resting order, looked up by id in O(1).
    public func restingOrder(_ id: OrderID) -> RestingOrder? {
        let h = core.pointee.index.find(id.rawValue)
        guard h >= 0 else { return nil }
        let o = core.pointee.orders[h]
        return RestingOrder(
            id: id, account: AccountID(o.account), symbol: SymbolID(o.book), side: o.side,
            price: o.price, leavesQuantity: o.leaves, postOnly: o.postOnly)
    }

    /// The resting orders of one side in priority order (best price first, oldest first). Allocates.
    public func restingOrders(_ symbol: SymbolID, _ side: Side) -> [RestingOrder] {
        var result: [RestingOrder] = []
        let b = Int(symbol.rawValue)
        guard b < core.pointee.bookCount else { return result }
        var level = core.pointee.books[b].best(side)
        while level >= 0 {
            var h = core.pointee.levels[level].head
            while h >= 0 {
                let o = core.pointee.orders[h]
                result.append(
                    RestingOrder(
                        id: OrderID(o.id), account: AccountID(o.account), symbol: symbol,
                        side: o.side, price: o.price, leavesQuantity: o.leaves,
                        postOnly: o.postOnly))
                h = o.next
            }
            level = core.pointee.levels[level].worse
        }
        return result
    }

    /// Resting orders across all symbols.
    public var restingOrderCount: Int { Int(core.pointee.orders.liveCount) }

    /// Resting orders of one symbol.
    public func restingOrderCount(_ symbol: SymbolID) -> Int {
        let b = Int(symbol.rawValue)
        return b < core.pointee.bookCount ? Int(core.pointee.books[b].restingOrders) : 0
    }

    /// True when `id` was accepted at some point (resting or not).
    public func isUsed(_ id: OrderID) -> Bool { core.pointee.usedIDs.contains(id.rawValue) }

    func summary(_ level: Int32) -> LevelSummary {
        let l = core.pointee.levels[level]
        return LevelSummary(price: l.price, quantity: l.total, orderCount: Int(l.orderCount))
    }
}

/// A resting order as seen by a query.
public struct RestingOrder: Hashable, Sendable {
    public var id: OrderID
    public var account: AccountID
    public var symbol: SymbolID
    public var side: Side
    /// Limit price in ticks.
    public var price: Price
    /// Open quantity in lots.
    public var leavesQuantity: Quantity
    public var postOnly: Bool
}

/// The events of one command: a read-only view into the engine's preallocated buffer.
///
/// Valid until the engine processes its next command.
@frozen
public struct EngineEvents: RandomAccessCollection {
    @usableFromInline let base: UnsafePointer<EngineEvent>
    /// Number of events.
    public let count: Int

    @inlinable init(base: UnsafePointer<EngineEvent>, count: Int) {
        self.base = base
        self.count = count
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    @inlinable
    public subscript(position: Int) -> EngineEvent {
        precondition(position >= 0 && position < count, "event index out of range")
        return base[position]
    }

    /// A direct iterator (the generic `IndexingIterator` allocates in unoptimized builds).
    @frozen
    public struct Iterator: IteratorProtocol {
        @usableFromInline let base: UnsafePointer<EngineEvent>
        @usableFromInline let count: Int
        @usableFromInline var position = 0

        @inlinable init(base: UnsafePointer<EngineEvent>, count: Int) {
            self.base = base
            self.count = count
        }

        @inlinable
        public mutating func next() -> EngineEvent? {
            guard position < count else { return nil }
            defer { position += 1 }
            return base[position]
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(base: base, count: count) }
}
