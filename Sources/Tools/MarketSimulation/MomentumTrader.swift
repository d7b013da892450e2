import ChronosCore
import Workload

/// Follows the book: buys when the bids of the top levels outweigh the asks by more than a
/// threshold (or the mid rose over a window), sells in the mirror case; mostly by taking
/// liquidity. This is the trader a spoofer targets (Wang & Wellman: only book-reading traders
/// can be spoofed). A cooldown and a position limit keep it from trading on every tick; a timer
/// unwinds its position now and then.
final class MomentumTrader: Agent {
    struct Parameters {
        /// Price levels per side that the imbalance counts.
        var levels: Int
        /// Imbalance beyond which it trades (0…1).
        var threshold: Double
        /// Mid move (ticks) over `window` seconds that also triggers it; 0 = imbalance only.
        var momentumTicks: Double
        var window: Double
        var sizeMedian: Double
        var sizeSigma: Double
        /// Share of market orders; the rest are IOC limits through the touch or, with
        /// `passiveShare`, a join at its own touch.
        var marketShare: Double
        var passiveShare: Double
        /// Seconds between trades at least.
        var cooldown: Double
        /// Seconds from a book change to acting.
        var latency: Double
        var maxPosition: Int64
        /// Unwind checks per second.
        var unwindRate: Double

        static func random(_ rng: inout SplitMix64, sizeMedian: Double) -> Parameters {
            Parameters(
                levels: rng.integer(2...5), threshold: rng.uniform(0.2, 0.55),
                momentumTicks: rng.chance(0.5) ? rng.uniform(2, 6) : 0, window: rng.uniform(0.5, 5),
                sizeMedian: sizeMedian * rng.logUniform(1, 4), sizeSigma: rng.uniform(0.3, 0.8),
                marketShare: rng.uniform(0.2, 0.7), passiveShare: rng.uniform(0, 0.2),
                cooldown: rng.logUniform(0.02, 0.5),
                latency: rng.logUniform(100e-6, 5e-3), maxPosition: Int64(sizeMedian * rng.logUniform(20, 80)),
                unwindRate: rng.uniform(0.1, 1))
        }
    }

    let parameters: Parameters
    private var readyAt: UInt64 = 0
    private var nextUnwind: UInt64 = 0
    private var anchorMid = 0.0
    private var anchorTime: UInt64 = 0
    override var reactsToBook: Bool { true }

    init(_ parameters: Parameters, account: AccountID, index: Int, rng: SplitMix64) {
        self.parameters = parameters
        super.init(kind: .momentum, account: account, index: index, rng: rng)
    }

    override func start(_ market: Market) {
        nextUnwind = market.now + nanoseconds(rng.exponential(mean: 1 / parameters.unwindRate))
        anchorTime = market.now
        anchorMid = market.referencePrice
        market.schedule(self, at: nextUnwind)
    }

    override func bookChanged(_ market: Market) {
        market.schedule(self, at: max(market.now + nanoseconds(parameters.latency), readyAt))
    }

    override func wake(_ market: Market) {
        if market.now >= nextUnwind {
            // Passive orders from earlier signals are stale by now.
            for order in orders.items { market.cancel(order.id, by: self) }
            nextUnwind = market.now + nanoseconds(rng.exponential(mean: 1 / parameters.unwindRate))
            if position != 0 && rng.chance(0.5) {
                let side: Side = position > 0 ? .sell : .buy
                let size = min(abs(position), rng.lots(median: parameters.sizeMedian, sigma: parameters.sizeSigma))
                take(side, size: size, market)
            }
        }
        if market.now >= readyAt, let side = signal(market) {
            let size = rng.lots(median: parameters.sizeMedian, sigma: parameters.sizeSigma)
            let room = side == .buy ? parameters.maxPosition - position : parameters.maxPosition + position
            if room > 0 {
                if rng.chance(parameters.passiveShare), let touch = market.touch(side) {
                    market.send(side, price: touch, quantity: min(size, room), by: self)
                } else {
                    take(side, size: min(size, room), market)
                }
                readyAt = market.now + nanoseconds(parameters.cooldown * rng.uniform(0.5, 1.5))
            }
        }
        market.schedule(self, at: nextUnwind)
    }

    private func signal(_ market: Market) -> Side? {
        let imbalance = market.imbalance(levels: parameters.levels)
        if imbalance > parameters.threshold { return .buy }
        if imbalance < -parameters.threshold { return .sell }
        guard parameters.momentumTicks > 0 else { return nil }
        let mid = market.referencePrice
        if Double(market.now - anchorTime) / 1e9 > parameters.window {
            anchorTime = market.now
            anchorMid = mid
            return nil
        }
        if mid - anchorMid >= parameters.momentumTicks { return .buy }
        if anchorMid - mid >= parameters.momentumTicks { return .sell }
        return nil
    }

    private func take(_ side: Side, size: Quantity, _ market: Market) {
        guard size > 0 else { return }
        if rng.chance(parameters.marketShare) {
            market.send(side, price: 0, quantity: size, by: self, type: .market)
        } else if let opposite = market.touch(side.opposite) {
            let through = Int64(rng.integer(0...1))
            market.send(
                side, price: side == .buy ? opposite + through : opposite - through, quantity: size, by: self,
                timeInForce: .immediateOrCancel)
        }
    }
}
