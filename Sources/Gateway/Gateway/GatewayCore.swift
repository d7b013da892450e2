import ChronosConfig
import ChronosCore
import Logging
import Metrics
import NIOCore
import RiskEngine
import Runtime

#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock nanoseconds since the Unix epoch (FIX timestamps, execution ids).
func wallClockNanoseconds() -> Int64 { Int64(SystemClock.wallClockNanoseconds()) }

/// A session that owns orders: the core hands it the engine's answers about them.
protocol OrderOwner: AnyObject {
    /// An engine event about order `orderID` (a fill concerns both of its orders' owners).
    func engineEvent(_ event: EngineEvent, orderID: OrderID, shard: UInt16)
    /// The command sent at `sentAt` never left the gateway (its shard is down or unknown, or the
    /// risk sidecar refused it).
    func commandNotSent(_ command: EngineCommand, sentAt: UInt64, reason: NotSentReason)
    /// The engine has not answered the command sent for `orderID` at `sentAt` within the timeout.
    func answerOverdue(orderID: OrderID, sentAt: UInt64)
}

/// The gateway's shared state, confined to its one event loop: who owns which engine order,
/// the engine-id allocator, commands waiting for an answer, and the bridge to the shards.
///
/// Sessions (FIX, binary TCP, binary UDP) live on the same loop and call in directly; the bridge
/// thread hands reports over with one `execute` per batch.
final class GatewayCore {
    let loop: EventLoop
    let symbols: SymbolDirectory
    let configuration: GatewayConfiguration
    let logger: Logger
    private var allocator: OrderIDAllocator
    private var owners: [OrderID: OrderOwner] = [:]
    private var awaiting: [(id: OrderID, sentAt: UInt64)] = []
    private var awaitingHead = 0
    private var localExecutionNumber: UInt64 = 0
    /// Orders whose client was told `engine_timeout`: if the engine accepts one late, it is canceled.
    private var orphans: [OrderID: (account: AccountID, symbol: SymbolID)] = [:]
    var bridge: EngineBridge?
    /// Pre-trade risk (docs/risk.md). Inline placement: every new order and replace is checked here
    /// before it leaves for the engine (static limits, then the spoofing model's policy), and every
    /// engine event this gateway receives updates the state. Sidecar placement: the bridge asks
    /// `chronos risk` instead and this engine stays idle.
    let risk: RiskEngine
    let riskSettings: RiskConfiguration
    var checksInline: Bool { riskSettings.placement == .inline }
    let riskRejects = Counter(label: "chronos_gateway_risk_rejects_total")
    let riskFlags = Counter(label: "chronos_gateway_risk_flags_total")
    let riskThrottles = Counter(label: "chronos_gateway_risk_throttles_total")
    let modelFailures = Counter(label: "chronos_gateway_risk_model_failures_total")
    let modelScored = Counter(label: "chronos_gateway_risk_scored_total")
    /// False once shutdown began: new orders are refused, answers still flow.
    private(set) var acceptingOrders = true

    let unroutableReports = Counter(label: "chronos_gateway_unroutable_reports_total")
    let overdueAnswers = Counter(label: "chronos_gateway_engine_timeouts_total")
    let commandsSent = Counter(label: "chronos_gateway_commands_total")
    let notSentCommands = Counter(label: "chronos_gateway_commands_not_sent_total")

    init(
        loop: EventLoop, symbols: SymbolDirectory, configuration: GatewayConfiguration, allocator: OrderIDAllocator,
        risk: RiskEngine, riskSettings: RiskConfiguration, logger: Logger
    ) {
        self.loop = loop
        self.symbols = symbols
        self.configuration = configuration
        self.allocator = allocator
        self.logger = logger
        self.risk = risk
        self.riskSettings = riskSettings
    }

    /// The risk decision for a new order (inline placement; with the sidecar: a pass, the bridge
    /// asks). A passed order is held against the account's limits until the engine's events release
    /// it (``forgetUnsent(_:)`` if it never leaves).
    func checkRisk(_ order: NewOrder, now: UInt64) -> RiskDecision {
        guard checksInline else { return .pass }
        // An order the engine refuses anyway (quantity or price outside the symbol's static terms)
        // goes on to the engine, so that the client hears the engine's precise reason.
        if engineWillRefuse(order) { return RiskDecision(action: .pass, reason: nil) }
        return account(risk.check(order, now: now), order.account, now: now)
    }

    /// Whether the engine will refuse `order` on the symbol's static terms (SymbolConfiguration).
    private func engineWillRefuse(_ order: NewOrder) -> Bool {
        let terms = symbols[order.symbol]
        return !terms.isValidQuantity(order.quantity) || (order.type == .limit && !terms.isValidPrice(order.price))
    }

    /// The risk decision for a replace.
    func checkRisk(_ replace: ReplaceOrder, now: UInt64) -> RiskDecision {
        guard checksInline else { return .pass }
        return account(risk.checkReplace(replace, now: now), replace.account, now: now)
    }

    /// Counts a decision and carries out what the policy asks of the gateway: a throttled account
    /// is held to `[risk.model] throttle_messages_per_second` for `throttle_seconds`; a flag is a
    /// surveillance alert (logged).
    private func account(_ decision: RiskDecision, _ account: AccountID, now: UInt64) -> RiskDecision {
        if decision.model == .scored { modelScored.increment() }
        if decision.model == .failed { modelFailures.increment() }
        switch decision.action {
        case .pass: break
        case .reject: riskRejects.increment()
        case .flag:
            riskFlags.increment()
            logger.notice(
                "spoofing model flag",
                metadata: ["account": "\(account)", "score": "\(decision.score.map { "\($0)" } ?? "-")"])
        case .throttle:
            riskThrottles.increment()
            let model = riskSettings.model
            risk.throttle(account, as: model, now: now)
            logger.warning(
                "spoofing model throttle",
                metadata: [
                    "account": "\(account)", "score": "\(decision.score.map { "\($0)" } ?? "-")",
                    "messages_per_second": "\(model.throttleMessagesPerSecond)", "seconds": "\(model.throttleSeconds)",
                ])
        }
        return decision
    }

    /// Releases the risk engine's hold on a new order that never reached the engine.
    func forgetUnsent(_ order: NewOrder) { if checksInline { risk.release(order.id) } }

    /// A fresh engine order id, or nil (logged) when the id space or its reservation file fails.
    func nextOrderID() -> OrderID? {
        do {
            return try allocator.next()
        } catch {
            logger.error("cannot allocate an order id", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// A gateway-local execution id (for reports the engine did not produce): the gateway id, the
    /// wall-clock millisecond the process started and a counter, unique across restarts.
    func nextLocalExecutionID() -> String {
        localExecutionNumber += 1
        return "G\(configuration.id)-\(startMillis)-\(localExecutionNumber)"
    }
    private let startMillis = wallClockNanoseconds() / 1_000_000

    /// Sends `command` for `owner`, who will hear the engine's answer.
    func send(_ command: EngineCommand, owner: OrderOwner, now: UInt64) {
        owners[command.orderID] = owner
        awaiting.append((command.orderID, now))
        unansweredCommands += 1
        commandsSent.increment()
        bridge?.submit(command, timestampNanos: now)
    }

    /// The owner is done with order `id`: later events about it are unroutable.
    func release(_ id: OrderID) { owners[id] = nil }

    /// The owner told its client that new order `id` timed out: should the engine still accept
    /// it, the gateway cancels it at once, so that no order rests that its client believes rejected.
    func orphan(_ id: OrderID, account: AccountID, symbol: SymbolID) {
        owners[id] = nil
        orphans[id] = (account, symbol)
    }

    /// Stops taking new orders (shutdown): sessions answer new ones with a reject.
    func stopAcceptingOrders() { acceptingOrders = false }

    /// Commands sent and not answered yet (nor given up on), for draining at shutdown.
    private(set) var unansweredCommands = 0

    /// Routes a batch from the bridge.
    func handle(_ outputs: [BridgeOutput]) {
        let now = SystemClock.monotonicNanoseconds()
        for output in outputs {
            switch output {
            case .frame(let frame):
                guard case .event(let event, _) = frame.message else { continue }
                if checksInline { risk.apply(event, now: now) }
                if event.answersCommand && unansweredCommands > 0 { unansweredCommands -= 1 }
                route(event, shard: frame.shard)
            case .notSent(let command, let sentAt, let reason):
                if case .risk = reason { riskRejects.increment() } else { notSentCommands.increment() }
                if unansweredCommands > 0 { unansweredCommands -= 1 }
                if case .new(let order) = command { forgetUnsent(order) }
                if let owner = owners[command.orderID] {
                    owner.commandNotSent(command, sentAt: sentAt, reason: reason)
                }
            }
        }
        // Score-behind: the reports are out; rescore the accounts they touched before their next orders.
        if checksInline { risk.refreshBehindScores(now: now, limit: 256) }
    }

    private func route(_ event: EngineEvent, shard: UInt16) {
        switch event {
        case .accepted(let e): deliver(event, e.id, shard)
        case .rejected(let e): deliver(event, e.id, shard)
        case .canceled(let e): deliver(event, e.id, shard)
        case .replaced(let e): deliver(event, e.id, shard)
        case .fill(let e):
            let taker = owners[e.takerID]
            let maker = owners[e.makerID]
            if orphans[e.takerID] != nil || orphans[e.makerID] != nil {
                logger.error("fill of a timed-out order", metadata: ["trade": "\(e.tradeID.rawValue)"])
            }
            if taker == nil && maker == nil { unroutableReports.increment() }
            taker?.engineEvent(event, orderID: e.takerID, shard: shard)
            maker?.engineEvent(event, orderID: e.makerID, shard: shard)
        }
    }

    private func deliver(_ event: EngineEvent, _ id: OrderID, _ shard: UInt16) {
        if let orphan = orphans[id] {
            overdueAnswers.increment()
            switch event {
            case .accepted:
                logger.warning("late accept of a timed-out order: canceling it", metadata: ["order": "\(id.rawValue)"])
                bridge?.submit(
                    .cancel(CancelOrder(id: id, account: orphan.account, symbol: orphan.symbol)), timestampNanos: 0)
            default:
                orphans[id] = nil
            }
            return
        }
        guard let owner = owners[id] else {
            unroutableReports.increment()
            logger.debug("report for an order no session owns", metadata: ["order": "\(id.rawValue)"])
            return
        }
        owner.engineEvent(event, orderID: id, shard: shard)
    }

    /// Expires commands unanswered for longer than the configured timeout.
    func checkOverdue(now: UInt64) {
        let timeout = UInt64(configuration.ackTimeoutMilliseconds) * 1_000_000
        while awaitingHead < awaiting.count, now &- awaiting[awaitingHead].sentAt > timeout {
            let (id, sentAt) = awaiting[awaitingHead]
            awaitingHead += 1
            if let owner = owners[id] {
                owner.answerOverdue(orderID: id, sentAt: sentAt)
            }
            unansweredCommands = min(unansweredCommands, awaiting.count - awaitingHead)
        }
        // Answers normally arrive long before the timeout: compact what has been looked at.
        if awaitingHead > 1024 && awaitingHead * 2 > awaiting.count {
            awaiting.removeFirst(awaitingHead)
            awaitingHead = 0
        }
    }

    /// Counts an answer that came too late to matter (the client already heard `engine_timeout`).
    func noteOverdue() { overdueAnswers.increment() }
}
