import ChronosCore
import MatchingEngine

/// The kinds of simulated traders. The name is the `agent_type` column of the rows.
public enum AgentKind: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Zero-intelligence flow: Poisson limit, market and cancel orders, lognormal sizes.
    case noise
    /// Two-sided ladders re-quoted on every move: high cancel rate, symmetric (hard negatives).
    case marketMaker
    /// Book-imbalance and momentum followers: they react to the book, which is what spoofing exploits.
    case momentum
    /// Large legitimate parent orders worked in slices, with occasional cancels and large passive children.
    case executor
    /// A genuine order on one side, then one or more large orders 1–4 ticks behind the other touch,
    /// pulled after the genuine fill or a timeout.
    case spoofer
    /// A genuine order on one side, 3–6 orders on consecutive levels of the other, kept away from
    /// the touch by re-pricing, pulled after the fill.
    case layerer
    /// Left-out variant: the spoof spread over many normal-sized orders.
    case splitSpoofer
    /// Left-out adversarial variant: quotes like a market maker and spoofs by inflating the size
    /// of its levels behind the touch on one side while its touch quote on the other is the genuine leg.
    case mimicSpoofer

    /// The `agent_type` column value: `noise`, `market_maker`, `momentum`, `executor`, `spoofer`,
    /// `layerer`, `split_spoofer`, `mimic_spoofer`.
    public var name: String {
        switch self {
        case .noise: "noise"
        case .marketMaker: "market_maker"
        case .momentum: "momentum"
        case .executor: "executor"
        case .spoofer: "spoofer"
        case .layerer: "layerer"
        case .splitSpoofer: "split_spoofer"
        case .mimicSpoofer: "mimic_spoofer"
        }
    }

    /// True for the kinds whose spoof or layer legs are labeled 1.
    public var isManipulator: Bool {
        self == .spoofer || self == .layerer || self == .splitSpoofer || self == .mimicSpoofer
    }

    /// The manipulator kinds, in declaration order.
    public static var manipulators: [AgentKind] { allCases.filter(\.isManipulator) }

    /// The kind called `name` (``name``), if any.
    public init?(name: String) {
        guard let kind = AgentKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    public var description: String { name }
}

/// What to simulate. Every value is bounded so that the engine's and the feature tracker's
/// preallocated pools always suffice.
public struct SimulationConfiguration: Hashable, Sendable {
    /// The run's seed: day `d` is a pure function of (`seed`, `d`).
    public var seed: UInt64
    /// Simulated trading days (1…``maxDays``); each has its own symbol and its own accounts.
    public var days: Int
    /// Feature rows (new orders and replaces) per day before the day closes (1…``maxOrdersPerDay``).
    public var ordersPerDay: Int
    /// The manipulator kinds that populate the days (default spoofers and layerers; empty: none).
    public var manipulators: [AgentKind]

    /// Upper bound of ``days``: accounts are never reused, and the feature tracker holds 65,536.
    public static let maxDays = 500
    /// Upper bound of ``ordersPerDay``.
    public static let maxOrdersPerDay = 5_000_000
    /// Upper bound of `days × ordersPerDay` (the engine's used-id set is sized for it).
    public static let maxTotalOrders = 50_000_000

    /// A configuration; see the properties for the bounds.
    public init(seed: UInt64 = 1, days: Int = 1, ordersPerDay: Int = 50_000, manipulators: [AgentKind]? = nil) {
        self.seed = seed
        self.days = days
        self.ordersPerDay = ordersPerDay
        self.manipulators = manipulators ?? [.spoofer, .layerer]
    }

    /// Problems that make the configuration unusable, each naming the option; empty when valid.
    public var validationErrors: [String] {
        var errors: [String] = []
        if days < 1 || days > Self.maxDays { errors.append("days: must be in 1...\(Self.maxDays) (got \(days))") }
        if ordersPerDay < 1 || ordersPerDay > Self.maxOrdersPerDay {
            errors.append("orders-per-day: must be in 1...\(Self.maxOrdersPerDay) (got \(ordersPerDay))")
        }
        if days > 0 && ordersPerDay > 0 && days * ordersPerDay > Self.maxTotalOrders {
            errors.append("days × orders-per-day: must be <= \(Self.maxTotalOrders) (got \(days * ordersPerDay))")
        }
        if let bad = manipulators.first(where: { !$0.isManipulator }) {
            errors.append("manipulators: \(bad.name) is not a manipulator kind")
        }
        return errors
    }
}

/// The identity and label of one feature row: one new order or one replace, as an agent sent it.
@frozen
public struct SimulatedOrderRow: Hashable, Sendable {
    /// The day's seed (the split key: a day is wholly in training or wholly held out).
    public var daySeed: UInt64
    /// Simulated time of the command in ns (the replay protocol's `ts`).
    public var ts: UInt64
    /// What kind of trader sent it.
    public var agentKind: AgentKind
    /// The sending account (unique over the run: `A<agentID>` in the commands file).
    public var agentID: UInt32
    /// The manipulation episode the order belongs to (genuine and spoof legs alike); 0 for none.
    public var episodeID: UInt64
    /// The order id (a replace names the order it changes).
    public var orderID: UInt64
    /// 1 for a spoof or layer leg (and its re-pricing replaces), else 0.
    public var label: UInt8
    /// True for a replace, false for a new order.
    public var isReplace: Bool
}

/// Where a simulation's results go. Called on the simulating thread, in order.
public protocol SimulationOutput: AnyObject {
    /// One feature row; `features` holds ``SpoofingFeatureSchema/count`` values, valid during the call.
    func row(_ row: SimulatedOrderRow, features: UnsafeBufferPointer<Float>)
    /// One command as it goes to the engine at simulated time `ts` (ns).
    func command(_ command: EngineCommand, ts: UInt64)
    /// The engine's events for the last command (a view valid during the call).
    func events(_ events: EngineEvents, ts: UInt64)
    /// A day closed.
    func dayFinished(_ summary: DaySummary)
}

extension SimulationOutput {
    public func command(_ command: EngineCommand, ts: UInt64) {}
    public func events(_ events: EngineEvents, ts: UInt64) {}
    public func dayFinished(_ summary: DaySummary) {}
}

/// Counts of one agent kind over one day.
public struct AgentKindStatistics: Hashable, Sendable {
    /// Agents of this kind in the day's population.
    public var agents = 0
    /// New orders sent.
    public var newOrders = 0
    /// Replaces sent.
    public var replaces = 0
    /// Cancels sent (requests; end-of-day cleanup excluded).
    public var cancels = 0
    /// Fill events the kind's orders took part in (maker or taker).
    public var fills = 0
    /// Rows labeled 1.
    public var labeled = 0
    /// Commands the engine rejected.
    public var rejects = 0

    /// Cancels and replaces per new order: the message pattern of a quoting business.
    public var cancelRatio: Double { Double(cancels + replaces) / Double(max(newOrders, 1)) }
}

/// What one simulated day produced.
public struct DaySummary: Hashable, Sendable {
    /// Day index within the run, from 0.
    public var day: Int
    /// The day's seed.
    public var daySeed: UInt64
    /// Feature rows written (new orders and replaces).
    public var rows = 0
    /// Rows labeled 1.
    public var labeledRows = 0
    /// Fills.
    public var fills = 0
    /// Manipulation episodes started.
    public var episodes = 0
    /// Episodes whose genuine leg was completely filled (passive) or traded (aggressive).
    public var episodesGenuineFilled = 0
    /// Simulated length of the day in seconds.
    public var seconds = 0.0
    /// Opening and closing mid price in ticks.
    public var openMid: Int64 = 0
    public var closeMid: Int64 = 0
    /// Per agent kind, indexed by ``AgentKind/rawValue``.
    public var kinds = [AgentKindStatistics](repeating: AgentKindStatistics(), count: AgentKind.allCases.count)

    /// The counts of one kind.
    public subscript(kind: AgentKind) -> AgentKindStatistics {
        get { kinds[kind.rawValue] }
        set { kinds[kind.rawValue] = newValue }
    }

    /// Share of episodes whose genuine leg filled.
    public var genuineFillShare: Double { Double(episodesGenuineFilled) / Double(max(episodes, 1)) }
}
