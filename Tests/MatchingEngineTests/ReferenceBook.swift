import ChronosCore
import MatchingEngine

/// A deliberately naive reference exchange, written straight from the replay spec's matching
/// rules (docs/replay.md for the choices the spec leaves open), for differential tests.
///
/// Every side of every book is a plain array of orders in time order (the order an order
/// reached the back of the queue): the best maker is found by a full scan for the best price,
/// the first order at that price being the oldest. Nothing is indexed or linked; every
/// question is answered by scanning. It produces the engine's full events, sequence numbers,
/// trade ids, leaves and reasons included, so that the two can be compared field by field.
final class ReferenceExchange {
    struct Order: Equatable {
        var id: OrderID
        var account: AccountID
        var side: Side
        var price: Price
        var leaves: Quantity
        var postOnly: Bool
    }

    struct Book {
        var config: SymbolConfiguration
        /// Per side, in time order (oldest first). Index 0 = buy, 1 = sell.
        var sides: [[Order]] = [[], []]
    }

    private(set) var books: [Book] = []
    /// Ids that were accepted at some point (rule 10: a rejected id is not used up).
    private(set) var used: Set<OrderID> = []
    private(set) var nextSequence: UInt64 = 1
    private(set) var nextTradeID: UInt64 = 1
    let orderCapacity: Int
    let quantityCeiling: Quantity
    private var out: [EngineEvent] = []

    init(configuration: EngineConfiguration, symbols: [SymbolConfiguration]) {
        orderCapacity = configuration.orderCapacity
        quantityCeiling = configuration.quantityCeiling
        books = symbols.map { Book(config: $0) }
    }

    var restingCount: Int { books.reduce(0) { $0 + $1.sides[0].count + $1.sides[1].count } }

    /// Resting orders of one side in priority order: best price first, then oldest first.
    func restingOrders(_ symbol: SymbolID, _ side: Side) -> [Order] {
        let orders = books[Int(symbol.rawValue)].sides[Int(side.rawValue)]
        // A stable sort by price keeps time order within a price.
        return orders.enumerated().sorted { a, b in
            if a.element.price != b.element.price { return better(a.element.price, than: b.element.price, side) }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Where the order `id` rests on `symbol`, by scanning both sides.
    func find(_ id: OrderID, symbol: SymbolID) -> (side: Side, index: Int)? {
        guard Int(symbol.rawValue) < books.count else { return nil }
        for side in Side.allCases {
            if let i = books[Int(symbol.rawValue)].sides[Int(side.rawValue)].firstIndex(where: { $0.id == id }) {
                return (side, i)
            }
        }
        return nil
    }

    /// Every resting order of every symbol (for stream generators that need targets).
    func allResting() -> [(symbol: SymbolID, order: Order)] {
        var result: [(SymbolID, Order)] = []
        for (b, book) in books.enumerated() {
            for side in book.sides { for o in side { result.append((SymbolID(UInt32(b)), o)) } }
        }
        return result
    }

    func bestPrice(_ symbol: SymbolID, _ side: Side) -> Price? {
        var best: Price?
        for o in books[Int(symbol.rawValue)].sides[Int(side.rawValue)] {
            if best == nil || better(o.price, than: best!, side) { best = o.price }
        }
        return best
    }

    // MARK: Commands

    func process(_ command: EngineCommand) -> [EngineEvent] {
        out = []
        switch command {
        case .new(let o): new(o)
        case .cancel(let c): cancel(c)
        case .replace(let r): replace(r)
        }
        return out
    }

    private func seq() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    private func reject(
        _ id: OrderID, _ account: AccountID, _ symbol: SymbolID, _ kind: CommandKind,
        _ reason: RejectReason
    ) {
        out.append(
            .rejected(
                OrderRejected(
                    sequence: seq(), id: id, account: account, symbol: symbol,
                    command: kind, reason: reason)))
    }

    private func validPrice(_ c: SymbolConfiguration, _ p: Price) -> Bool {
        p > 0 && p % c.tickSize == 0 && p >= c.minPrice && p <= c.maxPrice
    }

    private func validQuantity(_ c: SymbolConfiguration, _ q: Quantity) -> Bool {
        q > 0 && q % c.lotSize == 0 && q >= c.minQuantity && q <= c.maxQuantity && q <= quantityCeiling
    }

    private func better(_ a: Price, than b: Price, _ side: Side) -> Bool { side == .buy ? a > b : a < b }

    /// True when a resting `makerPrice` is acceptable to a taker of `takerSide` with `limit` (nil: market).
    private func acceptable(_ makerPrice: Price, _ takerSide: Side, _ limit: Price?) -> Bool {
        guard let limit else { return true }
        return takerSide == .buy ? makerPrice <= limit : makerPrice >= limit
    }

    private func new(_ o: NewOrder) {
        let b = Int(o.symbol.rawValue)
        let isLimit = o.type == .limit
        if !isLimit && o.postOnly { return reject(o.id, o.account, o.symbol, .new, .malformed) }
        guard b < books.count else { return reject(o.id, o.account, o.symbol, .new, .unknownSymbol) }
        let config = books[b].config
        if used.contains(o.id) { return reject(o.id, o.account, o.symbol, .new, .duplicateID) }
        if isLimit && !validPrice(config, o.price) { return reject(o.id, o.account, o.symbol, .new, .invalidPrice) }
        if !validQuantity(config, o.quantity) { return reject(o.id, o.account, o.symbol, .new, .invalidQuantity) }
        let tif: TimeInForce = isLimit ? o.timeInForce : .immediateOrCancel
        let limit: Price? = isLimit ? o.price : nil
        if o.postOnly, let touch = bestPrice(o.symbol, o.side.opposite), acceptable(touch, o.side, limit) {
            return reject(o.id, o.account, o.symbol, .new, .postOnlyWouldCross)
        }
        if tif == .fillOrKill && !canFill(o.symbol, o.side, limit, o.quantity, o.account) {
            return reject(o.id, o.account, o.symbol, .new, .fillOrKillUnfillable)
        }
        if tif == .goodTillCancel && restingCount >= orderCapacity {
            return reject(o.id, o.account, o.symbol, .new, .capacityExhausted)
        }
        used.insert(o.id)
        out.append(
            .accepted(
                OrderAccepted(
                    sequence: seq(), id: o.id, account: o.account, symbol: o.symbol,
                    side: o.side, type: o.type, timeInForce: tif, postOnly: o.postOnly,
                    price: isLimit ? o.price : 0, quantity: o.quantity)))
        let (remaining, selfTrade) = match(o.symbol, o.side, limit, o.quantity, o.id, o.account)
        if remaining == 0 { return }
        if selfTrade || tif != .goodTillCancel {
            let reason: CancelReason =
                selfTrade
                ? .selfTradePrevention
                : (isLimit ? .immediateOrCancelRemainder : .marketRemainder)
            out.append(
                .canceled(
                    OrderCanceled(
                        sequence: seq(), id: o.id, account: o.account, symbol: o.symbol,
                        side: o.side, quantity: remaining, reason: reason)))
            return
        }
        books[b].sides[Int(o.side.rawValue)].append(
            Order(
                id: o.id, account: o.account, side: o.side, price: o.price, leaves: remaining,
                postOnly: o.postOnly))
    }

    private func cancel(_ c: CancelOrder) {
        let b = Int(c.symbol.rawValue)
        guard b < books.count else { return reject(c.id, c.account, c.symbol, .cancel, .unknownSymbol) }
        guard let (side, i) = find(c.id, symbol: c.symbol) else {
            return reject(c.id, c.account, c.symbol, .cancel, .unknownOrder)
        }
        let order = books[b].sides[Int(side.rawValue)][i]
        guard order.account == c.account else { return reject(c.id, c.account, c.symbol, .cancel, .notOwner) }
        books[b].sides[Int(side.rawValue)].remove(at: i)
        out.append(
            .canceled(
                OrderCanceled(
                    sequence: seq(), id: c.id, account: c.account, symbol: c.symbol,
                    side: side, quantity: order.leaves, reason: .requested)))
    }

    private func replace(_ r: ReplaceOrder) {
        let b = Int(r.symbol.rawValue)
        if r.price == nil && r.quantity == nil { return reject(r.id, r.account, r.symbol, .replace, .malformed) }
        guard b < books.count else { return reject(r.id, r.account, r.symbol, .replace, .unknownSymbol) }
        guard let (side, i) = find(r.id, symbol: r.symbol) else {
            return reject(r.id, r.account, r.symbol, .replace, .unknownOrder)
        }
        let s = Int(side.rawValue)
        let order = books[b].sides[s][i]
        guard order.account == r.account else { return reject(r.id, r.account, r.symbol, .replace, .notOwner) }
        let config = books[b].config
        if let p = r.price, !validPrice(config, p) { return reject(r.id, r.account, r.symbol, .replace, .invalidPrice) }
        if let q = r.quantity, !validQuantity(config, q) {
            return reject(r.id, r.account, r.symbol, .replace, .invalidQuantity)
        }
        let newPrice = r.price ?? order.price
        let newQuantity = r.quantity ?? order.leaves
        if order.postOnly, let touch = bestPrice(r.symbol, side.opposite), acceptable(touch, side, newPrice) {
            return reject(r.id, r.account, r.symbol, .replace, .postOnlyWouldCross)
        }
        if newPrice == order.price {
            // Rule 17: less (or equal) keeps the place, more goes to the back of the level.
            let kept = newQuantity <= order.leaves
            books[b].sides[s][i].leaves = newQuantity
            if !kept {
                let moved = books[b].sides[s].remove(at: i)
                books[b].sides[s].append(moved)
            }
            out.append(
                .replaced(
                    OrderReplaced(
                        sequence: seq(), id: r.id, account: r.account, symbol: r.symbol,
                        side: side, price: newPrice, quantity: newQuantity,
                        keptPriority: kept)))
            return
        }
        // Rule 8: a price change loses priority and may trade like a new order.
        books[b].sides[s].remove(at: i)
        out.append(
            .replaced(
                OrderReplaced(
                    sequence: seq(), id: r.id, account: r.account, symbol: r.symbol,
                    side: side, price: newPrice, quantity: newQuantity, keptPriority: false)))
        let (remaining, selfTrade) = match(r.symbol, side, newPrice, newQuantity, r.id, r.account)
        if remaining == 0 { return }
        if selfTrade {
            out.append(
                .canceled(
                    OrderCanceled(
                        sequence: seq(), id: r.id, account: r.account, symbol: r.symbol,
                        side: side, quantity: remaining, reason: .selfTradePrevention)))
            return
        }
        books[b].sides[s].append(
            Order(
                id: r.id, account: r.account, side: side, price: newPrice,
                leaves: remaining, postOnly: order.postOnly))
    }

    /// Index of the best (best price, then oldest) order of one side, by a full scan.
    private func bestIndex(_ b: Int, _ side: Side) -> Int? {
        var best: Int?
        for (i, o) in books[b].sides[Int(side.rawValue)].enumerated() {
            if let j = best {
                if better(o.price, than: books[b].sides[Int(side.rawValue)][j].price, side) { best = i }
            } else {
                best = i
            }
        }
        return best
    }

    /// Rules 1 and 7: trade against the opposite side in priority order at the makers' prices,
    /// stopping at the limit, when filled, or at the first maker of the taker's own account.
    private func match(
        _ symbol: SymbolID, _ side: Side, _ limit: Price?, _ quantity: Quantity, _ id: OrderID,
        _ account: AccountID
    ) -> (Quantity, Bool) {
        let b = Int(symbol.rawValue)
        let ms = Int(side.opposite.rawValue)
        var remaining = quantity
        while remaining > 0, let i = bestIndex(b, side.opposite) {
            let maker = books[b].sides[ms][i]
            guard acceptable(maker.price, side, limit) else { break }
            if maker.account == account { return (remaining, true) }
            let traded = min(remaining, maker.leaves)
            remaining -= traded
            let makerLeaves = maker.leaves - traded
            out.append(
                .fill(
                    Fill(
                        sequence: seq(), tradeID: TradeID(nextTradeID), symbol: symbol, takerID: id,
                        makerID: maker.id, takerAccount: account, makerAccount: maker.account,
                        takerSide: side, price: maker.price, quantity: traded, takerLeaves: remaining,
                        makerLeaves: makerLeaves)))
            nextTradeID += 1
            if makerLeaves == 0 {
                books[b].sides[ms].remove(at: i)
            } else {
                books[b].sides[ms][i].leaves = makerLeaves
            }
        }
        return (remaining, false)
    }

    /// Rules 5 and 16: whether `quantity` fills at `limit` or better before reaching an order of
    /// the same account, walking a sorted copy of the opposite side.
    private func canFill(
        _ symbol: SymbolID, _ side: Side, _ limit: Price?, _ quantity: Quantity,
        _ account: AccountID
    ) -> Bool {
        var needed = quantity
        for maker in restingOrders(symbol, side.opposite) {
            guard acceptable(maker.price, side, limit) else { return false }
            if maker.account == account { return false }
            needed -= maker.leaves
            if needed <= 0 { return true }
        }
        return false
    }
}

/// A resting order as the tests compare it (the engine's `RestingOrder` has no public init).
struct RestingView: Hashable, CustomStringConvertible {
    var id: UInt64
    var account: UInt32
    var price: Price
    var leaves: Quantity
    var postOnly: Bool

    init(_ o: RestingOrder) {
        (id, account, price, leaves, postOnly) = (
            o.id.rawValue, o.account.rawValue, o.price, o.leavesQuantity,
            o.postOnly
        )
    }

    init(_ o: ReferenceExchange.Order) {
        (id, account, price, leaves, postOnly) = (o.id.rawValue, o.account.rawValue, o.price, o.leaves, o.postOnly)
    }

    var description: String { "#\(id)@\(price)x\(leaves)(a\(account)\(postOnly ? ",po" : ""))" }
}
