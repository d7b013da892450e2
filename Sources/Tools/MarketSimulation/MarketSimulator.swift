import ChronosCore
import MatchingEngine
import RiskEngine
import Workload

/// Labeled training data for the spoofing model, made by Chronos itself: populations of
/// simulated traders run through the real ``Engine``, and every new order and replace is
/// written as a row of the risk engine's own ``SpoofingFeatures`` (the same code that scores
/// live orders), with the sender's kind, episode and label.
///
/// ```swift
/// let simulator = try MarketSimulator(SimulationConfiguration(seed: 7, days: 2, ordersPerDay: 20_000))
/// simulator.run(output: myOutput)   // rows, commands and day summaries, in order
/// ```
///
/// Each day is a pure function of (seed, day): its own seed, symbol (`SYM<day>`), accounts and
/// clock (day `d` starts at `d × 10^14` ns), so a run's output is byte-identical for the same
/// configuration, and the commands of all days replay through one `chronos replay` session to the
/// same fills. Regimes vary per day: opening price, volatility, depth, spreads, agent mix.
/// At the close every working order is canceled.
public final class MarketSimulator {
    /// What this simulator runs.
    public let configuration: SimulationConfiguration
    /// The engine the agents trade on (one symbol per day).
    public let engine: Engine
    /// The risk engine's spoofing features, following the engine.
    public let features: SpoofingFeatures

    /// Simulated ns between the starts of consecutive days; a day lasts at most 90 % of it.
    public static let dayStride: UInt64 = 100_000 * 1_000_000_000

    /// Test hook: leave the book-reading traders out (spoofing should stop paying).
    var includesMomentumTraders = true

    /// A simulator with pools sized for the configuration.
    /// - Throws: `SimulationSetupError` for an invalid configuration.
    public init(_ configuration: SimulationConfiguration) throws {
        let errors = configuration.validationErrors
        guard errors.isEmpty else { throw SimulationSetupError(errors: errors) }
        self.configuration = configuration
        let totalOrders = configuration.days * configuration.ordersPerDay
        engine = try Engine(
            configuration: EngineConfiguration(
                orderCapacity: 1 << 18, symbolCapacity: configuration.days,
                usedIDBlockCapacity: max(totalOrders / 32, 1 << 16)))
        features = SpoofingFeatures(symbolCapacity: max(configuration.days, 1))
    }

    /// The seed of day `day` of this run.
    public func daySeed(_ day: Int) -> UInt64 {
        var stream = SplitMix64(seed: configuration.seed &+ UInt64(day) &* 0x9E37_79B9_7F4A_7C15)
        return stream.next()
    }

    /// Runs every day in order, writing to `output`; returns the day summaries.
    @discardableResult
    public func run(output: SimulationOutput) -> [DaySummary] {
        let market = Market(engine: engine, features: features, output: output)
        return (0..<configuration.days).map { runDay($0, market) }
    }

    private func runDay(_ day: Int, _ market: Market) -> DaySummary {
        let seed = daySeed(day)
        var rng = SplitMix64.derived(seed, stream: 0)
        // The day's regime.
        let openMid = Int64(rng.logUniform(2_000, 15_000).rounded())
        let volatility = rng.logUniform(0.3, 3)
        let sizeMedian = rng.logUniform(20, 200)
        let symbol = try! engine.addSymbol(SymbolConfiguration(name: "SYM\(day)"))  // capacity = days
        let start = UInt64(day) * Self.dayStride
        market.openDay(
            day: day, daySeed: seed, symbol: symbol, start: start, openMid: openMid, volatility: volatility)

        // The day's population, in a fixed order: accounts are handed out in this order.
        var kinds: [AgentKind] = []
        kinds += Array(repeating: .marketMaker, count: rng.integer(1...5))
        kinds += Array(repeating: .noise, count: rng.integer(8...40))
        kinds += Array(repeating: .momentum, count: includesMomentumTraders ? rng.integer(2...10) : 0)
        kinds += Array(repeating: .executor, count: rng.integer(0...3))
        if !configuration.manipulators.isEmpty && rng.chance(0.9) {
            for _ in 0..<(rng.chance(0.7) ? 1 : 2) {
                kinds.append(configuration.manipulators[rng.integer(0...(configuration.manipulators.count - 1))])
            }
        }
        for (index, kind) in kinds.enumerated() {
            var agentRNG = SplitMix64.derived(seed, stream: UInt64(index) + 1)
            let account = market.takeAccount()
            let agent: Agent
            switch kind {
            case .noise:
                let parameters = NoiseTrader.Parameters.random(&agentRNG, sizeMedian: sizeMedian)
                agent = NoiseTrader(parameters, account: account, index: index, rng: agentRNG)
            case .marketMaker:
                let parameters = MarketMaker.Parameters.random(&agentRNG, sizeMedian: sizeMedian)
                agent = MarketMaker(parameters, account: account, index: index, rng: agentRNG)
            case .momentum:
                let parameters = MomentumTrader.Parameters.random(&agentRNG, sizeMedian: sizeMedian)
                agent = MomentumTrader(parameters, account: account, index: index, rng: agentRNG)
            case .executor:
                let parameters = Executor.Parameters.random(&agentRNG, sizeMedian: sizeMedian)
                agent = Executor(parameters, account: account, index: index, rng: agentRNG)
            case .mimicSpoofer:
                let parameters = MarketMaker.Parameters.random(&agentRNG, sizeMedian: sizeMedian)
                let mimicry = MarketMaker.Mimicry.random(&agentRNG)
                agent = MarketMaker(parameters, mimicry: mimicry, account: account, index: index, rng: agentRNG)
            case .spoofer, .layerer, .splitSpoofer:
                let parameters = Manipulator.Parameters.random(kind, &agentRNG, sizeMedian: sizeMedian)
                agent = Manipulator(kind, parameters, account: account, index: index, rng: agentRNG)
            }
            market.add(agent)
        }
        market.run(rows: configuration.ordersPerDay, end: start + Self.dayStride / 10 * 9)
        return market.closeDay(start: start)
    }
}

/// An unusable ``SimulationConfiguration``; each string names the bad option.
public struct SimulationSetupError: Error, CustomStringConvertible {
    public var errors: [String]
    public var description: String { "invalid simulation: " + errors.joined(separator: "; ") }
}
