import ChronosCore
import Foundation
import MatchingEngine

/// A seeded order flow that is hard on a matching engine's data structures, after the public
/// matching-engine benchmarks that outside users run:
///
/// - new orders whose ids are a random permutation of `1...newOrders` (every id lookup a cache
///   miss in a large table);
/// - a share of them immediate-or-cancel, priced through the touch;
/// - cancels of resting orders, a few of them stale (the order has filled or was canceled);
/// - modifies that change the price (the order leaves its level and is inserted again);
/// - a mid that swings by up to ±`swing` of its start over the run, so that the book's sides keep
///   crossing into each other, and passive orders spread over `depthTicks` ticks behind the touch
///   (thousands of price levels per side).
///
/// Every command is run through a shadow ``Engine`` so that cancels and modifies name orders that
/// really rest (or, for the stale ones, that rested before). The same parameters always give the
/// same stream.
public struct HardFlowGenerator {
    /// Parameters of the flow; the defaults give about 2 M messages.
    public struct Parameters: Sendable {
        public var seed: UInt64
        /// New orders (and the largest id: ids are a permutation of `1...newOrders`).
        public var newOrders: Int
        /// Cancels per new order.
        public var cancelsPerNew: Double
        /// Price-changing modifies per new order.
        public var modifiesPerNew: Double
        /// Share of new orders that are immediate-or-cancel.
        public var immediateShare: Double
        /// Share of cancels that name an order no longer resting.
        public var staleShare: Double
        /// Largest swing of the mid, as a fraction of its start (0.6: ±60 %).
        public var swing: Double
        /// Full swings (down and up) over the run.
        public var cycles: Double
        /// Passive orders rest uniformly 1…`depthTicks` ticks behind the mid.
        public var depthTicks: Int64
        /// Starting mid, in ticks.
        public var initialMid: Int64
        public var accounts: Int

        public init(
            seed: UInt64 = 7, newOrders: Int = 1_000_000, cancelsPerNew: Double = 0.8, modifiesPerNew: Double = 0.17,
            immediateShare: Double = 0.15, staleShare: Double = 0.02, swing: Double = 0.6, cycles: Double = 3,
            depthTicks: Int64 = 10_000, initialMid: Int64 = 100_000, accounts: Int = 1_000
        ) {
            self.seed = seed
            self.newOrders = newOrders
            self.cancelsPerNew = cancelsPerNew
            self.modifiesPerNew = modifiesPerNew
            self.immediateShare = immediateShare
            self.staleShare = staleShare
            self.swing = swing
            self.cycles = cycles
            self.depthTicks = depthTicks
            self.initialMid = initialMid
            self.accounts = accounts
        }
    }

    /// Counts of what the generator emitted.
    public struct Mix: Sendable, CustomStringConvertible {
        public var newOrders = 0
        public var immediate = 0
        public var cancels = 0
        public var staleCancels = 0
        public var modifies = 0
        public var total: Int { newOrders + cancels + modifies }
        public var description: String {
            "\(newOrders) new (\(immediate) IOC), \(cancels) cancels (\(staleCancels) stale), \(modifies) modifies"
        }
    }

    public let parameters: Parameters
    /// The shadow engine (one symbol, `SYM0`, tick 1).
    public let shadow: Engine
    public private(set) var mix = Mix()
    private var rng: SplitMix64
    private var ids: [UInt64]
    private var live = LiveOrders()
    /// Orders that rested once and no longer do (targets of stale cancels), most recent last.
    private var finished: [LiveOrders.Order] = []

    public init(_ parameters: Parameters = Parameters()) throws {
        precondition(parameters.newOrders > 0 && parameters.depthTicks > 0)
        self.parameters = parameters
        rng = SplitMix64(seed: parameters.seed)
        ids = Array(1...UInt64(parameters.newOrders))
        for i in stride(from: ids.count - 1, to: 0, by: -1) {  // Fisher–Yates
            ids.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        shadow = try Engine(configuration: Self.engineConfiguration(parameters))
        try shadow.addSymbol(SymbolConfiguration(name: "SYM0"))
    }

    /// An engine configuration that holds the whole flow: the default capacities (a million
    /// resting orders), or more when the flow has more orders.
    public static func engineConfiguration(_ parameters: Parameters) -> EngineConfiguration {
        EngineConfiguration(orderCapacity: max(1_000_000, parameters.newOrders), symbolCapacity: 1)
    }

    /// The whole flow: about `newOrders × (1 + cancelsPerNew + modifiesPerNew)` commands.
    public mutating func generate() -> [EngineCommand] {
        let perNew = 1 + parameters.cancelsPerNew + parameters.modifiesPerNew
        var commands: [EngineCommand] = []
        commands.reserveCapacity(Int(Double(parameters.newOrders) * perNew) + 16)
        while mix.newOrders < parameters.newOrders {
            let command = nextCommand(perNew: perNew)
            commands.append(command)
            shadow.submit(command)
            track(shadow.events)
        }
        return commands
    }

    /// The mid after `done` of the new orders: a sine of `cycles` periods over the run.
    private func mid() -> Int64 {
        let phase = Double(mix.newOrders) / Double(parameters.newOrders) * parameters.cycles * 2 * .pi
        return Int64((Double(parameters.initialMid) * (1 + parameters.swing * sin(phase))).rounded())
    }

    private mutating func passivePrice(_ side: Side) -> Int64 {
        let behind = 1 + Int64(rng.next() % UInt64(parameters.depthTicks))
        return max(1, side == .buy ? mid() - behind : mid() + behind)
    }

    private mutating func nextCommand(perNew: Double) -> EngineCommand {
        var roll = rng.unit() * perNew
        if live.isEmpty { roll = 0 }
        let side: Side = rng.next() & 1 == 0 ? .buy : .sell
        if roll < 1 {
            let id = OrderID(ids[mix.newOrders])
            mix.newOrders += 1
            let account = AccountID(UInt32(rng.next() % UInt64(parameters.accounts)))
            let quantity = 1 + Int64(rng.next() % 100)
            if rng.unit() < parameters.immediateShare {
                mix.immediate += 1
                let through = Int64(rng.next() % 50)
                let price = max(1, side == .buy ? mid() + through : mid() - through)
                return .new(
                    NewOrder(
                        id: id, account: account, symbol: SymbolID(0), side: side, timeInForce: .immediateOrCancel,
                        price: price, quantity: quantity))
            }
            return .new(
                NewOrder(
                    id: id, account: account, symbol: SymbolID(0), side: side, price: passivePrice(side),
                    quantity: quantity))
        }
        if roll < 1 + parameters.cancelsPerNew {
            mix.cancels += 1
            if !finished.isEmpty && rng.unit() < parameters.staleShare {
                mix.staleCancels += 1
                let gone = finished[Int(rng.next() % UInt64(finished.count))]
                return .cancel(CancelOrder(id: gone.id, account: gone.account, symbol: SymbolID(0)))
            }
            let victim = live.random(&rng)
            return .cancel(CancelOrder(id: victim.id, account: victim.account, symbol: SymbolID(0)))
        }
        mix.modifies += 1
        let target = live.random(&rng)
        let restingSide = shadow.restingOrder(target.id)?.side ?? side
        return .replace(
            ReplaceOrder(
                id: target.id, account: target.account, symbol: SymbolID(0), price: passivePrice(restingSide),
                quantity: nil))
    }

    private mutating func track(_ events: EngineEvents) {
        var subject: OrderID?
        for event in events {
            switch event {
            case .rejected(let rejected) where rejected.reason == .capacityExhausted:
                preconditionFailure("HardFlowGenerator: shadow engine capacity exhausted at order \(rejected.id)")
            case .accepted(let accepted): subject = accepted.id
            case .replaced(let replaced): subject = replaced.id
            case .fill(let fill):
                if fill.makerLeaves == 0 { retire(fill.makerID) }
                if fill.takerLeaves == 0 { retire(fill.takerID) }
            case .canceled(let canceled): retire(canceled.id)
            default: break
            }
        }
        if let subject, let order = shadow.restingOrder(subject) {
            live.insert(.init(id: subject, account: order.account, symbol: order.symbol))
        }
    }

    /// An order that no longer rests: out of the live set, kept as a target of stale cancels.
    private mutating func retire(_ id: OrderID) {
        if let order = live.remove(id) { finished.append(order) }
    }
}
