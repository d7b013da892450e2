import ChronosCore
import Workload

/// Zero-intelligence flow with a slight pull toward the fundamental: Poisson arrivals of limit
/// orders (a geometric number of ticks behind the touch, sometimes inside the spread), market
/// orders and cancels of a random own order; lognormal sizes. Now and then a fat finger: a very
/// large order canceled within a second (a legitimate large-and-canceled order, label 0).
final class NoiseTrader: Agent {
    struct Parameters {
        /// Arrivals per second.
        var rate: Double
        var marketShare: Double
        var cancelShare: Double
        /// Median order size in lots and its log-sd.
        var sizeMedian: Double
        var sizeSigma: Double
        /// Mean distance behind the touch of passive orders, ticks.
        var meanDepth: Double
        /// Probability that a limit order improves the touch when the spread allows.
        var insideShare: Double
        /// Working orders at most (above it, the trader cancels instead).
        var maxWorking: Int
        /// Probability that a limit order is a fat finger (×10–40 size, canceled soon).
        var fatFingerShare: Double
        /// How strongly the side leans toward the fundamental (0 = coin flip).
        var valueTilt: Double

        static func random(_ rng: inout SplitMix64, sizeMedian: Double) -> Parameters {
            Parameters(
                rate: rng.logUniform(0.5, 8), marketShare: rng.uniform(0.03, 0.12), cancelShare: rng.uniform(0.15, 0.4),
                sizeMedian: sizeMedian * rng.logUniform(0.5, 2), sizeSigma: rng.uniform(0.5, 1.1),
                meanDepth: rng.uniform(0.5, 5), insideShare: rng.uniform(0.02, 0.15), maxWorking: rng.integer(4...25),
                fatFingerShare: rng.chance(0.3) ? rng.uniform(0.002, 0.01) : 0, valueTilt: rng.uniform(0, 0.6))
        }
    }

    let parameters: Parameters
    /// A fat-finger order to pull, and when.
    private var fatFinger: (id: OrderID, at: UInt64)?
    private var nextArrival: UInt64 = 0

    init(_ parameters: Parameters, account: AccountID, index: Int, rng: SplitMix64) {
        self.parameters = parameters
        super.init(kind: .noise, account: account, index: index, rng: rng)
    }

    override func start(_ market: Market) {
        nextArrival = market.now + nanoseconds(rng.exponential(mean: 1 / parameters.rate))
        market.schedule(self, at: nextArrival)
    }

    override func wake(_ market: Market) {
        if let pending = fatFinger, market.now >= pending.at {
            fatFinger = nil
            market.cancel(pending.id, by: self)
        }
        if market.now >= nextArrival {
            act(market)
            nextArrival = market.now + nanoseconds(rng.exponential(mean: 1 / parameters.rate))
        }
        market.schedule(self, at: min(nextArrival, fatFinger?.at ?? .max))
    }

    override func removed(_ id: OrderID, market: Market) {
        if fatFinger?.id == id { fatFinger = nil }
    }

    override func filled(
        _ id: OrderID, side: Side, price: Price, quantity: Quantity, leaves: Quantity, market: Market
    ) {
        if leaves == 0, fatFinger?.id == id { fatFinger = nil }
    }

    private func act(_ market: Market) {
        let roll = rng.unit()
        let wantsCancel = roll < parameters.cancelShare || orders.count >= parameters.maxWorking
        if wantsCancel, !orders.isEmpty {
            let victim = orders.items[rng.integer(0...(orders.count - 1))]
            if victim.id != fatFinger?.id { market.cancel(victim.id, by: self) }
            return
        }
        let reference = market.referencePrice
        let lean = parameters.valueTilt * tanh((market.fundamental - reference) / 3)
        let side: Side = rng.chance(0.5 + 0.5 * lean) ? .buy : .sell
        var size = rng.lots(median: parameters.sizeMedian, sigma: parameters.sizeSigma)
        if roll < parameters.cancelShare + parameters.marketShare {
            market.send(side, price: 0, quantity: size, by: self, type: .market)
            return
        }
        let price: Price
        if let spread = market.spread, spread > 1, rng.chance(parameters.insideShare) {
            price = side == .buy ? market.bestBid! + 1 : market.bestAsk! - 1
        } else if let touch = market.touch(side) {
            let behind = rng.geometric(mean: parameters.meanDepth)
            price = side == .buy ? touch - behind : touch + behind
        } else {
            let behind = 1 + rng.geometric(mean: parameters.meanDepth)
            price = Price(reference.rounded()) + (side == .buy ? -behind : behind)
        }
        let fat = fatFinger == nil && rng.chance(parameters.fatFingerShare)
        if fat { size *= Int64(rng.integer(10...40)) }
        let id = market.send(side, price: price, quantity: size, by: self)
        if fat && orders.contains(id) { fatFinger = (id, market.now + nanoseconds(rng.uniform(0.02, 0.8))) }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
