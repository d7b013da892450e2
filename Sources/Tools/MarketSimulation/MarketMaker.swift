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
        /// Size tilt with inventory: the side that reduces it is shown up to e^(sizeSkew) larger, the
        /// other as much smaller (asymmetric sizes for a legitimate reason).
        var sizeSkew: Double
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
                sizeSkew: rng.chance(0.7) ? rng.uniform(0.3, 1.6) : 0,
                maxInventory: Int64(sizeMedian * rng.logUniform(20, 100)), imbalanceWeight: rng.uniform(0, 0.8),
                imbalanceLevels: rng.integer(1...3), fundamentalWeight: rng.uniform(0.02, 0.3),
                replaceShare: rng.uniform(0.2, 0.9), refreshRate: rng.logUniform(0.3, 4),
                flickerShare: rng.uniform(0, 0.3),
                latency: rng.logUniform(50e-6, 2e-3), tolerance: rng.uniform(0.5, 1.5))
        }
    }

    /// The left-out adversarial variant (``AgentKind/mimicSpoofer``, after Wang & Wellman 2020): a
    /// maker that, episode after episode, shows m × its normal size on levels 2…k+1 of one side
    /// while its own touch quote on the other side is the genuine leg, and goes back to normal
    /// sizes shortly after that quote fills (or on a timeout).
    struct Mimicry {
        var multiplier: ClosedRange<Double>
        /// Inflated levels behind the touch (1…3).
        var levels: Int
        /// Mean pause between episodes, seconds.
        var pause: Double
        var timeout: Double
        var pullDelay: ClosedRange<Double>

        static func random(_ rng: inout SplitMix64) -> Mimicry {
            let low = rng.uniform(2, 5)
            let shortest = rng.logUniform(0.0005, 0.01)
            return Mimicry(
                multiplier: low...rng.uniform(low, 10), levels: rng.integer(1...3), pause: rng.logUniform(2, 15),
                timeout: rng.uniform(0.5, 5), pullDelay: shortest...(shortest + rng.logUniform(0.005, 0.3)))
        }
    }

    let parameters: Parameters
    let mimicry: Mimicry?
    /// The side whose levels are inflated in the current episode (nil: none).
    private var spoofSide: Side?
    private var episode: UInt64 = 0
    private var multiple = 1.0
    private var genuine: OrderID?
    private var episodeEnd: UInt64 = .max
    private var nextEpisode: UInt64 = .max
    /// The working order of each ladder slot, per side (nil: empty slot).
    private var bids: [OrderID?]
    private var asks: [OrderID?]
    private var nextRefresh: UInt64 = 0
    /// The center of the ladder as last quoted (nil: not quoted yet).
    private var quotedCenter: Double?
    /// The touch of others when last looked at: only a change of it makes the maker look again.
    private var seenTouch: (bid: Price?, ask: Price?) = (nil, nil)
    override var reactsToBook: Bool { true }

    init(
        _ parameters: Parameters, mimicry: Mimicry? = nil, account: AccountID, index: Int, rng: SplitMix64
    ) {
        var parameters = parameters
        if let mimicry {
            parameters.levels = max(parameters.levels, mimicry.levels + 1)
            parameters.flickerShare = 0
        }
        self.parameters = parameters
        self.mimicry = mimicry
        bids = Array(repeating: nil, count: parameters.levels)
        asks = Array(repeating: nil, count: parameters.levels)
        super.init(kind: mimicry == nil ? .marketMaker : .mimicSpoofer, account: account, index: index, rng: rng)
    }

    override func start(_ market: Market) {
        nextRefresh = market.now + nanoseconds(rng.exponential(mean: 1 / parameters.refreshRate))
        if let mimicry { nextEpisode = market.now + nanoseconds(rng.exponential(mean: mimicry.pause)) }
        market.schedule(self, after: rng.uniform(0, 0.01))
    }

    override func filled(
        _ id: OrderID, side: Side, price: Price, quantity: Quantity, leaves: Quantity, market: Market
    ) {
        guard let mimicry, id == genuine, leaves == 0 else { return }
        genuine = nil
        market.episodeSucceeded()
        let delay = rng.uniform(mimicry.pullDelay.lowerBound, mimicry.pullDelay.upperBound)
        episodeEnd = min(episodeEnd, market.now + nanoseconds(delay))
        market.schedule(self, at: episodeEnd)
    }

    /// Starts an episode: the touch quote of one side is the genuine leg, the levels behind the
    /// touch of the other side are canceled and re-sent m times larger (labeled spoof legs).
    private func startEpisode(_ mimicry: Mimicry, _ market: Market) {
        nextEpisode = .max
        let side: Side = rng.chance(0.5) ? .buy : .sell
        guard let touchQuote = (side == .buy ? asks : bids)[0], orders.contains(touchQuote) else {
            nextEpisode = market.now + nanoseconds(rng.exponential(mean: mimicry.pause))
            return
        }
        spoofSide = side
        genuine = touchQuote
        episode = market.startEpisode()
        multiple = rng.uniform(mimicry.multiplier.lowerBound, mimicry.multiplier.upperBound)
        episodeEnd = market.now + nanoseconds(mimicry.timeout * rng.uniform(0.5, 1.5))
        for level in 1...mimicry.levels {
            if let id = (side == .buy ? bids : asks)[level] { market.cancel(id, by: self) }
            setSlot(side, level, nil)  // requote re-sends it inflated
        }
    }

    /// Ends the episode: the inflated orders are canceled; requote sends normal sizes again.
    private func endEpisode(_ mimicry: Mimicry, _ market: Market) {
        if let side = spoofSide {
            for level in 1...mimicry.levels {
                if let id = (side == .buy ? bids : asks)[level] { market.cancel(id, by: self) }
                setSlot(side, level, nil)
            }
        }
        spoofSide = nil
        genuine = nil
        episodeEnd = .max
        nextEpisode = market.now + nanoseconds(rng.exponential(mean: mimicry.pause))
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
        if let mimicry {
            if spoofSide == nil && market.now >= nextEpisode {
                startEpisode(mimicry, market)
            } else if spoofSide != nil && market.now >= episodeEnd {
                endEpisode(mimicry, market)
            }
        }
        requote(market, flicker: flicker)
        market.schedule(self, at: min(nextRefresh, spoofSide == nil ? nextEpisode : episodeEnd))
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
                let tilt = exp(parameters.sizeSkew * max(-1, min(1, inventory)) * (side == .sell ? 1 : -1))
                var size = Int64((parameters.size * tilt * pow(parameters.sizeGrowth, Double(level))).rounded())
                var role = OrderRole.plain
                if side == spoofSide, let mimicry, level >= 1 && level <= mimicry.levels {
                    size = Int64((Double(size) * multiple).rounded())
                    role = .spoof
                }
                updateSlot(
                    side, level, price: price, size: size, quoting: quoting, flicker: flicker, role: role, market)
            }
        }
    }

    private func updateSlot(
        _ side: Side, _ level: Int, price: Price, size: Quantity, quoting: Bool, flicker: Bool, role: OrderRole,
        _ market: Market
    ) {
        let current = side == .buy ? bids[level] : asks[level]
        let episode = role == .spoof ? self.episode : 0
        guard let id = current, let working = orders[id] else {
            if quoting && price >= 1 {
                let id = market.send(side, price: price, quantity: size, by: self, role: role, episode: episode)
                setSlot(side, level, id)
            }
            return
        }
        if !quoting {
            market.cancel(id, by: self)
            setSlot(side, level, nil)
        } else if flicker || (working.price != price && !rng.chance(parameters.replaceShare)) {
            market.cancel(id, by: self)
            let id = market.send(side, price: price, quantity: size, by: self, role: role, episode: episode)
            setSlot(side, level, id)
        } else if working.price != price {
            market.replace(id, price: price, quantity: size, by: self, episode: episode)
        } else if working.leaves * 3 < size || working.leaves > size * 2 {
            market.replace(id, quantity: size, by: self, episode: episode)
        }
    }

    private func setSlot(_ side: Side, _ level: Int, _ id: OrderID?) {
        let live = id.flatMap { orders.contains($0) ? $0 : nil }
        if side == .buy { bids[level] = live } else { asks[level] = live }
    }
}
