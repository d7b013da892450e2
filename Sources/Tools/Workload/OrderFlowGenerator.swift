import ChronosCore
import MatchingEngine

/// A seeded, realistic order-flow generator for benchmarks, load tests and property tests.
///
/// Prices move around a mid that takes a small random walk; passive orders rest at a
/// geometrically distributed distance behind the touch, so most activity is near the top of
/// the book while the book stays deep. The mix is about 60 % passive adds, 30 % cancels of
/// resting orders and 10 % marketable orders (limit IOC, limit GTC through the touch, market),
/// steered so that the book holds about `targetRestingOrders` orders.
///
/// The generator runs every command it emits through a shadow ``Engine`` so that cancels
/// name orders that really rest. The same seed always gives the same stream.
public struct OrderFlowGenerator {
    /// Parameters of the flow.
    public struct Parameters: Sendable {
        public var seed: UInt64
        public var symbols: Int
        public var accounts: Int
        public var targetRestingOrders: Int
        /// Starting mid price in ticks.
        public var initialMid: Int64
        /// Mean distance behind the touch of passive orders, in ticks (geometric distribution).
        public var meanDepthTicks: Double

        public init(
            seed: UInt64 = 42, symbols: Int = 1, accounts: Int = 1_000, targetRestingOrders: Int = 10_000,
            initialMid: Int64 = 100_000, meanDepthTicks: Double = 8
        ) {
            self.seed = seed
            self.symbols = symbols
            self.accounts = accounts
            self.targetRestingOrders = targetRestingOrders
            self.initialMid = initialMid
            self.meanDepthTicks = meanDepthTicks
        }
    }

    /// Counts of what the generator emitted.
    public struct Mix: Sendable, CustomStringConvertible {
        public var passiveAdds = 0
        public var cancels = 0
        public var marketable = 0
        public var total: Int { passiveAdds + cancels + marketable }
        public var description: String {
            let t = Double(max(total, 1))
            func pct(_ n: Int) -> String { String(Int((Double(n) / t * 100).rounded())) + "%" }
            return "\(pct(passiveAdds)) passive adds, \(pct(cancels)) cancels, \(pct(marketable)) marketable"
        }
    }

    public let parameters: Parameters
    /// The shadow engine; its symbols are the ones the commands name.
    public let shadow: Engine
    public private(set) var mix = Mix()
    private var rng: SplitMix64
    private var mids: [Int64]
    private var nextID: UInt64 = 1
    /// Resting orders known from the shadow engine, for cancels (swap-remove).
    private var live = LiveOrders()

    /// A generator whose shadow engine has room for the flow.
    public init(_ parameters: Parameters = Parameters()) throws {
        self.parameters = parameters
        rng = SplitMix64(seed: parameters.seed)
        // The id set must outlive any stream: 2^21 blocks hold ≈ 190 million dense ids.
        shadow = try Engine(
            configuration: EngineConfiguration(
                orderCapacity: max(parameters.targetRestingOrders * 4, 1_024),
                symbolCapacity: max(parameters.symbols, 1), usedIDBlockCapacity: 1 << 21))
        for s in 0..<parameters.symbols { try shadow.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
        mids = Array(repeating: parameters.initialMid, count: parameters.symbols)
    }

    /// Emits `count` commands (appended to `into`), each already applied to the shadow engine.
    public mutating func generate(_ count: Int, into commands: inout [EngineCommand]) {
        commands.reserveCapacity(commands.count + count)
        for _ in 0..<count {
            let command = nextCommand()
            commands.append(command)
            shadow.submit(command)
            track(shadow.events)
        }
    }

    /// `count` commands in a new array.
    public mutating func generate(_ count: Int) -> [EngineCommand] {
        var commands: [EngineCommand] = []
        generate(count, into: &commands)
        return commands
    }

    private mutating func nextCommand() -> EngineCommand {
        let symbolIndex = Int(rng.next() % UInt64(parameters.symbols))
        let symbol = SymbolID(UInt32(symbolIndex))
        if rng.unit() < 0.02 { mids[symbolIndex] += rng.unit() < 0.5 ? -1 : 1 }  // the mid drifts
        var roll = rng.unit()
        // Steer toward the target book size by swapping adds and cancels.
        let target = Double(parameters.targetRestingOrders)
        if roll < 0.6 && Double(live.count) > target * 1.05 { roll = 0.7 }
        if roll >= 0.6 && roll < 0.9 && (Double(live.count) < target * 0.95 || live.isEmpty) { roll = 0.3 }
        let account = AccountID(UInt32(rng.next() % UInt64(parameters.accounts)))
        let side: Side = rng.next() & 1 == 0 ? .buy : .sell
        if roll < 0.6 {
            mix.passiveAdds += 1
            let depth = rng.geometric(mean: parameters.meanDepthTicks)
            let touchGap: Int64 = 1 + depth
            let price = side == .buy ? mids[symbolIndex] - touchGap : mids[symbolIndex] + touchGap
            return .new(
                NewOrder(
                    id: takeID(), account: account, symbol: symbol, side: side,
                    price: max(price, 1), quantity: 1 + Int64(rng.next() % 10) * 10))
        } else if roll < 0.9 {
            mix.cancels += 1
            let victim = live.random(&rng)
            return .cancel(CancelOrder(id: victim.id, account: victim.account, symbol: victim.symbol))
        } else {
            mix.marketable += 1
            let quantity = 10 + Int64(rng.next() % 60)
            let kind = rng.next() % 10
            if kind < 2 {
                return .new(
                    NewOrder(
                        id: takeID(), account: account, symbol: symbol, side: side, type: .market,
                        quantity: quantity))
            }
            let through: Int64 = 1 + Int64(rng.next() % 3)
            let price = side == .buy ? mids[symbolIndex] + through : mids[symbolIndex] - through
            return .new(
                NewOrder(
                    id: takeID(), account: account, symbol: symbol, side: side,
                    timeInForce: kind < 7 ? .immediateOrCancel : .goodTillCancel,
                    price: max(price, 1), quantity: quantity))
        }
    }

    private mutating func takeID() -> OrderID {
        defer { nextID += 1 }
        return OrderID(nextID)
    }

    private mutating func track(_ events: EngineEvents) {
        for event in events {
            switch event {
            case .rejected(let rejected) where rejected.reason == .capacityExhausted:
                // The flow would silently stop matching the shadow book: fail loudly instead.
                preconditionFailure("OrderFlowGenerator: shadow engine capacity exhausted at order \(rejected.id)")
            case .fill(let fill) where fill.makerLeaves == 0:
                live.remove(fill.makerID)
            case .canceled(let canceled):
                live.remove(canceled.id)
            default:
                break
            }
        }
        // The command's own order rests if the engine still knows it after the command.
        if let first = events.first, case .accepted(let accepted) = first,
            shadow.restingOrder(accepted.id) != nil
        {
            live.insert(.init(id: accepted.id, account: accepted.account, symbol: accepted.symbol))
        }
    }
}

/// SplitMix64: a tiny, fast, seedable generator (Steele, Lea & Flood 2014); deterministic everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Geometric on {0, 1, 2, …} with the given mean.
    public mutating func geometric(mean: Double) -> Int64 {
        let p = 1 / (mean + 1)
        var u = unit()
        if u <= 0 { u = 0x1.0p-53 }
        return Int64((log(u) / log(1 - p)).rounded(.down))
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
