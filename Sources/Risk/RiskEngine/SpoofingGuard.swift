import ChronosCore
import FencedCollections

/// The dynamic check: features, the scorer, the policy and the score-behind table. Owned by a
/// ``RiskEngine`` (``RiskEngine/attachSpoofingModel(_:policy:)``); preallocated, no allocation
/// per order or event apart from what the scorer itself does.
final class SpoofingGuard {
    let features: SpoofingFeatures
    let scorer: SpoofingScorer
    let policy: SpoofingPolicy
    var counters = SpoofingModelCounters()
    /// The feature vector handed to the scorer (one owner thread).
    private let buffer: UnsafeMutableBufferPointer<Float>
    private var behind: FixedSlab<BehindScore>
    private var behindIndex: IDTable
    /// Slots whose score is stale, in the order they became stale (each at most once).
    private let dirty: UnsafeMutablePointer<Int32>
    private var dirtyHead = 0
    private var dirtyCount = 0

    init(scorer: SpoofingScorer, policy: SpoofingPolicy, configuration: RiskConfiguration) {
        self.scorer = scorer
        self.policy = policy
        let pairs = min(1 << 22, max(configuration.positionCapacity, configuration.accountCapacity))
        // Written once here (prefaulted): the checks never take a page fault.
        let memory = PoolMemory(prefault: true)
        features = SpoofingFeatures(
            symbolCapacity: min(1 << 22, configuration.symbolCapacity), accountCapacity: pairs,
            orderCapacity: configuration.orderCapacity, levelCapacity: max(1 << 16, configuration.orderCapacity / 4))
        buffer = .allocate(capacity: SpoofingFeatureSchema.count)
        buffer.initialize(repeating: 0)
        behind = FixedSlab(capacity: pairs, memory: memory)
        behindIndex = IDTable(maxEntries: pairs, memory: memory)
        dirty = .allocate(capacity: pairs)
    }

    deinit {
        buffer.deallocate()
        behind.deallocate()
        behindIndex.deallocate()
        dirty.deallocate()
    }

    // MARK: Deciding

    /// The model's decision for a new order that passed the static limits.
    func decide(_ order: NewOrder, now: UInt64) -> RiskDecision {
        let score: Float?
        if policy.scoring == .behind, let known = behindScore(order.account, order.symbol) {
            score = known
        } else {
            features.compute(order, now: now, into: buffer)
            score = scorer.score(UnsafeBufferPointer(buffer))
        }
        if policy.scoring == .behind {
            remember(
                order.account, order.symbol,
                BehindScore(
                    account: order.account.rawValue, symbol: order.symbol.rawValue, side: order.side,
                    isMarket: order.type == .market, price: order.price, quantity: order.quantity, score: score ?? 0,
                    hasScore: score != nil))
        }
        return decision(score)
    }

    /// The model's decision for a replace that passed the static limits. A replace of an order the
    /// features do not follow (unknown, another account's, entered before the model was attached)
    /// is scored on an all-zero vector: "nothing known", an honest input rather than no score.
    func decide(_ replace: ReplaceOrder, now: UInt64) -> RiskDecision {
        if policy.scoring == .behind, let known = behindScore(replace.account, replace.symbol) {
            return decision(known)
        }
        if !features.computeReplace(replace, now: now, into: buffer) {
            for i in 0..<buffer.count { buffer[i] = 0 }
        }
        return decision(scorer.score(UnsafeBufferPointer(buffer)))
    }

    private func decision(_ score: Float?) -> RiskDecision {
        guard let score, score.isFinite, score >= 0, score <= 1 else {
            counters.failures += 1
            if policy.failClosed { return RiskDecision(action: .reject, reason: .modelUnavailable, model: .failed) }
            return RiskDecision(action: .pass, reason: nil, model: .failed)
        }
        counters.scored += 1
        let value = Double(score)
        guard value >= policy.threshold else {
            return RiskDecision(action: .pass, reason: nil, score: value, model: .scored)
        }
        let action: RiskAction
        switch policy.mode {
        case .off, .shadow:
            counters.shadowHits += 1
            return RiskDecision(action: .pass, reason: nil, score: value, model: .scored)
        case .flag:
            counters.flagged += 1
            action = .flag
        case .throttle:
            counters.throttled += 1
            action = .throttle
        case .reject:
            counters.rejected += 1
            action = .reject
        }
        return RiskDecision(action: action, reason: .spoofingModel, score: value, model: .scored)
    }

    // MARK: Following the engine

    func apply(_ event: EngineEvent, now: UInt64) {
        features.apply(event, now: now)
        guard policy.scoring == .behind else { return }
        switch event {
        case .accepted(let e): markDirty(e.account, e.symbol)
        case .rejected(let e): markDirty(e.account, e.symbol)
        case .fill(let e):
            markDirty(e.takerAccount, e.symbol)
            markDirty(e.makerAccount, e.symbol)
        case .canceled(let e): markDirty(e.account, e.symbol)
        case .replaced(let e): markDirty(e.account, e.symbol)
        }
    }

    // MARK: Score-behind

    /// Rescores up to `limit` stale (account, symbol) pairs, oldest first, with their last order's
    /// terms at `now`. Returns how many were scored.
    func refresh(now: UInt64, limit: Int) -> Int {
        var done = 0
        while done < limit && dirtyCount > 0 {
            let slot = dirty[dirtyHead]
            dirtyHead = dirtyHead + 1 == Int(behind.capacity) ? 0 : dirtyHead + 1
            dirtyCount -= 1
            behind[slot].dirty = false
            let entry = behind[slot]
            let order = NewOrder(
                id: OrderID(0), account: AccountID(entry.account), symbol: SymbolID(entry.symbol), side: entry.side,
                type: entry.isMarket ? .market : .limit, price: entry.price, quantity: entry.quantity)
            features.compute(order, now: now, into: buffer)
            let score = scorer.score(UnsafeBufferPointer(buffer))
            behind[slot].score = score ?? 0
            behind[slot].hasScore = score != nil
            counters.behindRefreshes += 1
            done += 1
        }
        return done
    }

    /// Pairs waiting for a score-behind refresh.
    var staleCount: Int { dirtyCount }

    private static func key(_ account: AccountID, _ symbol: SymbolID) -> UInt64 {
        UInt64(account.rawValue) << 32 | UInt64(symbol.rawValue)
    }

    private func behindScore(_ account: AccountID, _ symbol: SymbolID) -> Float? {
        guard let slot = behindIndex.handle(for: Self.key(account, symbol)), behind[slot].hasScore else { return nil }
        return behind[slot].score
    }

    /// Stores the terms of the account's latest order (and its score, when it was scored now).
    private func remember(_ account: AccountID, _ symbol: SymbolID, _ entry: BehindScore) {
        let key = Self.key(account, symbol)
        if let slot = behindIndex.handle(for: key) {
            let wasDirty = behind[slot].dirty
            let previous = behind[slot]
            behind[slot] = entry
            // A known score stays until the refresh replaces it.
            if !entry.hasScore {
                behind[slot].score = previous.score
                behind[slot].hasScore = previous.hasScore
            }
            behind[slot].dirty = wasDirty
            return
        }
        guard let slot = behind.take() else { return }
        guard behindIndex.insertIfRoom(key, handle: slot) else {
            behind.release(slot)
            return
        }
        behind[slot] = entry
    }

    private func markDirty(_ account: AccountID, _ symbol: SymbolID) {
        guard let slot = behindIndex.handle(for: Self.key(account, symbol)), !behind[slot].dirty else { return }
        behind[slot].dirty = true
        dirty[(dirtyHead + dirtyCount) % Int(behind.capacity)] = slot
        dirtyCount += 1
    }
}

/// An account's latest order terms on a symbol and its score-behind score.
private struct BehindScore {
    var account: UInt32 = 0
    var symbol: UInt32 = 0
    var side: Side = .buy
    var isMarket = false
    var price: Price = 0
    var quantity: Quantity = 0
    var score: Float = 0
    var hasScore = false
    var dirty = false
}
