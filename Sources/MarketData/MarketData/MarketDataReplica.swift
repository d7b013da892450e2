import ChronosCore

/// What a ``MarketDataReplica`` did with an update or a snapshot.
@frozen
public enum ReplicaOutcome: Hashable, Sendable {
    /// Applied in sequence (for a snapshot: applied, and every buffered update after it too).
    case applied
    /// Numbered at or below the last applied update: a duplicate or a late copy, ignored.
    case duplicate
    /// For another symbol: ignored.
    case otherSymbol
    /// Updates are missing: `expected` was due, `received` came. The replica now waits for a
    /// snapshot, keeping later updates aside (for a snapshot: the snapshot was applied, but
    /// updates between it and the buffered ones are still missing; it keeps waiting).
    case gap(expected: UInt64, received: UInt64)
    /// Kept aside while the replica waits for a snapshot.
    case buffered
    /// The update contradicted the replica's book (a new level that existed, a change or delete
    /// of a level it lacks, a best bid/offer that is not its top, no room for a level). The
    /// replica now waits for a snapshot.
    case inconsistent(sequence: UInt64)
    /// A snapshot older than the replica's state, or cut by a depth limit: ignored.
    case unusableSnapshot
}

/// A consumer's copy of one symbol's level-2 book, rebuilt from ``MarketDataUpdate``s, that
/// notices lost updates and recovers from a ``MarketDataSnapshot``.
///
/// A fresh replica expects the symbol's update number 1; a consumer that joins later sees a gap
/// on its first update and starts from a snapshot. In the ``State/live`` state each update must
/// carry the last sequence number plus one. Any other number, or an update that contradicts the
/// book, moves it to ``State/recovering``: updates are then kept aside (up to
/// `bufferCapacity`, the oldest dropped first) until ``apply(_:)-(MarketDataSnapshot)`` brings a
/// snapshot; the replica takes the snapshot's levels, drops the kept updates numbered up to the
/// snapshot's sequence, and applies the rest in order.
///
/// Storage is allocated in `init`; applying an update does not allocate. Not thread-safe.
public final class MarketDataReplica {
    /// Whether the replica's book can be trusted.
    @frozen
    public enum State: Hashable, Sendable {
        /// In sequence: the book is the publisher's as of ``MarketDataReplica/sequence``.
        case live
        /// Updates were lost or contradicted the book: waiting for a snapshot.
        case recovering
    }

    /// The symbol replicated.
    public let symbol: SymbolID
    /// Live or recovering.
    public private(set) var state: State = .live
    /// The sequence number of the last update (or snapshot) applied.
    public private(set) var sequence: UInt64 = 0
    /// The last trade seen, if any.
    public private(set) var lastTrade: TradeUpdate?
    /// Gaps detected (including updates that contradicted the book).
    public private(set) var gapCount = 0
    /// Snapshots applied.
    public private(set) var snapshotCount = 0
    /// Updates dropped from the full buffer while recovering.
    public private(set) var droppedUpdates = 0
    private var ladders: PriceLadders
    private var buffer: [MarketDataUpdate]
    private var bufferStart = 0
    private var bufferCount = 0

    /// A replica of `symbol` with room for `levelCapacityPerSide` levels per side and
    /// `bufferCapacity` updates kept while recovering.
    /// - Throws: ``MarketDataSetupError/invalidConfiguration(_:)`` for a capacity below 1.
    public init(symbol: SymbolID, levelCapacityPerSide: Int = 16_384, bufferCapacity: Int = 65_536) throws {
        var errors: [String] = []
        if levelCapacityPerSide < 1 || levelCapacityPerSide > 1 << 24 {
            errors.append("levelCapacityPerSide must be in 1...16777216, is \(levelCapacityPerSide)")
        }
        if bufferCapacity < 1 || bufferCapacity > 1 << 24 {
            errors.append("bufferCapacity must be in 1...16777216, is \(bufferCapacity)")
        }
        guard errors.isEmpty else { throw MarketDataSetupError.invalidConfiguration(errors) }
        self.symbol = symbol
        ladders = PriceLadders(ladderCount: 2, capacity: levelCapacityPerSide)
        let placeholder = MarketDataUpdate.bestBidOffer(
            BestBidOfferUpdate(symbol: symbol, sequence: 0, eventSequence: 0, bestBid: nil, bestOffer: nil))
        buffer = Array(repeating: placeholder, count: bufferCapacity)
    }

    /// True when the replica is live (its book can be trusted).
    public var isLive: Bool { state == .live }

    /// Updates kept aside while recovering.
    public var bufferedCount: Int { bufferCount }

    // MARK: Updates

    /// Applies one update of the symbol, or keeps it aside while recovering.
    @discardableResult
    public func apply(_ update: MarketDataUpdate) -> ReplicaOutcome {
        guard update.symbol == symbol else { return .otherSymbol }
        if state == .recovering {
            keep(update)
            return .buffered
        }
        let received = update.sequence
        guard received > sequence else { return .duplicate }
        guard received == sequence &+ 1 else {
            let expected = sequence &+ 1
            startRecovering()
            keep(update)
            return .gap(expected: expected, received: received)
        }
        sequence = received
        guard applyInSequence(update) else {
            startRecovering()
            return .inconsistent(sequence: received)
        }
        return .applied
    }

    /// Notes the symbol's last published sequence number, as a heartbeat (or any message that
    /// carries it) announces: a replica that is live but behind it lost the last updates — a gap
    /// no later update would reveal while the symbol is quiet — and starts recovering.
    @discardableResult
    public func applyHeartbeat(lastSequence: UInt64) -> ReplicaOutcome {
        guard state == .live else { return .buffered }
        guard lastSequence > sequence else { return lastSequence == sequence ? .applied : .duplicate }
        let expected = sequence &+ 1
        startRecovering()
        return .gap(expected: expected, received: lastSequence)
    }

    /// Stops trusting the book and waits for a snapshot, keeping the updates that arrive
    /// meanwhile: what a consumer does when it subscribes, so that the updates published before
    /// its snapshot and after it are both accounted for. Not counted in ``gapCount``.
    public func resynchronize() {
        state = .recovering
    }

    /// Replaces the book with `snapshot` and applies the updates kept since the gap that come
    /// after it. A snapshot of another symbol, cut by a depth limit, or older than the replica's
    /// last applied update is not used.
    @discardableResult
    public func apply(_ snapshot: MarketDataSnapshot) -> ReplicaOutcome {
        guard snapshot.symbol == symbol else { return .otherSymbol }
        guard snapshot.isComplete, snapshot.sequence >= sequence else { return .unusableSnapshot }
        for side in Side.allCases { ladders.removeAll(PriceLadders.ladder(0, side)) }
        for (side, levels) in [(Side.buy, snapshot.bids), (.sell, snapshot.offers)] {
            for level in levels {
                let change = ladders.set(
                    PriceLadders.ladder(0, side), price: level.price, quantity: level.quantity,
                    orderCount: Int64(level.orderCount))
                guard case .updated(.new, _, _) = change else {
                    // No room, or a snapshot with repeated prices or empty levels: still recovering.
                    state = .recovering
                    return .unusableSnapshot
                }
            }
        }
        sequence = snapshot.sequence
        state = .live
        snapshotCount += 1
        return drainBuffer()
    }

    /// Applies the updates kept aside, in order, from the first one after ``sequence``.
    private func drainBuffer() -> ReplicaOutcome {
        while bufferCount > 0 {
            let update = buffer[bufferStart]
            bufferStart = (bufferStart + 1) % buffer.count
            bufferCount -= 1
            let received = update.sequence
            if received <= sequence { continue }
            guard received == sequence &+ 1 else {
                // Still missing some: keep this one and the rest, wait for a newer snapshot.
                let expected = sequence &+ 1
                bufferStart = (bufferStart - 1 + buffer.count) % buffer.count
                bufferCount += 1
                state = .recovering
                gapCount += 1
                return .gap(expected: expected, received: received)
            }
            sequence = received
            guard applyInSequence(update) else {
                startRecovering()
                return .inconsistent(sequence: received)
            }
        }
        return .applied
    }

    /// Applies an update that is next in sequence; false when it contradicts the book.
    private func applyInSequence(_ update: MarketDataUpdate) -> Bool {
        switch update {
        case .level(let level):
            let change = ladders.set(
                PriceLadders.ladder(0, level.side), price: level.price, quantity: level.quantity,
                orderCount: Int64(level.orderCount))
            guard case .updated(let action, _, _) = change else { return false }
            return action == level.action
        case .trade(let trade):
            lastTrade = trade
            return true
        case .bestBidOffer(let top):
            return bestBid == top.bestBid && bestOffer == top.bestOffer
        }
    }

    /// Stops trusting the book; the buffer (empty when live, the rest of it while draining) fills
    /// from here.
    private func startRecovering() {
        state = .recovering
        gapCount += 1
    }

    private func keep(_ update: MarketDataUpdate) {
        if bufferCount == buffer.count {
            bufferStart = (bufferStart + 1) % buffer.count
            bufferCount -= 1
            droppedUpdates += 1
        }
        buffer[(bufferStart + bufferCount) % buffer.count] = update
        bufferCount += 1
    }

    // MARK: Queries

    /// The highest bid level, or nil.
    public var bestBid: LevelSummary? { ladders.best(PriceLadders.ladder(0, .buy))?.summary }

    /// The lowest offer level, or nil.
    public var bestOffer: LevelSummary? { ladders.best(PriceLadders.ladder(0, .sell))?.summary }

    /// The level at `price` on `side`, or nil.
    public func level(_ side: Side, price: Price) -> LevelSummary? {
        ladders.level(PriceLadders.ladder(0, side), price: price)?.summary
    }

    /// The levels of one side, best first. Allocates.
    public func levels(_ side: Side) -> [LevelSummary] {
        let k = PriceLadders.ladder(0, side)
        return (0..<ladders.count(k)).compactMap { ladders.level(k, rank: $0)?.summary }
    }
}
