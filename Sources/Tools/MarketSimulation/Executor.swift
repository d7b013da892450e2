import ChronosCore
import Workload

/// A large legitimate parent order worked in time slices (TWAP style): each slice joins its own
/// touch or takes liquidity; an unfilled passive child is canceled or re-priced at the next
/// slice. Some children are shown large (several times the touch): large, near the touch and
/// often canceled, yet legitimate.
final class Executor: Agent {
    struct Parameters {
        var parentMedian: Double
        /// Parent horizon range, seconds.
        var horizon: Double
        /// Seconds between slices.
        var sliceInterval: Double
        var passiveShare: Double
        /// Share of unfilled passive children canceled (the rest are re-priced by a replace).
        var cancelShare: Double
        /// Share of passive children shown at 2–5× the touch quantity.
        var largeChildShare: Double
        /// Mean pause between parents, seconds.
        var pause: Double

        static func random(_ rng: inout SplitMix64, sizeMedian: Double) -> Parameters {
            Parameters(
                parentMedian: sizeMedian * rng.logUniform(30, 150), horizon: rng.uniform(20, 200),
                sliceInterval: rng.logUniform(0.3, 5), passiveShare: rng.uniform(0.3, 0.9),
                cancelShare: rng.uniform(0.3, 1),
                largeChildShare: rng.chance(0.5) ? rng.uniform(0.05, 0.3) : 0, pause: rng.uniform(2, 40))
        }
    }

    let parameters: Parameters
    private var side = Side.buy
    private var remaining: Quantity = 0
    private var slicesLeft = 0
    private var child: OrderID?
    private var nextSlice: UInt64 = 0

    init(_ parameters: Parameters, account: AccountID, index: Int, rng: SplitMix64) {
        self.parameters = parameters
        super.init(kind: .executor, account: account, index: index, rng: rng)
    }

    override func start(_ market: Market) {
        nextSlice = market.now + nanoseconds(rng.exponential(mean: parameters.pause))
        market.schedule(self, at: nextSlice)
    }

    override func filled(
        _ id: OrderID, side: Side, price: Price, quantity: Quantity, leaves: Quantity, market: Market
    ) {
        remaining = max(0, remaining - quantity)
        if leaves == 0 && child == id { child = nil }
    }

    override func removed(_ id: OrderID, market: Market) { if child == id { child = nil } }

    override func wake(_ market: Market) {
        if remaining == 0 {
            if let child { market.cancel(child, by: self) }
            // A new parent: side, size and schedule.
            side = rng.chance(0.5) ? .buy : .sell
            remaining = max(1, Quantity(rng.logNormal(median: parameters.parentMedian, sigma: 0.6).rounded()))
            let horizon = parameters.horizon * rng.uniform(0.5, 1.5)
            slicesLeft = max(1, Int(horizon / parameters.sliceInterval))
        }
        if let child, let working = orders[child] {
            if rng.chance(parameters.cancelShare) {
                market.cancel(child, by: self)
            } else if let touch = market.touch(side), touch != working.price {
                market.replace(child, price: touch, by: self)
            }
        }
        if child == nil || !orders.contains(child!) { slice(market) }
        slicesLeft = max(slicesLeft - 1, 0)
        if remaining > 0 && slicesLeft > 0 {
            nextSlice = market.now + nanoseconds(parameters.sliceInterval * rng.uniform(0.7, 1.3))
        } else {
            remaining = 0
            nextSlice = market.now + nanoseconds(rng.exponential(mean: parameters.pause))
        }
        market.schedule(self, at: nextSlice)
    }

    private func slice(_ market: Market) {
        let size = max(1, Quantity((Double(remaining) / Double(max(slicesLeft, 1)) * rng.uniform(0.6, 1.4)).rounded()))
        if rng.chance(parameters.passiveShare), let touch = market.touch(side) {
            var shown = min(size, remaining)
            if rng.chance(parameters.largeChildShare) {
                let touchQuantity = market.quantity(at: touch, side)
                shown = min(remaining, max(shown, Quantity(Double(touchQuantity) * rng.uniform(2, 5))))
            }
            child = market.send(side, price: touch, quantity: shown, by: self)
            if let id = child, !orders.contains(id) { child = nil }
        } else if let opposite = market.touch(side.opposite) {
            market.send(
                side, price: opposite, quantity: min(size, remaining), by: self, timeInForce: .immediateOrCancel)
        }
    }
}
