import ChronosCore
import Workload

/// Spoofing and layering, episode after episode (Coscia, Sarao, Falloon patterns):
///
/// 1. A genuine order on side A: passive at (or one tick inside) its touch, or — in an
///    aggressive episode — an IOC sent after the spoof has moved the book.
/// 2. The spoof on side B, behind the touch: one to three orders of m × the average level
///    quantity (m in 2…10, 1–4 ticks out, ``AgentKind/spoofer``); 3–6 orders on consecutive
///    levels 2–8 ticks out (``AgentKind/layerer``); or m × depth split into 6–15 ordinary-sized
///    orders (``AgentKind/splitSpoofer``, the variant kept out of training).
/// 3. While waiting, spoof legs that the touch moved toward or away from are re-priced to
///    their distance (replaces, labeled like the legs).
/// 4. Shortly after the genuine leg fills (or on a timeout) every leg is canceled; after a
///    pause the next episode starts, usually on the other side.
///
/// Labels: every spoof or layer leg and its re-pricings are 1; the genuine leg is 0. All legs
/// of an episode carry its episode id.
final class Manipulator: Agent {
    struct Parameters {
        var genuineMedian: Double
        /// Range of the size multiple m of the spoof (vs the mean level quantity of side B).
        var multiplier: ClosedRange<Double>
        /// Spoofer: orders per episode at most (1–3). Split spoofer: pieces (6–15). Layerer: levels (3–6).
        var legs: ClosedRange<Int>
        /// Ticks behind the touch of side B.
        var distance: ClosedRange<Int64>
        /// Seconds from the genuine order to the spoof.
        var stagingDelay: Double
        /// Seconds from the genuine fill to the pull (uniform in the range).
        var pullDelay: ClosedRange<Double>
        /// Seconds an episode may wait for its fill.
        var timeout: Double
        /// Mean pause between episodes, seconds.
        var pause: Double
        var flipShare: Double
        /// Share of episodes whose genuine leg is an IOC sent after the spoof.
        var aggressiveShare: Double
        /// Share of passive genuine legs that improve the touch when the spread allows.
        var improveShare: Double
        /// Probability of re-pricing a displaced leg at each look.
        var repriceShare: Double
        /// Seconds from a book change to acting.
        var latency: Double

        static func random(_ kind: AgentKind, _ rng: inout SplitMix64, sizeMedian: Double) -> Parameters {
            let low = rng.uniform(2, 6)
            let shortest = rng.logUniform(0.0005, 0.01)
            var parameters = Parameters(
                genuineMedian: sizeMedian * rng.logUniform(0.5, 2), multiplier: low...rng.uniform(low, 10),
                legs: 1...rng.integer(1...3), distance: 1...Int64(rng.integer(1...4)),
                stagingDelay: rng.logUniform(0.0001, 0.02),
                pullDelay: shortest...(shortest + rng.logUniform(0.005, 0.3)),
                timeout: rng.uniform(0.3, 5), pause: rng.logUniform(0.5, 8), flipShare: rng.uniform(0.5, 1),
                aggressiveShare: rng.uniform(0, 0.3), improveShare: rng.uniform(0.3, 0.9),
                repriceShare: rng.uniform(0.3, 1),
                latency: rng.logUniform(50e-6, 2e-3))
            switch kind {
            case .layerer:
                let start = Int64(rng.integer(2...3))
                parameters.multiplier = 1...rng.uniform(1.5, 4)
                parameters.legs = rng.integer(3...4)...rng.integer(4...6)
                parameters.distance = start...start
                parameters.repriceShare = rng.uniform(0.3, 0.9)
                parameters.aggressiveShare = 0
            case .splitSpoofer:
                parameters.legs = rng.integer(6...9)...rng.integer(10...15)
                parameters.distance = 1...Int64(rng.integer(2...4))
                parameters.pause *= 4  // as many legs per day as the other kinds, not 5× more
            default:
                break
            }
            return parameters
        }
    }

    private enum Phase {
        /// Between episodes: the next starts at this time.
        case idle(UInt64)
        /// Passive genuine leg working; the spoof goes in at this time.
        case staging(UInt64)
        /// Spoof in the book; the aggressive genuine leg goes at this time.
        case aggressive(UInt64)
        /// Genuine and spoof working until the fill or this deadline.
        case waiting(UInt64)
        /// The genuine leg traded: pull everything at this time.
        case pulling(UInt64)
    }

    let parameters: Parameters
    private var phase = Phase.idle(0)
    private var episode: UInt64 = 0
    private var genuineSide = Side.sell
    private var genuine: OrderID?
    /// Spoof legs and the distance behind the touch each keeps.
    private var legs: [(id: OrderID, distance: Int64)] = []
    private var deadline: UInt64 = 0
    private var succeeded = false
    override var reactsToBook: Bool { true }

    init(_ kind: AgentKind, _ parameters: Parameters, account: AccountID, index: Int, rng: SplitMix64) {
        precondition(kind == .spoofer || kind == .layerer || kind == .splitSpoofer)
        self.parameters = parameters
        super.init(kind: kind, account: account, index: index, rng: rng)
        genuineSide = self.rng.chance(0.5) ? .buy : .sell
    }

    override func start(_ market: Market) {
        let first = market.now + nanoseconds(rng.uniform(0.5, 3))
        phase = .idle(first)
        market.schedule(self, at: first)
    }

    override func bookChanged(_ market: Market) {
        switch phase {
        case .waiting, .staging: market.schedule(self, after: parameters.latency)
        default: break
        }
    }

    override func filled(
        _ id: OrderID, side: Side, price: Price, quantity: Quantity, leaves: Quantity, market: Market
    ) {
        guard id == genuine else { return }
        switch phase {
        case .waiting, .staging:
            guard leaves == 0 else { return }
            succeed(market)
            pull(after: market)
        case .aggressive:
            succeed(market)
        default:
            break
        }
    }

    private func succeed(_ market: Market) {
        guard !succeeded else { return }
        succeeded = true
        market.episodeSucceeded()
    }

    override func removed(_ id: OrderID, market: Market) { if id == genuine { genuine = nil } }

    override func wake(_ market: Market) {
        let now = market.now
        switch phase {
        case .idle(let at):
            if now >= at { begin(market) }
        case .staging(let at):
            if now >= at {
                placeLegs(market)
                phase = .waiting(deadline)
            } else {
                keepGenuineAtTouch(market)
            }
        case .aggressive(let at):
            if now >= at {
                sendAggressiveGenuine(market)
                if case .aggressive = phase { pull(after: market) }
            }
        case .waiting(let until):
            if now >= until {
                finish(market)
            } else {
                repriceLegs(market)
                keepGenuineAtTouch(market)
            }
        case .pulling(let at):
            if now >= at { finish(market) }
        }
        switch phase {
        case .idle(let at), .staging(let at), .aggressive(let at), .pulling(let at): market.schedule(self, at: at)
        case .waiting(let until): market.schedule(self, at: until)
        }
    }

    private func begin(_ market: Market) {
        guard let bid = market.bestBid, let ask = market.bestAsk else {
            phase = .idle(market.now + nanoseconds(0.1))
            return
        }
        if rng.chance(parameters.flipShare) { genuineSide = genuineSide.opposite }
        episode = market.startEpisode()
        succeeded = false
        legs.removeAll()
        genuine = nil
        deadline = market.now + nanoseconds(parameters.timeout * rng.uniform(0.5, 1.5))
        if rng.chance(parameters.aggressiveShare) {
            placeLegs(market)
            phase = .aggressive(market.now + nanoseconds(rng.logUniform(0.001, 0.05)))
            return
        }
        let improve = ask - bid > 1 && rng.chance(parameters.improveShare)
        let price = genuineSide == .buy ? (improve ? bid + 1 : bid) : (improve ? ask - 1 : ask)
        let id = market.send(
            genuineSide, price: price, quantity: rng.lots(median: parameters.genuineMedian, sigma: 0.5), by: self,
            role: .genuine, episode: episode)
        genuine = orders.contains(id) ? id : nil
        if genuine == nil {
            pull(after: market)  // it traded on arrival: nothing to spoof for
            return
        }
        phase = .staging(market.now + nanoseconds(parameters.stagingDelay * rng.uniform(0.5, 1.5)))
    }

    /// The spoof legs on the side opposite the genuine leg.
    private func placeLegs(_ market: Market) {
        let side = genuineSide.opposite
        guard let touch = market.touch(side) else { return }
        let reference = max(market.averageLevelQuantity(side, levels: 3), parameters.genuineMedian)
        let count = rng.integer(parameters.legs)
        let multiple = rng.uniform(parameters.multiplier.lowerBound, parameters.multiplier.upperBound)
        for leg in 0..<count {
            let distance: Int64
            let size: Double
            switch kind {
            case .layerer:
                distance = parameters.distance.lowerBound + Int64(leg)
                size = reference * rng.uniform(parameters.multiplier.lowerBound, parameters.multiplier.upperBound)
            case .splitSpoofer:
                distance = Int64(rng.integer(Int(parameters.distance.lowerBound)...Int(parameters.distance.upperBound)))
                size = reference * multiple / Double(count) * rng.uniform(0.6, 1.4)
            default:
                distance = Int64(rng.integer(Int(parameters.distance.lowerBound)...Int(parameters.distance.upperBound)))
                size = reference * rng.uniform(parameters.multiplier.lowerBound, parameters.multiplier.upperBound)
            }
            let price = side == .buy ? touch - distance : touch + distance
            let id = market.send(
                side, price: price, quantity: Quantity(size.rounded()), by: self, role: .spoof, episode: episode)
            if orders.contains(id) { legs.append((id, distance)) }
        }
    }

    /// Keeps each leg its distance behind the touch of its side (re-pricing is part of the leg).
    private func repriceLegs(_ market: Market) {
        let side = genuineSide.opposite
        legs.removeAll { !orders.contains($0.id) }
        guard let touch = market.touch(side, excludingOrdersOf: self) else { return }
        for leg in legs {
            guard let working = orders[leg.id] else { continue }
            let target = side == .buy ? touch - leg.distance : touch + leg.distance
            if working.price != target && rng.chance(parameters.repriceShare) {
                market.replace(leg.id, price: target, by: self, episode: episode)
            }
        }
    }

    /// A passive genuine leg that someone stepped ahead of moves to the new touch (label 0).
    private func keepGenuineAtTouch(_ market: Market) {
        guard let id = genuine, let working = orders[id], let touch = market.touch(genuineSide) else { return }
        let behind = genuineSide == .buy ? touch > working.price : touch < working.price
        if behind && rng.chance(0.5) { market.replace(id, price: touch, by: self, episode: episode) }
    }

    private func sendAggressiveGenuine(_ market: Market) {
        guard let opposite = market.touch(genuineSide.opposite) else { return }
        let id = market.send(
            genuineSide, price: opposite, quantity: rng.lots(median: parameters.genuineMedian, sigma: 0.5), by: self,
            timeInForce: .immediateOrCancel, role: .genuine, episode: episode)
        genuine = orders.contains(id) ? id : nil
    }

    private func pull(after market: Market) {
        let delay = rng.uniform(parameters.pullDelay.lowerBound, parameters.pullDelay.upperBound)
        phase = .pulling(market.now + nanoseconds(delay))
    }

    /// Cancels every leg still working and schedules the next episode.
    private func finish(_ market: Market) {
        for order in orders.items { market.cancel(order.id, by: self) }
        legs.removeAll()
        genuine = nil
        phase = .idle(market.now + nanoseconds(rng.exponential(mean: parameters.pause)))
    }
}
