import ChronosCore
import Workload

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A two-sided ladder of 1–5 levels per side around a fair value (the mid, leaning on the book's
/// imbalance and on the fundamental), skewed against inventory, re-quoted shortly after every
/// book change and refreshed (sometimes all canceled and re-sent) on a timer. Large orders near
/// the touch and a very high cancel-and-replace rate, but symmetric: the hard negatives.
final class MarketMaker: Agent {
    struct Parameters {
        var levels: Int
        /// Distance from the fair value to the first quote, ticks.
        var halfSpread: Double
        /// Ticks between ladder levels.
        var levelGap: Int64
        /// Size of the first level, lots, and the growth per level further out.
        var size: Double
        var sizeGrowth: Double
        /// Quote shift at full inventory, ticks (against the inventory).
        var skew: Double
        /// Inventory at which the skew is full; beyond it the side that adds to it is pulled.
        var maxInventory: Int64
        /// Weight of the book imbalance (top `imbalanceLevels`) on the fair value, in half-spreads.
        var imbalanceWeight: Double
        var imbalanceLevels: Int
        /// Weight of the fundamental on the fair value.
        var fundamentalWeight: Double
        /// Probability that a re-price is a replace (else cancel and new).
        var replaceShare: Double
        /// Timer refreshes per second, and the share of them that cancel and re-send everything.
        var refreshRate: Double
        var flickerShare: Double
        /// Delay between seeing a book change and acting, seconds.
        var latency: Double
        /// How far (ticks) the fair value must move from the quoted center before the ladder moves.
        var tolerance: Double

        static func random(_ rng: inout SplitMix64, sizeMedian: Double) -> Parameters {
            Parameters(
                levels: rng.integer(1...5), halfSpread: rng.uniform(0.5, 2.5), levelGap: rng.chance(0.7) ? 1 : 2,
                size: sizeMedian * rng.logUniform(1.5, 8), sizeGrowth: rng.uniform(1, 1.5), skew: rng.uniform(0.5, 3),
                maxInventory: Int64(sizeMedian * rng.logUniform(20, 100)), imbalanceWeight: rng.uniform(0, 0.8),
                imbalanceLevels: rng.integer(1...3), fundamentalWeight: rng.uniform(0.02, 0.3),
                replaceShare: rng.uniform(0.2, 0.9), refreshRate: rng.logUniform(0.3, 4),
                flickerShare: rng.uniform(0, 0.3),
                latency: rng.logUniform(50e-6, 2e-3), tolerance: rng.uniform(0.5, 1.5))
        }
    }

    let parameters: Parameters
    /// The working order of each ladder slot, per side (nil: empty slot).
    private var bids: [OrderID?]
    private var asks: [OrderID?]
    private var nextRefresh: UInt64 = 0
    /// The center of the ladder as last quoted (nil: not quoted yet).
    private var quotedCenter: Double?
    /// The touch of others when last looked at: only a change of it makes the maker look again.
    private var seenTouch: (bid: Price?, ask: Price?) = (nil, nil)
    override var reactsToBook: Bool { true }

    init(_ parameters: Parameters, account: AccountID, index: Int, rng: SplitMix64) {
        self.parameters = parameters
        bids = Array(repeating: nil, count: parameters.levels)
        asks = Array(repeating: nil, count: parameters.levels)
        super.init(kind: .marketMaker, account: account, index: index, rng: rng)
    }

    override func start(_ market: Market) {
        nextRefresh = market.now + nanoseconds(rng.exponential(mean: 1 / parameters.refreshRate))
        market.schedule(self, after: rng.uniform(0, 0.01))
    }

    override func bookChanged(_ market: Market) {
        let touch = (market.touch(.buy, excludingOrdersOf: self), market.touch(.sell, excludingOrdersOf: self))
        guard touch != seenTouch else { return }
        seenTouch = touch
        market.schedule(self, after: parameters.latency)
    }

    override func wake(_ market: Market) {
        var flicker = false
        if market.now >= nextRefresh {
            flicker = rng.chance(parameters.flickerShare)
            nextRefresh = market.now + nanoseconds(rng.exponential(mean: 1 / parameters.refreshRate))
        }
        requote(market, flicker: flicker)
        market.schedule(self, at: nextRefresh)
    }

    /// The microprice of the others' quotes, pulled toward the fundamental.
    private func fairValue(_ market: Market) -> Double {
        guard let bid = market.touch(.buy, excludingOrdersOf: self),
            let ask = market.touch(.sell, excludingOrdersOf: self),
            ask > bid
        else { return market.fundamental }
        let mid = Double(bid + ask) / 2
        let lean = parameters.imbalanceWeight * market.imbalance(levels: parameters.imbalanceLevels)
        let microprice = mid + lean * Double(ask - bid) / 2
        return microprice + parameters.fundamentalWeight * (market.fundamental - microprice)
    }

    private func requote(_ market: Market, flicker: Bool) {
        let fair = fairValue(market)
        let inventory = Double(position) / Double(max(parameters.maxInventory, 1))
        var center = fair - parameters.skew * max(-1, min(1, inventory))
        if let quoted = quotedCenter, abs(center - quoted) < parameters.tolerance, !flicker {
            center = quoted  // within tolerance: keep the ladder where it is, refill what traded
        }
        quotedCenter = center
        var bidTop = Price(floor(center - parameters.halfSpread))
        var askTop = Price(ceil(center + parameters.halfSpread))
        if askTop <= bidTop { askTop = bidTop + 1 }
        bidTop = max(bidTop, 1)
        askTop = max(askTop, bidTop + 1)
        // Move the side that goes away from the other first, so that no quote crosses our own.
        let rising = fair >= market.referencePrice
        for side in rising ? [Side.sell, .buy] : [.buy, .sell] {
            let quoting = side == .buy ? position < parameters.maxInventory : position > -parameters.maxInventory
            for level in 0..<parameters.levels {
                let offset = Int64(level) * parameters.levelGap
                var price = side == .buy ? bidTop - offset : askTop + offset
                // Never cross whatever rests on the other side (a quote is passive).
                if side == .buy, let ask = market.bestAsk { price = min(price, ask - 1) }
                if side == .sell, let bid = market.bestBid { price = max(price, bid + 1) }
                let size = Int64((parameters.size * pow(parameters.sizeGrowth, Double(level))).rounded())
                updateSlot(side, level, price: price, size: size, quoting: quoting, flicker: flicker, market)
            }
        }
    }

    private func updateSlot(
        _ side: Side, _ level: Int, price: Price, size: Quantity, quoting: Bool, flicker: Bool, _ market: Market
    ) {
        let current = side == .buy ? bids[level] : asks[level]
        guard let id = current, let working = orders[id] else {
            if quoting && price >= 1 { setSlot(side, level, market.send(side, price: price, quantity: size, by: self)) }
            return
        }
        if !quoting {
            market.cancel(id, by: self)
            setSlot(side, level, nil)
        } else if flicker || (working.price != price && !rng.chance(parameters.replaceShare)) {
            market.cancel(id, by: self)
            setSlot(side, level, market.send(side, price: price, quantity: size, by: self))
        } else if working.price != price {
            market.replace(id, price: price, quantity: size, by: self)
        } else if working.leaves * 3 < size {
            market.replace(id, quantity: size, by: self)
        }
    }

    private func setSlot(_ side: Side, _ level: Int, _ id: OrderID?) {
        let live = id.flatMap { orders.contains($0) ? $0 : nil }
        if side == .buy { bids[level] = live } else { asks[level] = live }
    }
}
