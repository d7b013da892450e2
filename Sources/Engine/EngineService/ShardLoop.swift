import ChronosConfig
import ChronosCore
import Journal
import MatchingEngine
import Messaging
import Runtime
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The engine thread's state: the engine, its journal writer, sockets and buffers, all created
/// (and the engine recovered from the journal) before the loop.
final class ShardLoop {
    let configuration: EngineShard.Configuration
    let counters: EngineShardCounters
    let engine: Engine
    let journal: JournalWriter
    let orders: ZMQSocket
    let publisher: ZMQSocket
    let poller: ZMQPoller
    var gateways: GatewayDirectory
    let shardID: UInt16
    /// Held reports (`machine` durability only).
    var outbox: Outbox?
    /// What the recovery rebuilt.
    let recovery: JournalRecovery
    let seededFromLog: Bool
    /// The engine's state right after recovery, for the snapshot writer's shadow engine (emptied
    /// once handed over).
    var initialSnapshot: [UInt8]
    /// Incoming routing id, frame, and outgoing frame buffers.
    let identityBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    let inFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    let outFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)
    var lastHeartbeat: UInt64 = 0
    let metrics: ShardMetrics

    init(
        _ configuration: EngineShard.Configuration, context: ZMQContext, counters: EngineShardCounters,
        seedLog: [EngineEvent]?
    ) throws {
        self.configuration = configuration
        self.counters = counters
        metrics = ShardMetrics(shard: configuration.shard.id)
        shardID = UInt16(configuration.shard.id)
        let engine = try Engine(configuration: configuration.engine)
        for symbol in configuration.symbols { try engine.addSymbol(symbol) }
        self.engine = engine
        // 1. Recovery: the newest snapshot and the journal after it (or, for an empty journal, a
        //    seed log), recovered orders reporting to the gateway their id names once it is heard from.
        var gateways = GatewayDirectory()
        let origin: (OrderID) -> UInt16 = { id in
            gateways.reserve(gatewayID: UInt16(truncatingIfNeeded: id.rawValue >> 48)) ?? 0
        }
        let directory = configuration.journalDirectory
        let identity = configuration.identity
        var (recovery, journal) = try ShardJournal.recover(
            directory: directory, shard: configuration.shard.id, identityText: identity.canonical,
            fingerprint: identity.fingerprint, settings: configuration.journal, engine: engine, origin: origin)
        var seeded = false
        var pendingTail = recovery.replay.unpublishedTail
        if recovery.lastJournaled == 0 && recovery.snapshotPath == nil, let seedLog, !seedLog.isEmpty {
            let summary = try engine.recover(from: seedLog, origin: origin)
            seeded = true
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)
            defer { buffer.deallocate() }
            for event in seedLog {
                let frame = WireFrame(
                    shard: UInt16(configuration.shard.id), message: .event(event, clientTimestampNanos: 0))
                guard case .success(let n) = frame.encode(into: buffer),
                    journal.append(sequence: event.sequence, frame: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                else {
                    throw JournalError.replay(
                        "\(directory): the seed log does not fit the journal at \(event.sequence)")
                }
            }
            journal.commit()
            recovery.replay = summary
            recovery.lastJournaled = journal.nextSequence - 1
            pendingTail = summary.unpublishedTail
        }
        self.gateways = gateways
        self.journal = journal
        self.recovery = recovery
        seededFromLog = seeded
        // 2. Sockets.
        orders = try ZMQSocket(context, .router)
        try orders.setRouterMandatory(true)
        try orders.setSendHighWaterMark(100_000)
        try orders.bind(configuration.shard.ordersEndpoint)
        publisher = try ZMQSocket(context, .publisher)
        try publisher.setSendHighWaterMark(1_000_000)
        try publisher.setLinger(milliseconds: 1_000)  // a clean stop flushes what subscribers have not read
        try publisher.bind(configuration.shard.eventsEndpoint)
        poller = ZMQPoller([orders])
        if configuration.journal.durability == .machine {
            outbox = Outbox(capacity: configuration.outboxCapacity, frameSize: WireFormat.maxFrameSize)
        }
        initialSnapshot = []
        // 3. The part of the last command the journal lacked: journaled, then published.
        for event in pendingTail {
            let frame = encode(.event(event, clientTimestampNanos: 0))
            guard journal.append(sequence: event.sequence, frame: frame) else {
                throw JournalError.replay("\(directory): cannot journal the recovered tail at \(event.sequence)")
            }
        }
        journal.commit()
        if configuration.journal.durability == .machine { try journal.files.syncNow() }
        for event in pendingTail {
            publish(encode(.event(event, clientTimestampNanos: 0)))
        }
        let last = engine.nextSequence - 1
        counters.lastSequence.store(last, ordering: .relaxed)
        counters.releasedSequence.store(last, ordering: .relaxed)
        metrics.lastSequence.record(Int64(last))
        counters.stateHash.store(engine.stateHash(), ordering: .relaxed)
        if configuration.journal.snapshotEveryEvents > 0 { initialSnapshot = engine.snapshotBytes() }
    }

    deinit {
        orders.close()
        publisher.close()
        identityBuffer.deallocate()
        inFrame.deallocate()
        outFrame.deallocate()
    }

    func run(until stopping: borrowing Atomic<Bool>) {
        let spin = configuration.shard.idle == .spin
        let timeout = max(1, (configuration.shard.pollTimeoutMicroseconds + 999) / 1_000)
        while !stopping.load(ordering: .acquiring) && !counters.journalFailed.load(ordering: .relaxed) {
            var work = 0
            let holding = !(outbox?.isEmpty ?? true)
            if !spin { _ = try? poller.poll(timeoutMilliseconds: holding ? 0 : timeout) }
            work += drainOrders()
            work += releaseHeld()
            heartbeatIfDue()
            if work == 0 && holding && !spin { usleep(20) }
        }
        if !counters.journalFailed.load(ordering: .relaxed) {
            // Answer what already arrived, so that no accepted order is left unanswered, and release
            // what is held once the journal is synced (bounded: 10 s).
            while drainOrders() > 0 {}
            let deadline = SystemClock.monotonicNanoseconds() + 10_000_000_000
            while !(outbox?.isEmpty ?? true) && SystemClock.monotonicNanoseconds() < deadline {
                if releaseHeld() == 0 { usleep(50) }
            }
        }
        heartbeat(now: SystemClock.monotonicNanoseconds())
        counters.stateHash.store(engine.stateHash(), ordering: .relaxed)
    }

    /// Writes a snapshot of the engine as it is now (the loop has ended).
    func writeFinalSnapshot() {
        let sequence = engine.nextSequence - 1
        guard sequence > counters.snapshotSequence.load(ordering: .relaxed) else { return }
        let file = SnapshotFile(
            sequence: sequence, identityText: configuration.identity.canonical,
            fingerprint: configuration.identity.fingerprint, body: engine.snapshotBytes(),
            createdNanos: SystemClock.wallClockNanoseconds())
        do {
            try file.write(directory: configuration.journalDirectory)
            counters.snapshotSequence.store(sequence, ordering: .relaxed)
            try ShardJournal.prune(
                directory: configuration.journalDirectory, keepSnapshots: configuration.journal.keepSnapshots,
                keepSegments: configuration.journal.keepSegments)
        } catch {
            counters.snapshotFailures.add(1, ordering: .relaxed)
        }
    }

    /// Sends `frame` on the PUB socket (fire and forget).
    func publish(_ frame: UnsafeRawBufferPointer) {
        if (try? publisher.send(frame, dontWait: true)) != .sent {
            counters.unpublishedEvents.add(1, ordering: .relaxed)
            metrics.unpublishedEvents.increment()
        }
    }

    // MARK: Orders

    /// Handles up to `batch` commands waiting on the orders socket; returns how many.
    func drainOrders() -> Int {
        var handled = 0
        while handled < configuration.batch {
            // Held reports waiting for the device: read no more commands than the outbox can answer.
            if let held = outbox?.count, held > configuration.outboxCapacity - configuration.outboxReserve { break }
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
            if counters.journalFailed.load(ordering: .relaxed) { break }
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
        let started = SystemClock.monotonicNanoseconds()
        counters.commands.add(1, ordering: .relaxed)
        metrics.commands.increment()
        let produced = engine.submit(command)
        counters.events.add(produced, ordering: .relaxed)
        metrics.events.increment(by: produced)
        defer {
            journal.commit()
            counters.lastSequence.store(journal.nextSequence - 1, ordering: .relaxed)
            metrics.lastSequence.record(Int64(journal.nextSequence - 1))
            metrics.commandDuration.recordNanoseconds(Int64(SystemClock.monotonicNanoseconds() - started))
        }
        for event in engine.events {
            let own = event.concernsCommand(command.orderID)
            let frame = encode(.event(event, clientTimestampNanos: own ? timestamp : 0))
            // The journal first: nothing reaches a client or a subscriber before it is there.
            guard journal.append(sequence: event.sequence, frame: frame) else {
                journalFailed(at: event.sequence)
                return
            }
            var maker: UInt16 = 0
            if case .fill(let fill) = event, fill.makerOrigin != gateway, fill.makerOrigin != 0 {
                maker = fill.makerOrigin
            }
            if outbox != nil {
                // A sweep can produce more events than the outbox holds: commit what is written so
                // the sync can cover it, and release held reports until this one fits.
                while !outbox!.push(frame, sequence: event.sequence, taker: gateway, maker: maker) {
                    journal.commit()
                    if releaseHeld() == 0 { usleep(20) }
                }
            } else {
                send(frame, taker: identity, maker: maker)
                counters.releasedSequence.store(event.sequence, ordering: .relaxed)
            }
        }
    }

    /// Publishes `frame` and delivers it to the command's gateway (`taker`) and a maker's gateway.
    func send(_ frame: UnsafeRawBufferPointer, taker: UnsafeRawBufferPointer?, maker: UInt16) {
        publish(frame)
        if let taker { deliver(frame, to: taker) }
        if maker != 0, let identity = gateways.identity(maker) {
            identity.withUnsafeBytes { deliver(frame, to: $0) }
        }
    }

    /// Sends the held reports that the journal's sync now covers; returns how many.
    func releaseHeld() -> Int {
        guard outbox != nil else { return 0 }
        let synced = journal.syncedSequence
        var released = 0
        while let (entry, frame) = outbox!.first(upTo: synced) {
            if let identity = gateways.identity(entry.taker) {
                identity.withUnsafeBytes { send(frame, taker: $0, maker: entry.maker) }
            } else {
                send(frame, taker: nil, maker: entry.maker)
            }
            counters.releasedSequence.store(entry.sequence, ordering: .relaxed)
            outbox!.removeFirst()
            released += 1
        }
        return released
    }

    /// The journal cannot take events (no segment could be created: a full disk, a lost folder):
    /// the shard stops taking commands at once, sends nothing it could not journal, and ends; a
    /// restart recovers up to the last journaled event.
    func journalFailed(at sequence: UInt64) {
        counters.journalFailed.store(true, ordering: .releasing)
        metrics.journalFailures.increment()
    }

    /// Answers a command that never reached the engine: a `rejected` event with sequence 0.
    func answerLocally(_ identity: UnsafeRawBufferPointer, id: UInt64, _ reason: RejectReason, timestamp: UInt64) {
        let event = EngineEvent.rejected(
            OrderRejected(
                sequence: 0, id: OrderID(id), account: AccountID(0), symbol: SymbolID(0), command: .new,
                reason: reason))
        deliver(encode(.event(event, clientTimestampNanos: timestamp)), to: identity)
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

    /// Encodes `message` into `outFrame`; returns the frame (valid until the next encode).
    func encode(_ message: WireMessage) -> UnsafeRawBufferPointer {
        switch WireFrame(shard: shardID, message: message).encode(into: outFrame) {
        case .success(let n): return UnsafeRawBufferPointer(rebasing: outFrame[0..<n])
        case .failure: preconditionFailure("outFrame holds WireFormat.maxFrameSize bytes")
        }
    }

    // MARK: Heartbeats

    func heartbeatIfDue() {
        let now = SystemClock.monotonicNanoseconds()
        if now &- lastHeartbeat >= configuration.heartbeatIntervalNanos { heartbeat(now: now) }
    }

    func heartbeat(now: UInt64) {
        lastHeartbeat = now
        let released = counters.releasedSequence.load(ordering: .relaxed)
        let beat = Heartbeat(senderID: UInt32(shardID), sequence: released, timestampNanos: now)
        _ = try? publisher.send(encode(.heartbeat(beat)), dontWait: true)
    }
}

extension EngineShard.Configuration {
    /// Outbox entries kept free for the events of one more command batch.
    var outboxReserve: Int { min(outboxCapacity / 2, 4_096) }
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
