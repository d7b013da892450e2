import ChronosCore
import MatchingEngine
import Testing
import Workload

// Randomized property tests: seeded streams of ≥ 100k commands, each run through two fresh
// engines in lockstep (determinism), an event-stream checker (sequence/trade numbering,
// quantity conservation, terminal states, maker prices, self-trade prevention, book never
// crossed, structural invariants) and a deliberately naive reference book (event-for-event
// and final-book equality; ReferenceBook.swift).

// MARK: - Streams

/// The shape of one randomized stream.
struct StreamCase: Sendable, CustomTestStringConvertible {
    enum Source: Sendable {
        /// `OrderFlowGenerator`: realistic flow.
        case realistic(symbols: Int, accounts: Int, targetResting: Int, meanDepthTicks: Double)
        /// `AdversarialStream`: few accounts, many levels, every command kind and every bad value.
        case adversarial(accounts: Int, maxResting: Int)
    }

    var name: String
    var seed: UInt64
    var commands: Int
    var orderCapacity: Int
    var source: Source

    var testDescription: String { "\(name) seed \(seed)" }
}

/// Three symbols with different grids and limits: plain, tick 5 / lot 100 with limits, tight limits.
let adversarialSymbols: [SymbolConfiguration] = [
    SymbolConfiguration(name: "PLAIN"),
    SymbolConfiguration(
        name: "GRID", tickSize: 5, lotSize: 100, minQuantity: 100, maxQuantity: 20_000,
        minPrice: 500, maxPrice: 1_500),
    SymbolConfiguration(name: "TIGHT", minQuantity: 2, maxQuantity: 40, minPrice: 60, maxPrice: 140),
]

/// An adversarial command stream built with `SplitMix64`. It reads the reference book (its
/// shadow) to aim cancels and replaces at orders that rest, and at filled, canceled, unknown
/// and foreign ones; to size replaces up, down and equal; and to place crossing prices.
struct AdversarialStream {
    var rng: SplitMix64
    let accounts: UInt32
    let maxResting: Int
    let ceiling: Quantity
    var nextID: UInt64 = 1
    /// Every id a `new` named so far (accepted or not).
    var issued: [UInt64] = []
    var mids: [Int64] = [1_000, 1_000, 100]

    init(seed: UInt64, accounts: UInt32, maxResting: Int, ceiling: Quantity) {
        rng = SplitMix64(seed: seed)
        self.accounts = accounts
        self.maxResting = maxResting
        self.ceiling = ceiling
    }

    private mutating func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    private mutating func chance(_ p: Double) -> Bool { rng.unit() < p }

    mutating func next(shadow: ReferenceExchange) -> EngineCommand {
        let symbolIndex = pick(adversarialSymbols.count)
        var symbol = SymbolID(UInt32(symbolIndex))
        if chance(0.01) { symbol = SymbolID(chance(0.5) ? 3 : UInt32.max) }  // unknown symbol
        let config = adversarialSymbols[symbolIndex]
        let tick = config.tickSize, lot = config.lotSize
        if chance(0.03) {
            mids[symbolIndex] += chance(0.5) ? -tick : tick
            mids[symbolIndex] = min(max(mids[symbolIndex], config.minPrice + 25 * tick), config.maxPrice - 25 * tick)
        }
        let mid = mids[symbolIndex]
        let account = AccountID(UInt32(pick(Int(accounts))))
        let resting = shadow.restingCount
        let crowded = resting > maxResting
        let thin = resting < maxResting / 2
        let roll = rng.unit()
        if roll < (crowded ? 0.40 : thin ? 0.70 : 0.55) {
            return .new(newOrder(symbol, config, mid, account, crowded: crowded))
        }
        // Cancel or replace: pick a target.
        var id = OrderID(0)
        var owner = account
        var targetSymbol = symbol
        var target: ReferenceExchange.Order?
        let t = rng.unit()
        let live = shadow.allResting()
        if t < (thin ? 0.4 : 0.65), !live.isEmpty {
            let (s, o) = live[pick(live.count)]
            (id, owner, targetSymbol, target) = (o.id, o.account, s, o)
        } else if t < 0.90, !issued.isEmpty {
            id = OrderID(issued[pick(issued.count)])  // filled, canceled, rejected or resting
        } else if t < 0.97 {
            id = OrderID(nextID + 1 + UInt64(pick(1_000)))  // never used (yet)
        } else {
            id = OrderID([0, UInt64.max, UInt64.max - 1][pick(3)])
        }
        var who = owner
        if chance(0.08) { who = AccountID(UInt32(pick(Int(accounts) + 1))) }  // often foreign
        var onSymbol = targetSymbol
        if chance(0.05) { onSymbol = SymbolID(UInt32(pick(adversarialSymbols.count))) }  // maybe the wrong one
        if roll < (crowded ? 0.75 : 0.77) {
            return .cancel(CancelOrder(id: id, account: who, symbol: onSymbol))
        }
        // Replace: price and/or quantity, up, down, equal, crossing, invalid, or neither.
        let tConfig = adversarialSymbols[min(Int(onSymbol.rawValue), adversarialSymbols.count - 1)]
        let current =
            target
            ?? ReferenceExchange.Order(
                id: id, account: who, side: .buy, price: mid, leaves: lot,
                postOnly: false)
        var price: Price?
        var quantity: Quantity?
        let shape = rng.unit()
        if shape < 0.30 {
            quantity = replaceQuantity(current.leaves, tConfig)
        } else if shape < 0.60 {
            price = replacePrice(current, onSymbol, tConfig, shadow: shadow)
        } else if shape < 0.98 {
            price = replacePrice(current, onSymbol, tConfig, shadow: shadow)
            quantity = replaceQuantity(current.leaves, tConfig)
        }  // else neither: malformed
        return .replace(ReplaceOrder(id: id, account: who, symbol: onSymbol, price: price, quantity: quantity))
    }

    private mutating func replaceQuantity(_ leaves: Quantity, _ c: SymbolConfiguration) -> Quantity {
        let r = rng.unit()
        if r < 0.25 { return leaves }  // equal
        if r < 0.55 { return max(c.lotSize, leaves - c.lotSize * Int64(1 + pick(5))) }  // down
        if r < 0.90 { return leaves + c.lotSize * Int64(1 + pick(10)) }  // up
        return [0, -c.lotSize, leaves + 1, c.maxQuantity &+ c.lotSize, ceiling + 1][pick(5)]  // invalid
    }

    private mutating func replacePrice(
        _ o: ReferenceExchange.Order, _ symbol: SymbolID, _ c: SymbolConfiguration,
        shadow: ReferenceExchange
    ) -> Price {
        let r = rng.unit()
        if r < 0.15 { return o.price }  // same price
        if r < 0.35, Int(symbol.rawValue) < shadow.books.count, let touch = shadow.bestPrice(symbol, o.side.opposite) {
            // At or through the opposite touch: trades (or post-only rejects).
            let through = c.tickSize * Int64(pick(3))
            return o.side == .buy ? touch + through : touch - through
        }
        if r < 0.93 { return max(c.minPrice, o.price + c.tickSize * Int64(pick(13) - 6)) }
        return [0, -c.tickSize, o.price + 1, c.maxPrice &+ c.tickSize, c.minPrice - c.tickSize][pick(5)]
    }

    private mutating func newOrder(
        _ symbol: SymbolID, _ c: SymbolConfiguration, _ mid: Int64, _ account: AccountID,
        crowded: Bool
    ) -> NewOrder {
        var id: OrderID
        let idRoll = rng.unit()
        if idRoll < 0.05, !issued.isEmpty {
            id = OrderID(issued[pick(issued.count)])  // a duplicate, or a reuse of a rejected id
        } else if idRoll < 0.06 {
            id = OrderID([0, UInt64.max, UInt64.max - 64, 1 << 40 + rng.next() % 4_096][pick(4)])
        } else {
            id = OrderID(nextID)
            nextID += 1
        }
        issued.append(id.rawValue)
        let side: Side = rng.next() & 1 == 0 ? .buy : .sell
        let isMarket = chance(crowded ? 0.25 : 0.10)
        let tifRoll = rng.unit()
        let tif: TimeInForce =
            tifRoll < (crowded ? 0.3 : 0.6)
            ? .goodTillCancel
            : (tifRoll < 0.85 ? .immediateOrCancel : .fillOrKill)
        let postOnly = chance(isMarket ? 0.05 : 0.12)
        // Many levels: up to 20 ticks either side of the mid, so a third of limits cross.
        var price = mid + c.tickSize * Int64(pick(41) - 20)
        if side == .sell { price += c.tickSize * 6 } else { price -= c.tickSize * 6 }
        var quantity = c.lotSize * Int64(1 + pick(chance(0.1) ? 60 : 12))
        if c.maxQuantity != .max { quantity = min(quantity, c.maxQuantity / c.lotSize * c.lotSize) }
        quantity = max(quantity, (c.minQuantity + c.lotSize - 1) / c.lotSize * c.lotSize)
        if chance(0.04) {
            price = [0, -c.tickSize, price + 1, c.maxPrice &+ c.tickSize, c.minPrice - c.tickSize, .min][pick(6)]
        }
        if chance(0.04) {
            quantity =
                [
                    0, -c.lotSize, quantity + 1, c.maxQuantity &+ c.lotSize, c.minQuantity - 1, ceiling,
                    ceiling + 1, .max, .min,
                ][pick(9)]
        }
        return NewOrder(
            id: id, account: account, symbol: symbol, side: side, type: isMarket ? .market : .limit,
            timeInForce: tif, price: isMarket && chance(0.5) ? 0 : price, quantity: quantity,
            postOnly: postOnly)
    }
}

// MARK: - Event-stream checker

/// Checks every event of a stream against the properties that must hold whatever the
/// matching rules: numbering, conservation, terminal states, maker prices, no self-trades.
struct StreamChecker {
    struct Track {
        var account: AccountID
        var symbol: SymbolID
        var side: Side
        var isLimit: Bool
        var tif: TimeInForce
        /// Current limit price (the resting price once it rests); 0 for market orders.
        var price: Price
        var accepted: Quantity
        /// Sum of (new open qty − old open qty) over replaces.
        var adjustments: Quantity = 0
        var filled: Quantity = 0
        var canceled: Quantity = 0
        var terminal = false
        var open: Quantity { accepted + adjustments - filled - canceled }
    }

    private(set) var orders: [OrderID: Track] = [:]
    private(set) var nextSequence: UInt64 = 1
    private(set) var nextTradeID: UInt64 = 1
    private(set) var failures: [String] = []
    private(set) var counts: [String: Int] = [:]

    private mutating func fail(_ message: @autoclosure () -> String) {
        if failures.count < 20 { failures.append(message()) }
    }

    private mutating func count(_ key: String) { counts[key, default: 0] += 1 }

    /// Checks the events of one command.
    mutating func check(_ index: Int, _ command: EngineCommand, _ events: EngineEvents) {
        if events.isEmpty { fail("command \(index) \(command): no event") }
        var lastFillPrice: Price?
        for event in events {
            if event.sequence != nextSequence {
                let expected = nextSequence
                fail("command \(index): sequence \(event.sequence), expected \(expected)")
                nextSequence = event.sequence
            }
            nextSequence += 1
            switch event {
            case .accepted(let e):
                count("accepted")
                guard case .new(let o) = command, o.id == e.id else {
                    fail("command \(index): accepted \(e.id) does not answer \(command)")
                    continue
                }
                if orders[e.id] != nil { fail("command \(index): id \(e.id) accepted twice") }
                if e.quantity != o.quantity || e.side != o.side || e.account != o.account || e.type != o.type {
                    fail("command \(index): accepted event \(e) differs from \(o)")
                }
                orders[e.id] = Track(
                    account: e.account, symbol: e.symbol, side: e.side, isLimit: e.type == .limit,
                    tif: e.timeInForce, price: e.type == .limit ? o.price : 0,
                    accepted: e.quantity)
            case .rejected(let e):
                count("rejected \(e.reason)")
                if events.count != 1 { fail("command \(index): a rejection with other events") }
                if e.id != command.orderID { fail("command \(index): rejected \(e.id) for \(command.orderID)") }
                if e.reason == .duplicateID, orders[e.id] == nil {
                    fail("command \(index): duplicate_id for \(e.id), never accepted")
                }
                if case .new = command, e.reason != .duplicateID, e.reason != .unknownSymbol,
                    e.reason != .malformed, orders[e.id] != nil
                {
                    fail("command \(index): reused id \(e.id) rejected \(e.reason), not duplicate_id")
                }
            case .fill(let f):
                count("fill")
                if f.tradeID.rawValue != nextTradeID {
                    let expected = nextTradeID
                    fail("command \(index): trade id \(f.tradeID), expected \(expected)")
                    nextTradeID = f.tradeID.rawValue
                }
                nextTradeID += 1
                if f.takerID != command.orderID {
                    fail("command \(index): fill taker \(f.takerID) is not the command's")
                }
                if f.quantity <= 0 { fail("command \(index): fill qty \(f.quantity)") }
                if f.takerAccount == f.makerAccount { fail("command \(index): self-trade \(f)") }
                guard var taker = orders[f.takerID], var maker = orders[f.makerID] else {
                    fail("command \(index): fill names an unknown order \(f)")
                    continue
                }
                if taker.terminal || maker.terminal { fail("command \(index): fill after a terminal state \(f)") }
                if maker.account == taker.account { fail("command \(index): same-account fill \(f)") }
                if f.makerAccount != maker.account || f.takerAccount != taker.account {
                    fail("command \(index): fill accounts wrong \(f)")
                }
                if f.price != maker.price {
                    fail("command \(index): fill at \(f.price), maker rests at \(maker.price)")
                }
                if f.takerSide != taker.side || maker.side != taker.side.opposite {
                    fail("command \(index): fill sides wrong \(f)")
                }
                if taker.isLimit && (taker.side == .buy ? f.price > taker.price : f.price < taker.price) {
                    fail("command \(index): fill at \(f.price) beyond the taker's limit \(taker.price)")
                }
                if let last = lastFillPrice, taker.side == .buy ? f.price < last : f.price > last {
                    fail("command \(index): fills not in price priority")
                }
                lastFillPrice = f.price
                taker.filled += f.quantity
                maker.filled += f.quantity
                if taker.open != f.takerLeaves || taker.open < 0 {
                    fail("command \(index): taker leaves \(f.takerLeaves), conservation says \(taker.open)")
                }
                if maker.open != f.makerLeaves || maker.open < 0 {
                    fail("command \(index): maker leaves \(f.makerLeaves), conservation says \(maker.open)")
                }
                if f.takerLeaves == 0 { taker.terminal = true }
                if f.makerLeaves == 0 { maker.terminal = true }
                orders[f.takerID] = taker
                orders[f.makerID] = maker
            case .canceled(let c):
                count("canceled \(c.reason)")
                guard var track = orders[c.id] else { fail("command \(index): cancel of unknown \(c.id)"); continue }
                if track.terminal { fail("command \(index): canceled after a terminal state: \(c)") }
                if c.quantity != track.open || c.quantity <= 0 {
                    fail("command \(index): canceled \(c.quantity), open was \(track.open)")
                }
                if c.account != track.account || c.side != track.side || c.symbol != track.symbol {
                    fail("command \(index): canceled fields wrong \(c)")
                }
                let expected: CancelReason? =
                    switch command {
                    case .cancel: .requested
                    case .replace: .selfTradePrevention
                    case .new: nil
                    }
                if let expected, c.reason != expected { fail("command \(index): cancel reason \(c.reason)") }
                if case .new = command, c.reason == .requested { fail("command \(index): requested cancel on new") }
                if c.reason == .marketRemainder && track.isLimit { fail("command \(index): market remainder on limit") }
                if c.reason == .immediateOrCancelRemainder && (!track.isLimit || track.tif == .goodTillCancel) {
                    fail("command \(index): ioc remainder on \(track.tif)")
                }
                track.canceled += c.quantity
                track.terminal = true
                orders[c.id] = track
            case .replaced(let r):
                count(r.keptPriority ? "replaced kept" : "replaced moved")
                guard case .replace(let cmd) = command, cmd.id == r.id, var track = orders[r.id] else {
                    fail("command \(index): replaced \(r.id) does not answer \(command)")
                    continue
                }
                if track.terminal { fail("command \(index): replace after a terminal state") }
                if r.quantity <= 0 { fail("command \(index): replaced to qty \(r.quantity)") }
                if r.keptPriority && (r.price != track.price || r.quantity > track.open) {
                    fail("command \(index): kept priority on a price change or increase")
                }
                track.adjustments += r.quantity - track.open
                track.price = r.price
                orders[r.id] = track
            }
        }
    }

    /// After a command: the command's order is terminal or rests; IOC, FOK and market never rest.
    mutating func checkAfter(_ index: Int, _ command: EngineCommand, _ events: EngineEvents, _ engine: Engine) {
        let id = command.orderID
        guard let track = orders[id] else { return }
        let resting = engine.restingOrder(id)
        if track.terminal != (resting == nil) {
            fail("command \(index): order \(id) terminal \(track.terminal) but resting \(resting != nil)")
        }
        if !track.terminal && (!track.isLimit || track.tif != .goodTillCancel) {
            fail("command \(index): \(track.tif) order \(id) still open")
        }
        if let resting, resting.leavesQuantity != track.open || resting.price != track.price {
            fail(
                "command \(index): order \(id) rests \(resting.leavesQuantity)@\(resting.price), "
                    + "tracked \(track.open)@\(track.price)")
        }
        if case .new(let o) = command, case .accepted? = events.first, o.timeInForce == .fillOrKill,
            o.type == .limit, track.filled != track.accepted
        {
            fail("command \(index): FOK \(id) filled \(track.filled) of \(track.accepted)")
        }
    }

    /// At the end: every open order rests with its tracked open quantity; terminal ones do not.
    mutating func checkFinal(_ engine: Engine) {
        var open = 0
        for (id, track) in orders {
            if track.accepted + track.adjustments != track.filled + track.canceled + track.open {
                fail("order \(id): conservation broken")
            }
            let resting = engine.restingOrder(id)
            if track.terminal {
                if resting != nil { fail("order \(id) is terminal but still rests") }
                if track.open != 0 { fail("order \(id) is terminal with \(track.open) open") }
            } else {
                open += 1
                guard let resting else { fail("order \(id) with \(track.open) open is not resting"); continue }
                if resting.leavesQuantity != track.open || resting.price != track.price
                    || resting.account != track.account || resting.symbol != track.symbol
                {
                    fail("order \(id): rests as \(resting), tracked open \(track.open) at \(track.price)")
                }
            }
        }
        if open != engine.restingOrderCount { fail("\(open) open orders, engine rests \(engine.restingOrderCount)") }
        if engine.nextSequence != nextSequence { fail("engine next sequence \(engine.nextSequence)") }
        if engine.nextTradeID != nextTradeID { fail("engine next trade id \(engine.nextTradeID)") }
    }
}

// MARK: - The run

/// Runs one stream through two engines, the checker and the reference, all in lockstep.
struct StreamRun {
    let engine: Engine
    let twin: Engine
    let reference: ReferenceExchange
    var checker = StreamChecker()
    var referenceMismatch: String?
    var determinismMismatch: String?
    var invariantFailures: [String] = []
    var crossedAt: String?
    let symbolCount: Int
    var index = 0
    var maxResting = 0

    init(orderCapacity: Int, symbols: [SymbolConfiguration]) throws {
        let configuration = EngineConfiguration(
            orderCapacity: orderCapacity, symbolCapacity: 8,
            usedIDBlockCapacity: 1 << 16)
        engine = try Engine(configuration: configuration)
        twin = try Engine(configuration: configuration)
        for s in symbols {
            try engine.addSymbol(s)
            try twin.addSymbol(s)
        }
        reference = ReferenceExchange(configuration: configuration, symbols: symbols)
        symbolCount = symbols.count
    }

    mutating func submit(_ command: EngineCommand) {
        engine.submit(command)
        twin.submit(command)
        let events = engine.events
        if determinismMismatch == nil && !events.elementsEqual(twin.events) {
            determinismMismatch = "command \(index) \(command): \(Array(events)) vs \(Array(twin.events))"
        }
        checker.check(index, command, events)
        checker.checkAfter(index, command, events, engine)
        if referenceMismatch == nil {
            let expected = reference.process(command)
            if !events.elementsEqual(expected) {
                referenceMismatch =
                    "command \(index) \(command):\n  engine    \(Array(events))\n  reference \(expected)"
            }
        }
        // The book of the command's symbol is never crossed at rest (O(1) per command).
        let s = command.symbol
        if crossedAt == nil, let bid = engine.bestBid(s), let ask = engine.bestAsk(s), bid.price >= ask.price {
            crossedAt = "command \(index): bid \(bid.price) >= ask \(ask.price)"
        }
        index += 1
        maxResting = max(maxResting, engine.restingOrderCount)
        if index % 5_000 == 0 { checkStructure() }
    }

    mutating func checkStructure() {
        if invariantFailures.count < 10 {
            invariantFailures += engine.invariantViolations().map { "after command \(index): \($0)" }
        }
        if referenceMismatch == nil { compareBooks() }
    }

    mutating func compareBooks() {
        for s in 0..<symbolCount {
            let symbol = SymbolID(UInt32(s))
            for side in Side.allCases {
                let mine = engine.restingOrders(symbol, side).map(RestingView.init)
                let theirs = reference.restingOrders(symbol, side).map(RestingView.init)
                if mine != theirs && referenceMismatch == nil {
                    referenceMismatch =
                        "after command \(index), symbol \(s) \(side):\n"
                        + "  engine    \(mine.prefix(12))\n  reference \(theirs.prefix(12))"
                }
            }
        }
    }

    /// The final checks, recorded as expectations.
    mutating func finish(_ sourceLocation: SourceLocation = #_sourceLocation) {
        checkStructure()
        checker.checkFinal(engine)
        #expect(engine.invariantViolations() == [], sourceLocation: sourceLocation)
        #expect(invariantFailures == [], sourceLocation: sourceLocation)
        #expect(crossedAt == nil, sourceLocation: sourceLocation)
        #expect(checker.failures == [], sourceLocation: sourceLocation)
        #expect(determinismMismatch == nil, sourceLocation: sourceLocation)
        #expect(engine.stateHash() == twin.stateHash(), sourceLocation: sourceLocation)
        #expect(referenceMismatch == nil, sourceLocation: sourceLocation)
        if referenceMismatch == nil {
            #expect(reference.nextSequence == engine.nextSequence, sourceLocation: sourceLocation)
            #expect(reference.nextTradeID == engine.nextTradeID, sourceLocation: sourceLocation)
        }
    }
}

extension EngineCommand {
    var symbol: SymbolID {
        switch self {
        case .new(let o): o.symbol
        case .cancel(let c): c.symbol
        case .replace(let r): r.symbol
        }
    }
}

// MARK: - Tests

@Suite struct PropertyTests {
    static let realisticCases: [StreamCase] = [
        StreamCase(
            name: "realistic, 1 symbol, 1000 accounts", seed: 1, commands: 100_000, orderCapacity: 100_000,
            source: .realistic(symbols: 1, accounts: 1_000, targetResting: 600, meanDepthTicks: 8)),
        StreamCase(
            name: "realistic, 3 symbols, 12 accounts", seed: 2, commands: 100_000, orderCapacity: 100_000,
            source: .realistic(symbols: 3, accounts: 12, targetResting: 900, meanDepthTicks: 4)),
        StreamCase(
            name: "realistic, 2 symbols, 3 accounts, deep", seed: 3, commands: 100_000, orderCapacity: 100_000,
            source: .realistic(symbols: 2, accounts: 3, targetResting: 400, meanDepthTicks: 30)),
    ]

    static let adversarialCases: [StreamCase] = [
        StreamCase(
            name: "adversarial, 3 accounts", seed: 7, commands: 100_000, orderCapacity: 100_000,
            source: .adversarial(accounts: 3, maxResting: 400)),
        StreamCase(
            name: "adversarial, 2 accounts", seed: 8, commands: 100_000, orderCapacity: 100_000,
            source: .adversarial(accounts: 2, maxResting: 250)),
        StreamCase(
            name: "adversarial, capacity 64", seed: 9, commands: 100_000, orderCapacity: 64,
            source: .adversarial(accounts: 4, maxResting: 90)),
    ]

    @Test(arguments: realisticCases)
    func realisticFlowKeepsEveryPropertyAndMatchesTheReference(_ c: StreamCase) throws {
        guard case .realistic(let symbols, let accounts, let target, let depth) = c.source else { return }
        var generator = try OrderFlowGenerator(
            .init(
                seed: c.seed, symbols: symbols, accounts: accounts,
                targetRestingOrders: target, meanDepthTicks: depth))
        let commands = generator.generate(c.commands)
        let configs = (0..<symbols).map { SymbolConfiguration(name: "SYM\($0)") }
        var run = try StreamRun(orderCapacity: c.orderCapacity, symbols: configs)
        for command in commands { run.submit(command) }
        run.finish()
        // The generator's own engine saw the same stream.
        #expect(generator.shadow.stateHash() == run.engine.stateHash())
        #expect((run.checker.counts["fill"] ?? 0) > 1_000)
        #expect(run.engine.restingOrderCount > 0)
    }

    /// Exhaustive sweep: every sequence of four commands from a 13-letter alphabet (one symbol,
    /// two accounts, two prices, every order type and TIF, post-only, cancels, replaces up,
    /// down and through the touch, a reused id) gives the reference's events and book.
    @Test func everyShortCommandSequenceMatchesTheReference() throws {
        let symbol = SymbolID(0)
        let a1 = AccountID(1), a2 = AccountID(2)
        func letter(_ l: Int, position: Int) -> EngineCommand {
            let id = OrderID(UInt64(position + 1))
            func new(
                _ account: AccountID, _ side: Side, _ price: Price, _ qty: Quantity, type: OrderType = .limit,
                tif: TimeInForce = .goodTillCancel, postOnly: Bool = false, id: OrderID = id
            ) -> EngineCommand {
                .new(
                    NewOrder(
                        id: id, account: account, symbol: symbol, side: side, type: type, timeInForce: tif,
                        price: price, quantity: qty, postOnly: postOnly))
            }
            switch l {
            case 0: return new(a1, .buy, 100, 2)
            case 1: return new(a2, .sell, 100, 1)
            case 2: return new(a1, .sell, 101, 2)
            case 3: return new(a2, .buy, 101, 3, tif: .immediateOrCancel)
            case 4: return new(a2, .buy, 101, 2, tif: .fillOrKill)
            case 5: return new(a2, .sell, 0, 3, type: .market)
            case 6: return new(a1, .buy, 101, 1, postOnly: true)
            case 7: return .cancel(CancelOrder(id: OrderID(1), account: a1, symbol: symbol))
            case 8: return .replace(ReplaceOrder(id: OrderID(1), account: a1, symbol: symbol, quantity: 3))
            case 9: return .replace(ReplaceOrder(id: OrderID(1), account: a1, symbol: symbol, quantity: 1))
            case 10: return .replace(ReplaceOrder(id: OrderID(1), account: a1, symbol: symbol, price: 101))
            case 11: return .replace(ReplaceOrder(id: OrderID(2), account: a2, symbol: symbol, price: 100, quantity: 2))
            default: return new(a2, .sell, 102, 1, id: OrderID(1))
            }
        }
        let letters = 13, length = 4
        let configuration = EngineConfiguration(orderCapacity: 8, symbolCapacity: 1, usedIDBlockCapacity: 16)
        var sequences = 0
        var mismatches: [String] = []
        var code = 0
        let total = (0..<length).reduce(1) { n, _ in n * letters }
        while code < total && mismatches.count < 5 {
            var c = code
            let commands = (0..<length).map { position -> EngineCommand in
                defer { c /= letters }
                return letter(c % letters, position: position)
            }
            code += 1
            let engine = try Engine(configuration: configuration)
            try engine.addSymbol(SymbolConfiguration(name: "X"))
            let reference = ReferenceExchange(configuration: configuration, symbols: [SymbolConfiguration(name: "X")])
            for (i, command) in commands.enumerated() {
                engine.submit(command)
                let expected = reference.process(command)
                if !engine.events.elementsEqual(expected) {
                    mismatches.append("\(commands) step \(i): \(Array(engine.events)) vs \(expected)")
                    break
                }
            }
            for side in Side.allCases {
                let mine = engine.restingOrders(symbol, side).map(RestingView.init)
                let theirs = reference.restingOrders(symbol, side).map(RestingView.init)
                if mine != theirs { mismatches.append("\(commands) book \(side): \(mine) vs \(theirs)") }
            }
            let violations = engine.invariantViolations()
            if !violations.isEmpty { mismatches.append("\(commands): \(violations)") }
            sequences += 1
        }
        #expect(mismatches == [])
        #expect(sequences == 28_561)
    }

    @Test(arguments: adversarialCases)
    func adversarialStreamKeepsEveryPropertyAndMatchesTheReference(_ c: StreamCase) throws {
        guard case .adversarial(let accounts, let maxResting) = c.source else { return }
        var run = try StreamRun(orderCapacity: c.orderCapacity, symbols: adversarialSymbols)
        var stream = AdversarialStream(
            seed: c.seed, accounts: UInt32(accounts), maxResting: maxResting,
            ceiling: run.engine.configuration.quantityCeiling)
        for _ in 0..<c.commands { run.submit(stream.next(shadow: run.reference)) }
        run.finish()
        // The stream reached every outcome it was built for.
        let counts = run.checker.counts
        var wanted = [
            "fill", "canceled requested", "canceled self_trade_prevention", "canceled ioc_remainder",
            "canceled market_remainder", "replaced kept", "replaced moved",
        ]
        wanted += RejectReason.allCases.filter { $0 != .capacityExhausted }.map { "rejected \($0)" }
        if c.orderCapacity < 1_000 { wanted.append("rejected capacity_exhausted") }
        for key in wanted { #expect((counts[key] ?? 0) > 0, "never saw \(key): \(counts)") }
    }
}
