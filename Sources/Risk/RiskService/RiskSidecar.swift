import ChronosConfig
import ChronosCore
import Logging
import Messaging
import Metrics
import NIOConcurrencyHelpers
import RiskEngine
import Runtime
import ShardClient
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The risk engine as its own service (`chronos risk`): gateways send each new order and replace
/// and wait for the decision; the sidecar follows every shard's event stream, so its limits and
/// spoofing features see an account's whole flow, whichever gateway it comes through.
///
/// Protocol (docs/risk.md): a ZeroMQ ROUTER at `[risk] sidecar`. A request is one message part
/// holding a `newOrder` or `replace` wire frame (docs/wire-format.md); the answer is one
/// `riskDecision` frame naming the same order and echoing the request's timestamp. A `cancel`
/// frame means "release": the gateway could not send an order the sidecar passed (its shard was
/// down), so its reservation goes; it gets no answer. A malformed request is counted and dropped
/// (a frame that does not decode names no order to answer for; the requester's timeout covers it).
///
/// One thread owns the engine and every socket: requests are answered as they arrive; events are
/// applied between requests (up to 1,024 per shard per round); score-behind refreshes run when
/// no request waits.
public final class RiskSidecar: @unchecked Sendable {
    public let exchange: ExchangeConfiguration
    private let context: ZMQContext
    private let makeScorer: @Sendable () throws -> SpoofingScorer?
    private let logger: Logger
    private let stopping = Synchronization.Atomic<Bool>(false)
    private var thread: ServiceThread?
    /// Counters, readable from any thread.
    public let counters = RiskSidecarCounters()
    /// A reloaded `[risk]` whose `[[risk.accounts]]` the thread applies next.
    let pendingAccounts = NIOLockedValueBox<RiskConfiguration?>(nil)

    /// Applies `[[risk.accounts]]` of a reloaded configuration (limits and kill switches) on the
    /// sidecar's thread, before its next request. Accounts not listed keep their limits.
    public func reloadAccounts(_ risk: RiskConfiguration) {
        pendingAccounts.withLockedValue { $0 = risk }
    }

    /// A sidecar for `exchange`; `makeScorer` runs on the sidecar's thread (the model belongs to it).
    public init(
        exchange: ExchangeConfiguration, context: ZMQContext, logger: Logger,
        makeScorer: @escaping @Sendable () throws -> SpoofingScorer? = { nil }
    ) {
        self.exchange = exchange
        self.context = context
        self.logger = logger
        self.makeScorer = makeScorer
    }

    /// Binds and starts the thread; throws what setting up failed on (bind, model load).
    public func start() throws {
        thread = try ServiceThread { [self] in
            let loop = try SidecarLoop(
                exchange: exchange, context: context, scorer: try makeScorer(), counters: counters, logger: logger)
            return { [self] in loop.run(until: stopping, accounts: pendingAccounts) }
        }
    }

    /// Stops the thread (answers what already arrived first) and waits for it.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
    }
}

/// What the sidecar did, for metrics, logs and tests.
public final class RiskSidecarCounters: Sendable {
    public let requests = Synchronization.Atomic<Int>(0)
    public let rejects = Synchronization.Atomic<Int>(0)
    public let flags = Synchronization.Atomic<Int>(0)
    public let throttles = Synchronization.Atomic<Int>(0)
    public let releases = Synchronization.Atomic<Int>(0)
    public let badRequests = Synchronization.Atomic<Int>(0)
    public let events = Synchronization.Atomic<Int>(0)
    public let lostEvents = Synchronization.Atomic<Int>(0)
    public init() {}
}

/// The sidecar's thread: the engine, the ROUTER and one subscriber per shard.
final class SidecarLoop {
    let risk: RiskEngine
    let router: ZMQSocket
    let poller: ZMQPoller
    let subscribers: [EventSubscriber]
    let counters: RiskSidecarCounters
    let logger: Logger
    let model: RiskModelConfiguration
    /// Account names for `[[risk.accounts]]` overrides on reload (`[gateway.account_ids]` at start).
    let accountIDs: [String: UInt32]
    let identity = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    let inFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    let outFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)
    let requestsMetric = Counter(label: "chronos_risk_requests_total")
    let rejectsMetric = Counter(label: "chronos_risk_rejects_total")
    let flagsMetric = Counter(label: "chronos_risk_flags_total")
    let throttlesMetric = Counter(label: "chronos_risk_throttles_total")
    let modelFailuresMetric = Counter(label: "chronos_risk_model_failures_total")
    let badRequestsMetric = Counter(label: "chronos_risk_bad_requests_total")
    let lostEventsMetric = Counter(label: "chronos_risk_lost_events_total")

    init(
        exchange: ExchangeConfiguration, context: ZMQContext, scorer: SpoofingScorer?, counters: RiskSidecarCounters,
        logger: Logger
    ) throws {
        risk = RiskEngine.live(exchange, scorer: scorer)
        self.counters = counters
        self.logger = logger
        model = exchange.risk.model
        accountIDs = exchange.gateway.accountIDs
        router = try ZMQSocket(context, .router)
        try router.setRouterMandatory(true)
        try router.setSendHighWaterMark(100_000)
        try router.bind(exchange.risk.sidecarEndpoint)
        poller = ZMQPoller([router])
        var subscribers: [EventSubscriber] = []
        for shard in exchange.shards { subscribers.append(try EventSubscriber(context: context, shard: shard)) }
        self.subscribers = subscribers
    }

    deinit {
        router.close()
        identity.deallocate()
        inFrame.deallocate()
        outFrame.deallocate()
    }

    func run(until stopping: borrowing Synchronization.Atomic<Bool>, accounts: NIOLockedValueBox<RiskConfiguration?>) {
        while !stopping.load(ordering: .acquiring) {
            if let reload = accounts.withLockedValue({ box -> RiskConfiguration? in
                defer { box = nil }
                return box
            }) {
                let set = risk.applyAccountOverrides(reload, accountIDs: accountIDs)
                logger.notice(
                    "risk account limits reloaded",
                    metadata: [
                        "accounts": "\(set.count)", "killed": "\(set.filter { risk.isKilled($0) }.map(\.rawValue))",
                    ])
            }
            let answered = drainRequests()
            let applied = drainEvents()
            if answered == 0 {
                risk.refreshBehindScores(now: SystemClock.monotonicNanoseconds(), limit: 64)
                if applied == 0 && risk.staleBehindScores == 0 { _ = try? poller.poll(timeoutMilliseconds: 1) }
            }
        }
        _ = drainRequests()
    }

    /// Answers every request waiting (bounded); returns how many were handled.
    func drainRequests() -> Int {
        var handled = 0
        while handled < 1_024 {
            guard case .received(let idCount, let idTruncated)? = try? router.receive(into: identity, dontWait: true)
            else { break }
            handled += 1
            guard router.hasMoreParts, !idTruncated else {
                bad()
                router.discardRemainingParts()
                continue
            }
            let from = UnsafeRawBufferPointer(rebasing: identity[0..<idCount])
            guard case .received(let count, let truncated)? = try? router.receive(into: inFrame, dontWait: true)
            else { continue }
            let extra = router.hasMoreParts
            if extra { router.discardRemainingParts() }
            guard !truncated, !extra,
                case .success(let frame) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: inFrame[0..<count]))
            else {
                bad()
                continue
            }
            let now = SystemClock.monotonicNanoseconds()
            switch frame.message {
            case .newOrder(let order, let timestamp):
                answer(order.id, order.account, risk.check(order, now: now), timestamp, now: now, to: from)
            case .replace(let replace, let timestamp):
                answer(replace.id, replace.account, risk.checkReplace(replace, now: now), timestamp, now: now, to: from)
            case .cancel(let cancel, _):
                risk.release(cancel.id)
                counters.releases.add(1, ordering: .relaxed)
            default:
                bad()
            }
        }
        return handled
    }

    private func bad() {
        counters.badRequests.add(1, ordering: .relaxed)
        badRequestsMetric.increment()
    }

    private func answer(
        _ id: OrderID, _ account: AccountID, _ decision: RiskDecision, _ timestamp: UInt64, now: UInt64,
        to identity: UnsafeRawBufferPointer
    ) {
        counters.requests.add(1, ordering: .relaxed)
        requestsMetric.increment()
        switch decision.action {
        case .pass: break
        case .flag:
            counters.flags.add(1, ordering: .relaxed)
            flagsMetric.increment()
        case .throttle:
            counters.throttles.add(1, ordering: .relaxed)
            throttlesMetric.increment()
            risk.throttle(account, as: model, now: now)
        case .reject:
            counters.rejects.add(1, ordering: .relaxed)
            rejectsMetric.increment()
        }
        if decision.model == .failed { modelFailuresMetric.increment() }
        let verdict = RiskVerdict(
            orderID: id, action: decision.action.rawValue, reason: decision.reason?.rawValue,
            modelStatus: decision.model.rawValue, score: decision.score.map(Float.init), clientTimestampNanos: timestamp
        )
        guard case .success(let length) = WireFrame(message: .riskDecision(verdict)).encode(into: outFrame) else {
            return
        }
        // A gateway that went away: its answer is dropped (ROUTER_MANDATORY reports it; nothing to do).
        if (try? router.send(identity, more: true, dontWait: true)) == .sent {
            _ = try? router.send(UnsafeRawBufferPointer(rebasing: outFrame[0..<length]), dontWait: true)
        }
    }

    /// Applies the events waiting on every shard's stream (up to 1,024 each); returns how many.
    func drainEvents() -> Int {
        var applied = 0
        for subscriber in subscribers {
            var n = 0
            while n < 1_024 {
                do {
                    guard let event = try subscriber.next(timeoutMilliseconds: 0) else { break }
                    risk.apply(event, now: SystemClock.monotonicNanoseconds())
                    n += 1
                } catch {
                    counters.lostEvents.add(1, ordering: .relaxed)
                    lostEventsMetric.increment()
                    logger.error(
                        "risk sidecar lost events: its limits may be off until the accounts' orders end",
                        metadata: ["shard": "\(subscriber.shard.id)", "error": "\(error)"])
                }
            }
            applied += n
        }
        if applied > 0 { counters.events.add(applied, ordering: .relaxed) }
        return applied
    }
}
