import CChronosSystem
import ChronosConfig
import ChronosCore
import MatchingEngine
import Messaging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Counters of one engine shard, readable from any thread.
public final class EngineShardCounters: Sendable {
    /// Commands that reached the engine.
    public let commands = Atomic<Int>(0)
    /// Events the engine produced (and published).
    public let events = Atomic<Int>(0)
    /// Frames that could not be decoded or were not commands.
    public let badFrames = Atomic<Int>(0)
    /// Orders for a symbol of another shard.
    public let wrongShard = Atomic<Int>(0)
    /// Reports that could not be delivered to their gateway (gone, or its queue full).
    public let undeliveredReports = Atomic<Int>(0)
    /// Events the PUB socket refused (ZeroMQ PUB drops silently at its high-water mark; subscribers
    /// see those as sequence gaps and recover them from the retransmission ring).
    public let unpublishedEvents = Atomic<Int>(0)
    /// Replay requests answered.
    public let replayRequests = Atomic<Int>(0)
    /// The sequence of the last event the engine produced (0: none yet); after a recovery, the
    /// last recovered one. A draining persister reads up to here.
    public let lastSequence = Atomic<UInt64>(0)
    /// ``Engine/stateHash()`` after a recovery and again when the loop ends (0 before either).
    public let stateHash = Atomic<UInt64>(0)

    public init() {}
}

/// One matching-engine shard as a service: a thread that owns an ``Engine`` and its sockets.
///
/// - Orders arrive on a ROUTER socket (`[gateway routing id][newOrder | cancel | replace frame]`).
/// - Every event goes back as `[routing id][event frame]` to the gateway that sent the order it
///   concerns (a fill to both the taker's and the maker's gateway), echoing the command's
///   client timestamp on the command's own events.
/// - Every event is published on a PUB socket (fire and forget) and kept in a preallocated
///   ``RetransmissionRing``; a ROUTER replay socket answers ``ReplayRequest``s from it.
/// - A heartbeat with the last sequence number is published every `heartbeatInterval`, so an
///   idle subscriber still notices a missed tail.
///
/// Orders for a symbol of another shard, and frames that do not decode, are answered with a
/// `rejected` event carrying sequence 0: they never reach the book or the sequenced stream.
public final class EngineShard: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var shard: ShardConfiguration
        public var shardMap: ShardMap
        public var engine: EngineConfiguration
        public var symbols: [SymbolConfiguration]
        /// Heartbeat period on the PUB socket, in ns.
        public var heartbeatIntervalNanos: UInt64 = 1_000_000_000
        /// Most commands handled per loop turn before the replay socket gets a turn.
        public var batch: Int = 256
        /// Most events in one replay answer (ask again from `last + 1`).
        public var maxReplayEvents: Int = 10_000

        public init(
            shard: ShardConfiguration, shardMap: ShardMap, engine: EngineConfiguration,
            symbols: [SymbolConfiguration]
        ) {
            self.shard = shard
            self.shardMap = shardMap
            self.engine = engine
            self.symbols = symbols
        }

        /// Shard `id` of an exchange configuration.
        public init(_ exchange: ExchangeConfiguration, shard id: Int) {
            self.init(
                shard: exchange.shards[id], shardMap: exchange.shardMap, engine: exchange.engine,
                symbols: exchange.liveSymbols)
        }
    }

    public let configuration: Configuration
    public let counters = EngineShardCounters()
    private let context: ZMQContext
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private var thread: ServiceThread?
    private var recoveryLog: [EngineEvent]?
    /// What the recovery rebuilt (set by ``start()`` when the shard was given a log).
    public private(set) var recovery: RecoverySummary?

    /// A shard that will bind its sockets in `context` when started.
    ///
    /// - Parameter recoveryLog: the events this shard published in an earlier life, from sequence
    ///   1 (e.g. from the persister's store): ``start()`` rebuilds the books from them before the
    ///   shard takes commands, and numbering continues after the last one.
    public init(_ configuration: Configuration, context: ZMQContext, recoveryLog: [EngineEvent]? = nil) {
        self.configuration = configuration
        self.context = context
        self.recoveryLog = recoveryLog
    }

    /// True once the engine thread has bound its sockets and runs its loop.
    public var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Starts the engine thread and returns once its sockets are bound (or throws why not).
    public func start() throws {
        thread = try ServiceThread { [self] in
            if let cpu = configuration.shard.cpu {
                // Pinning is a request: without the core (e.g. a smaller cpuset) the loop still runs.
                _ = chronos_pin_current_thread(Int32(cpu))
            }
            let loop = try ShardLoop(configuration, context: context, counters: counters)
            if let log = recoveryLog {
                recoveryLog = nil
                recovery = try loop.recover(from: log)
            }
            running.store(true, ordering: .releasing)
            return { [self] in loop.run(until: stopping) }
        }
    }

    /// Asks the loop to finish the commands it has, close its sockets and end; waits for it.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
    }
}

/// The engine thread's state: the engine, sockets and buffers, all created before the loop.
final class ShardLoop {
    let configuration: EngineShard.Configuration
    let counters: EngineShardCounters
    let engine: Engine
    let orders: ZMQSocket
    let publisher: ZMQSocket
    let replay: ZMQSocket
    let poller: ZMQPoller
    var ring: RetransmissionRing
    var gateways = GatewayDirectory()
    let shardID: UInt16
    /// Incoming routing id, frame, and outgoing frame buffers.
    let identityBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    let inFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    let outFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)
    var lastHeartbeat: UInt64 = 0
    let metrics: ShardMetrics

    init(_ configuration: EngineShard.Configuration, context: ZMQContext, counters: EngineShardCounters) throws {
        self.configuration = configuration
        self.counters = counters
        metrics = ShardMetrics(shard: configuration.shard.id)
        shardID = UInt16(configuration.shard.id)
        engine = try Engine(configuration: configuration.engine)
        for symbol in configuration.symbols { try engine.addSymbol(symbol) }
        orders = try ZMQSocket(context, .router)
        try orders.setRouterMandatory(true)
        try orders.setSendHighWaterMark(100_000)
        try orders.bind(configuration.shard.ordersEndpoint)
        publisher = try ZMQSocket(context, .publisher)
        try publisher.setSendHighWaterMark(1_000_000)
        try publisher.setLinger(milliseconds: 1_000)  // a clean stop flushes what subscribers have not read
        try publisher.bind(configuration.shard.eventsEndpoint)
        replay = try ZMQSocket(context, .router)
        try replay.setRouterMandatory(true)
        try replay.bind(configuration.shard.replayEndpoint)
        poller = ZMQPoller([orders, replay])
        ring = RetransmissionRing(
            capacity: configuration.shard.retransmissionCapacity, frameSize: WireMessageType.event.frameSize)
    }

    deinit {
        orders.close()
        publisher.close()
        replay.close()
        identityBuffer.deallocate()
        inFrame.deallocate()
        outFrame.deallocate()
    }

    func run(until stopping: borrowing Atomic<Bool>) {
        let spin = configuration.shard.idle == .spin
        let timeout = max(1, (configuration.shard.pollTimeoutMicroseconds + 999) / 1_000)
        while !stopping.load(ordering: .acquiring) {
            var work = 0
            if !spin { _ = try? poller.poll(timeoutMilliseconds: timeout) }
            work += drainOrders()
            work += drainReplayRequests()
            heartbeatIfDue()
            if spin && work == 0 { continue }
        }
        // Drain what already arrived so that no accepted order is left unanswered.
        while drainOrders() > 0 {}
        heartbeat(now: monotonicNanoseconds())
        counters.stateHash.store(engine.stateHash(), ordering: .relaxed)
    }

    // MARK: Recovery

    /// Rebuilds the engine from `log` (see ``Engine/recover(from:origin:)``): recovered orders
    /// report to the gateway their id names once it is heard from; the part of the last command
    /// the log lacks is published now (and kept in the ring) so that subscribers see it.
    func recover(from log: [EngineEvent]) throws -> RecoverySummary {
        let summary = try engine.recover(from: log) { id in
            gateways.reserve(gatewayID: UInt16(truncatingIfNeeded: id.rawValue >> 48)) ?? 0
        }
        for event in summary.unpublishedTail { publish(event, clientTimestampNanos: 0) }
        counters.lastSequence.store(engine.nextSequence - 1, ordering: .relaxed)
        metrics.lastSequence.record(Int64(engine.nextSequence - 1))
        counters.stateHash.store(engine.stateHash(), ordering: .relaxed)
        return summary
    }

    /// Encodes `event` into `outFrame`, keeps it in the ring and publishes it; returns the frame.
    @discardableResult
    func publish(_ event: EngineEvent, clientTimestampNanos: UInt64) -> UnsafeRawBufferPointer {
        let length = encode(.event(event, clientTimestampNanos: clientTimestampNanos))
        let frame = UnsafeRawBufferPointer(rebasing: outFrame[0..<length])
        ring.append(sequence: event.sequence, frame: frame)
        if (try? publisher.send(frame, dontWait: true)) != .sent {
            counters.unpublishedEvents.add(1, ordering: .relaxed)
            metrics.unpublishedEvents.increment()
        }
        return frame
    }

    // MARK: Orders

    /// Handles up to `batch` commands waiting on the orders socket; returns how many.
    func drainOrders() -> Int {
        var handled = 0
        while handled < configuration.batch {
            guard
                case .received(let idCount, let idTruncated)? = try? orders.receive(
                    into: identityBuffer, dontWait: true)
            else { break }
            handled += 1
            guard orders.hasMoreParts, !idTruncated else {
                counters.badFrames.add(1, ordering: .relaxed)
                metrics.badFrames.increment()
                orders.discardRemainingParts()
                continue
            }
            let identity = UnsafeRawBufferPointer(rebasing: identityBuffer[0..<idCount])
            guard case .received(let count, let truncated)? = try? orders.receive(into: inFrame, dontWait: true)
            else { continue }
            let extraParts = orders.hasMoreParts
            if extraParts { orders.discardRemainingParts() }
            guard !truncated, !extraParts,
                case .success(let frame) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: inFrame[0..<count]))
            else {
                counters.badFrames.add(1, ordering: .relaxed)
                metrics.badFrames.increment()
                answerLocally(identity, id: 0, .malformed, timestamp: 0)
                continue
            }
            guard let gateway = gateways.number(for: identity, orderID: frame.message.commandOrderID) else {
                answerLocally(identity, id: 0, .capacityExhausted, timestamp: 0)
                continue
            }
            handle(frame.message, from: gateway, identity: identity)
        }
        return handled
    }

    func handle(_ message: WireMessage, from gateway: UInt16, identity: UnsafeRawBufferPointer) {
        let command: EngineCommand
        let timestamp: UInt64
        switch message {
        case .newOrder(var order, let ts):
            order.origin = gateway
            command = .new(order)
            timestamp = ts
        case .cancel(let cancel, let ts):
            command = .cancel(cancel)
            timestamp = ts
        case .replace(let replace, let ts):
            command = .replace(replace)
            timestamp = ts
        default:
            counters.badFrames.add(1, ordering: .relaxed)
            metrics.badFrames.increment()
            answerLocally(identity, id: 0, .malformed, timestamp: 0)
            return
        }
        let symbol = Int(command.symbolID.rawValue)
        guard symbol < configuration.shardMap.shardOfSymbol.count,
            configuration.shardMap.shardOfSymbol[symbol] == configuration.shard.id
        else {
            counters.wrongShard.add(1, ordering: .relaxed)
            metrics.wrongShard.increment()
            answerLocally(identity, id: command.orderID.rawValue, .unknownSymbol, timestamp: timestamp)
            return
        }
        let started = monotonicNanoseconds()
        counters.commands.add(1, ordering: .relaxed)
        metrics.commands.increment()
        let produced = engine.submit(command)
        counters.events.add(produced, ordering: .relaxed)
        metrics.events.increment(by: produced)
        counters.lastSequence.store(engine.nextSequence - 1, ordering: .relaxed)
        defer {
            metrics.lastSequence.record(Int64(engine.nextSequence - 1))
            metrics.commandDuration.recordNanoseconds(Int64(monotonicNanoseconds() - started))
        }
        for event in engine.events {
            let own = event.concernsCommand(command.orderID)
            let frame = publish(event, clientTimestampNanos: own ? timestamp : 0)
            deliver(frame, to: identity)
            if case .fill(let fill) = event, fill.makerOrigin != gateway, fill.makerOrigin != 0,
                let maker = gateways.identity(fill.makerOrigin)
            {
                maker.withUnsafeBytes { deliver(frame, to: $0) }
            }
        }
    }

    /// Answers a command that never reached the engine: a `rejected` event with sequence 0.
    func answerLocally(_ identity: UnsafeRawBufferPointer, id: UInt64, _ reason: RejectReason, timestamp: UInt64) {
        let event = EngineEvent.rejected(
            OrderRejected(
                sequence: 0, id: OrderID(id), account: AccountID(0), symbol: SymbolID(0), command: .new,
                reason: reason))
        let length = encode(.event(event, clientTimestampNanos: timestamp))
        deliver(UnsafeRawBufferPointer(rebasing: outFrame[0..<length]), to: identity)
    }

    func deliver(_ frame: UnsafeRawBufferPointer, to identity: UnsafeRawBufferPointer) {
        do {
            guard try orders.send(identity, more: true, dontWait: true) == .sent,
                try orders.send(frame, dontWait: true) == .sent
            else {
                counters.undeliveredReports.add(1, ordering: .relaxed)
                metrics.undeliveredReports.increment()
                return
            }
        } catch {
            counters.undeliveredReports.add(1, ordering: .relaxed)  // EHOSTUNREACH: that gateway is gone
        }
    }

    func encode(_ message: WireMessage) -> Int {
        switch WireFrame(shard: shardID, message: message).encode(into: outFrame) {
        case .success(let n): return n
        case .failure: preconditionFailure("outFrame holds WireFormat.maxFrameSize bytes")
        }
    }

    // MARK: Replay and heartbeats

    func drainReplayRequests() -> Int {
        var handled = 0
        while handled < 64 {
            guard
                case .received(let idCount, let idTruncated)? = try? replay.receive(
                    into: identityBuffer, dontWait: true)
            else { break }
            handled += 1
            guard replay.hasMoreParts, !idTruncated,
                case .received(let count, let truncated)? = try? replay.receive(into: inFrame, dontWait: true),
                !truncated, !replay.hasMoreParts,
                case .success(let frame) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: inFrame[0..<count])),
                case .replayRequest(let request) = frame.message
            else {
                replay.discardRemainingParts()
                counters.badFrames.add(1, ordering: .relaxed)
                metrics.badFrames.increment()
                continue
            }
            counters.replayRequests.add(1, ordering: .relaxed)
            metrics.replayRequests.increment()
            let identity = UnsafeRawBufferPointer(rebasing: identityBuffer[0..<idCount])
            answer(request, shard: frame.shard, to: identity)
        }
        return handled
    }

    func answer(_ request: ReplayRequest, shard: UInt16, to identity: UnsafeRawBufferPointer) {
        let available = ring.available
        let last = ring.lastSequence
        let first = available?.lowerBound ?? 0
        var response = ReplayResponse(status: .ok, firstSequence: first, lastSequence: last, count: 0)
        if shard != shardID {
            response.status = .unknownShard
        } else if request.fromSequence == 0 || request.fromSequence > request.toSequence {
            response.status = .invalidRange
        } else if request.fromSequence > last {
            response.status = .beyondLatest
        } else if available == nil || request.fromSequence < first {
            response.status = .tooOld
        } else {
            let to = min(request.toSequence, last, request.fromSequence + UInt64(configuration.maxReplayEvents) - 1)
            response = ReplayResponse(
                status: .ok, firstSequence: request.fromSequence, lastSequence: to,
                count: UInt32(to - request.fromSequence + 1))
        }
        let length = encode(.replayResponse(response))
        do {
            try replay.send(identity, more: true)
            try replay.send(UnsafeRawBufferPointer(rebasing: outFrame[0..<length]), more: response.count > 0)
            if response.status == .ok {
                for s in response.firstSequence...response.lastSequence {
                    try replay.send(ring.frame(s)!, more: s < response.lastSequence)
                }
            }
        } catch {
            counters.undeliveredReports.add(1, ordering: .relaxed)
            metrics.undeliveredReports.increment()
        }
    }

    func heartbeatIfDue() {
        let now = monotonicNanoseconds()
        if now &- lastHeartbeat >= configuration.heartbeatIntervalNanos { heartbeat(now: now) }
    }

    func heartbeat(now: UInt64) {
        lastHeartbeat = now
        let beat = Heartbeat(senderID: UInt32(shardID), sequence: engine.nextSequence - 1, timestampNanos: now)
        let length = encode(.heartbeat(beat))
        _ = try? publisher.send(UnsafeRawBufferPointer(rebasing: outFrame[0..<length]), dontWait: true)
    }
}

extension WireMessage {
    /// The order id a command names (0 for messages that are not commands).
    var commandOrderID: UInt64 {
        switch self {
        case .newOrder(let order, _): order.id.rawValue
        case .cancel(let cancel, _): cancel.id.rawValue
        case .replace(let replace, _): replace.id.rawValue
        default: 0
        }
    }
}

extension EngineEvent {
    /// True when the event is about the order the command named (its own events, as opposed to
    /// the makers' side of its fills).
    func concernsCommand(_ id: OrderID) -> Bool {
        switch self {
        case .accepted(let e): e.id == id
        case .rejected(let e): e.id == id
        case .fill(let e): e.takerID == id
        case .canceled(let e): e.id == id
        case .replaced(let e): e.id == id
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds (a vDSO call, about 20 ns here): the services' one clock.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
