import ChronosCore
import Workload

/// One of an agent's working orders, as the agent knows it from the engine's events.
struct WorkingOrder {
    var id: OrderID
    var side: Side
    /// Limit price in ticks (0 for a market order in flight).
    var price: Price
    /// Open quantity in lots.
    var leaves: Quantity
    /// The agent's own tag (genuine leg, spoof leg, ladder slot…).
    var role: OrderRole
}

/// What an order is for, from the sending agent's point of view.
enum OrderRole: UInt8 {
    case plain
    /// A manipulator's genuine leg (label 0).
    case genuine
    /// A spoof or layer leg (label 1).
    case spoof
}

/// The working orders of one agent: a short array, searched from the newest end (agents hold
/// at most a few dozen orders).
struct WorkingOrders {
    private(set) var items: [WorkingOrder] = []

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }

    func index(of id: OrderID) -> Int? { items.lastIndex { $0.id == id } }
    func contains(_ id: OrderID) -> Bool { index(of: id) != nil }
    subscript(id: OrderID) -> WorkingOrder? { index(of: id).map { items[$0] } }

    mutating func add(_ order: WorkingOrder) { items.append(order) }

    mutating func remove(_ id: OrderID) {
        if let i = index(of: id) { items.remove(at: i) }
    }

    /// A fill left `leaves` open: the order leaves when nothing is open.
    mutating func filled(_ id: OrderID, leaves: Quantity) {
        guard let i = index(of: id) else { return }
        if leaves <= 0 { items.remove(at: i) } else { items[i].leaves = leaves }
    }

    mutating func replaced(_ id: OrderID, price: Price, quantity: Quantity) {
        guard let i = index(of: id) else { return }
        items[i].price = price
        items[i].leaves = quantity
    }

    mutating func removeAll() { items.removeAll() }
}

/// A simulated trader. Subclasses act in ``wake(_:)`` (the only place they send commands) and
/// learn about their orders through the hooks, which the ``Market`` calls after each command.
class Agent {
    /// What kind of trader this is (the row's `agent_type`).
    let kind: AgentKind
    /// The agent's account, unique over the run.
    let account: AccountID
    /// Index in the day's population.
    let index: Int
    /// The agent's own randomness (a stream of the day's seed).
    var rng: SplitMix64
    /// Working orders, kept current by the market from the engine's events.
    var orders = WorkingOrders()
    /// Net position in lots (buys positive).
    var position: Int64 = 0
    /// The earliest pending wake (ns), `.max` when none: the queue skips entries that differ.
    var scheduledWake: UInt64 = .max
    /// Whether the market calls ``bookChanged(_:)`` after other agents' commands.
    var reactsToBook: Bool { false }

    init(kind: AgentKind, account: AccountID, index: Int, rng: SplitMix64) {
        self.kind = kind
        self.account = account
        self.index = index
        self.rng = rng
    }

    /// The day opened: schedule the first wake.
    func start(_ market: Market) {}

    /// The agent's scheduled time came: look at the book, send commands, schedule the next wake.
    func wake(_ market: Market) {}

    /// Another agent's command changed the book (only when ``reactsToBook``).
    func bookChanged(_ market: Market) {}

    /// One of the agent's orders traded `quantity` at `price`; `leaves` is still open.
    func filled(_ id: OrderID, side: Side, price: Price, quantity: Quantity, leaves: Quantity, market: Market) {}

    /// One of the agent's orders left the book without trading further (canceled or rejected).
    func removed(_ id: OrderID, market: Market) {}
}
