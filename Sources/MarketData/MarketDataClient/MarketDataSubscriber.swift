import ChronosConfig
import ChronosCore
import MarketData
import Messaging

#if canImport(Glibc)
    import Glibc
#endif

/// A consumer of the market-data service: subscribes to some symbols on their shards' PUB
/// sockets, keeps a ``MarketDataReplica`` of each, and recovers every gap with a snapshot from
/// the shard's snapshot endpoint — what tests, `chronos marketdata` and later transports use.
///
/// - On creation each replica waits for a snapshot (``MarketDataReplica/resynchronize()``) and
///   one is requested: updates arriving before it are kept and applied after it.
/// - An update numbered beyond the next one, one that contradicts the replica, or a heartbeat
///   announcing a later sequence is a **gap**: reported as ``Event/gap(symbol:expected:received:)``,
///   and a snapshot is requested (again every `snapshotTimeoutMilliseconds` until one answers). A
///   periodic snapshot on the PUB socket serves as well.
/// - A heartbeat announcing a *lower* sequence than the replica's means the publisher numbers
///   from lower again (its shard lost its history): the replica starts over from a snapshot
///   (``Event/restarted(symbol:)``).
///
/// Owned by one thread (its ZeroMQ sockets are); ``next(timeoutMilliseconds:)`` drives it.
public final class MarketDataSubscriber {
    /// A symbol to follow: its id, name (the PUB topic) and shard.
    public struct Symbol: Hashable, Sendable {
        /// Its id: its index in the exchange's configured symbols.
        public var id: SymbolID
        /// Its name: the topic on the PUB socket.
        public var name: String
        /// The shard that trades it.
        public var shard: Int
        /// A symbol to follow.
        public init(id: SymbolID, name: String, shard: Int) {
            self.id = id
            self.name = name
            self.shard = shard
        }
    }

    /// One shard's market-data endpoints.
    public struct Feed: Hashable, Sendable {
        /// The shard.
        public var shard: Int
        /// The PUB endpoint (updates, heartbeats, periodic snapshots).
        public var updates: String
        /// The ROUTER endpoint (snapshot requests).
        public var snapshots: String
        /// One shard's endpoints.
        public init(shard: Int, updates: String, snapshots: String) {
            self.shard = shard
            self.updates = updates
            self.snapshots = snapshots
        }
    }

    /// Tuning; the defaults suit tests and tools.
    public struct Options: Sendable {
        /// `ZMQ_RCVHWM` of the SUB socket: messages queued before ZeroMQ drops (a gap, recovered).
        public var receiveHighWaterMark = 100_000
        /// How long to wait for a snapshot answer before asking again, in ms.
        public var snapshotTimeoutMilliseconds = 1_000
        /// Updates a recovering replica keeps while it waits for its snapshot.
        public var bufferCapacity = 16_384
        /// Price levels per side a replica can hold.
        public var levelCapacityPerSide = 16_384
        /// A feed silent this long (not even a heartbeat), in ms, is taken to be restarting: the
        /// subscriber connects again (libzmq does not always resume a connection to a publisher
        /// that closed and bound again). Give a few heartbeat periods.
        public var silenceTimeoutMilliseconds = 5_000
        /// The defaults.
        public init() {}
    }

    /// What ``next(timeoutMilliseconds:)`` reports.
    public enum Event: Hashable, Sendable {
        /// An update applied to its symbol's replica, in sequence.
        case update(MarketDataUpdate)
        /// A symbol's heartbeat (after the replica checked it).
        case heartbeat(MarketDataHeartbeat)
        /// Updates of `symbol` were lost (`expected` was due, `received` came or was announced;
        /// equal for an update that contradicted the book): its replica recovers by snapshot.
        case gap(symbol: SymbolID, expected: UInt64, received: UInt64)
        /// The replica of the snapshot's symbol took it and is live again.
        case recovered(MarketDataSnapshot)
        /// The snapshot endpoint refused a request for `symbol`.
        case snapshotRefused(symbol: SymbolID, status: SnapshotStatus)
        /// The publisher's sequence of `symbol` went back (its shard lost its history): the
        /// replica starts over from a snapshot.
        case restarted(symbol: SymbolID)
    }

    /// Why a subscriber could not be made from a configuration.
    public enum SetupError: Error, Hashable, CustomStringConvertible {
        /// No symbol of the configuration has this name.
        case unknownSymbol(String)
        /// The shard's endpoint is only reachable inside the exchange's process.
        case unreachable(shard: Int, endpoint: String)
        /// A socket could not be set up, or no endpoints were given for a shard.
        case socket(String)

        /// One line, with what to change.
        public var description: String {
            switch self {
            case .unknownSymbol(let name): "unknown symbol \(name)"
            case .unreachable(let shard, let endpoint):
                "shard \(shard)'s market data is on \(endpoint), which another process cannot reach: configure "
                    + "market_data and market_data_snapshots (ipc:// or tcp://HOST:PORT) in its [[shards]] table"
            case .socket(let message): message
            }
        }
    }

    /// What the subscriber did so far.
    public struct Counters: Sendable {
        /// Gaps detected (updates lost, contradictions, heartbeats ahead).
        public var gaps = 0
        /// Snapshot requests sent (first requests and repeats).
        public var snapshotRequests = 0
        /// Snapshots applied to a recovering replica.
        public var recoveries = 0
        /// Frames that did not decode, or messages not shaped as the feed's.
        public var badMessages = 0
        /// Updates dropped by ``dropUpdate`` (a test hook).
        public var droppedOnPurpose = 0
        /// Times the subscriber connected again after the feed fell silent.
        public var reconnects = 0
    }

    /// The symbols followed.
    public let symbols: [Symbol]
    /// The counters.
    public private(set) var counters = Counters()
    /// A test hook: return true to drop an update as if ZeroMQ had lost it (the replica never
    /// sees it; the gap is then detected and recovered as any other).
    public var dropUpdate: ((MarketDataUpdate) -> Bool)?

    private let options: Options
    private let feeds: [Feed]
    private var lastMessageAt: UInt64
    private let updates: ZMQSocket
    private let snapshotSockets: [Int: ZMQSocket]
    private let pollSockets: [ZMQSocket]
    private let poller: ZMQPoller
    private var replicas: [SymbolID: MarketDataReplica] = [:]
    /// Per symbol, the highest sequence the PUB stream has shown (updates, heartbeats, periodic
    /// snapshots). The stream is ordered, so only a restarted publisher announces less; a snapshot
    /// answered on the other socket may be ahead of it and says nothing about the stream.
    private var streamSequence: [SymbolID: UInt64] = [:]
    private let shardOfSymbol: [SymbolID: Int]
    /// Per recovering symbol: when its last snapshot request went (CLOCK_MONOTONIC ns).
    private var pendingRequests: [SymbolID: UInt64] = [:]
    private var nextRequestID: UInt64 = 1
    private var queue: [Event] = []
    private var queueIndex = 0
    /// Answers to ``snapshot(_:timeoutMilliseconds:)`` by request id.
    private var awaited: [UInt64: Result<MarketDataSnapshot, SnapshotStatus>?] = [:]
    private let topic = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    private let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 16)

    /// Subscribes to `symbols` on `feeds` (one per shard of the symbols).
    public init(context: ZMQContext, symbols: [Symbol], feeds: [Feed], options: Options = Options()) throws {
        self.symbols = symbols
        self.options = options
        lastMessageAt = Self.now()
        updates = try ZMQSocket(context, .subscriber)
        try updates.setReceiveHighWaterMark(Int32(clamping: options.receiveHighWaterMark))
        for symbol in symbols { try updates.subscribe(MarketDataTopic.bytes(symbol.name)) }
        let shards = Set(symbols.map(\.shard))
        var sockets: [Int: ZMQSocket] = [:]
        self.feeds = feeds.filter { shards.contains($0.shard) }
        for feed in feeds where shards.contains(feed.shard) {
            try updates.connect(feed.updates)
            let dealer = try ZMQSocket(context, .dealer)
            try dealer.connect(feed.snapshots)
            sockets[feed.shard] = dealer
        }
        for shard in shards where sockets[shard] == nil {
            throw SetupError.socket("no market-data endpoints given for shard \(shard)")
        }
        snapshotSockets = sockets
        pollSockets = [updates] + sockets.keys.sorted().compactMap { sockets[$0] }
        poller = ZMQPoller(pollSockets)
        var shardOf: [SymbolID: Int] = [:]
        for symbol in symbols {
            shardOf[symbol.id] = symbol.shard
            let replica = try MarketDataReplica(
                symbol: symbol.id, levelCapacityPerSide: options.levelCapacityPerSide,
                bufferCapacity: options.bufferCapacity)
            replica.resynchronize()
            replicas[symbol.id] = replica
        }
        shardOfSymbol = shardOf
        for symbol in symbols { requestSnapshot(symbol.id) }
    }

    /// Subscribes to the symbols named `names` of `exchange`, on the endpoints its `[[shards]]`
    /// give (``ChronosConfig/ShardConfiguration/resolvedMarketDataEndpoint``).
    /// - Throws: ``SetupError`` for an unknown name or an endpoint only the exchange's process
    ///   can reach (`inproc://`, a free tcp port), when `inProcess` is false.
    public convenience init(
        context: ZMQContext, exchange: ExchangeConfiguration, symbols names: [String], inProcess: Bool = false,
        options: Options = Options()
    ) throws {
        let map = exchange.shardMap
        var symbols: [Symbol] = []
        for name in names {
            guard let route = map.route(name) else { throw SetupError.unknownSymbol(name) }
            symbols.append(Symbol(id: SymbolID(route.symbol), name: name, shard: route.shard))
        }
        let feeds = try exchange.shards.map { shard in
            let feed = Feed(
                shard: shard.id, updates: shard.resolvedMarketDataEndpoint,
                snapshots: shard.resolvedMarketDataSnapshotEndpoint)
            if !inProcess, symbols.contains(where: { $0.shard == shard.id }) {
                for endpoint in [feed.updates, feed.snapshots]
                where endpoint.hasPrefix("inproc://") || endpoint.hasSuffix(":*") {
                    throw SetupError.unreachable(shard: shard.id, endpoint: endpoint)
                }
            }
            return feed
        }
        try self.init(context: context, symbols: symbols, feeds: feeds, options: options)
    }

    deinit {
        updates.close()
        for socket in snapshotSockets.values { socket.close() }
        topic.deallocate()
        frame.deallocate()
    }

    /// The replica of `symbol`, if followed.
    public func replica(_ symbol: SymbolID) -> MarketDataReplica? { replicas[symbol] }

    /// True when every followed symbol's replica is live.
    public var isLive: Bool { replicas.values.allSatisfy(\.isLive) }

    /// The next event, waiting up to `timeoutMilliseconds` (0: only what already arrived);
    /// nil when nothing happened in time. Repeats overdue snapshot requests as it goes.
    public func next(timeoutMilliseconds: Int) -> Event? {
        if let event = dequeue() { return event }
        let deadline = Self.now() &+ UInt64(max(timeoutMilliseconds, 0)) * 1_000_000
        while true {
            repeatOverdueRequests()
            reconnectIfSilent()
            let now = Self.now()
            let remaining = deadline > now ? Int((deadline - now) / 1_000_000) : 0
            if (try? poller.poll(timeoutMilliseconds: min(remaining, 50))) ?? 0 > 0 {
                drainUpdates()
                drainSnapshots()
            }
            if let event = dequeue() { return event }
            if Self.now() >= deadline { return nil }
        }
    }

    /// Asks `symbol`'s shard for a snapshot and waits up to `timeoutMilliseconds` for the answer,
    /// handling the feed meanwhile (its events stay queued for ``next(timeoutMilliseconds:)``).
    /// Returns the snapshot, the refusal's status, or nil when no answer came in time.
    public func snapshot(_ symbol: SymbolID, timeoutMilliseconds: Int) -> Result<MarketDataSnapshot, SnapshotStatus>? {
        guard let shard = shardOfSymbol[symbol] ?? symbols.first?.shard else { return nil }
        let id = send(SnapshotRequest(requestID: takeRequestID(), symbol: symbol), shard: shard)
        awaited[id] = .some(nil)
        defer { awaited[id] = nil }
        let deadline = Self.now() &+ UInt64(max(timeoutMilliseconds, 0)) * 1_000_000
        while true {
            if let answer = awaited[id] ?? nil { return answer }
            let now = Self.now()
            if now >= deadline { return nil }
            if (try? poller.poll(timeoutMilliseconds: min(Int((deadline - now) / 1_000_000) + 1, 50))) ?? 0 > 0 {
                drainUpdates()
                drainSnapshots()
            }
        }
    }

    // MARK: Receiving

    private func reconnectIfSilent() {
        let now = Self.now()
        guard now &- lastMessageAt > UInt64(max(options.silenceTimeoutMilliseconds, 1)) * 1_000_000 else { return }
        lastMessageAt = now
        counters.reconnects += 1
        for feed in feeds {
            try? updates.disconnect(feed.updates)
            try? updates.connect(feed.updates)
            if let dealer = snapshotSockets[feed.shard] {
                try? dealer.disconnect(feed.snapshots)
                try? dealer.connect(feed.snapshots)
            }
        }
    }

    private func drainUpdates() {
        for _ in 0..<1_024 {
            guard
                case .received(let topicCount, let topicTruncated)? = try? updates.receive(into: topic, dontWait: true)
            else { return }
            lastMessageAt = Self.now()
            guard !topicTruncated, topicCount > 0, updates.hasMoreParts,
                case .received(let count, false)? = try? updates.receive(into: frame, dontWait: true),
                case .success(let decoded) = MarketDataFrame.decode(UnsafeRawBufferPointer(rebasing: frame[0..<count]))
            else {
                updates.discardRemainingParts()
                counters.badMessages += 1
                continue
            }
            switch decoded.message {
            case .update(let update):
                if updates.hasMoreParts { updates.discardRemainingParts() }
                handle(update)
            case .heartbeat(let heartbeat):
                if updates.hasMoreParts { updates.discardRemainingParts() }
                handle(heartbeat)
            case .snapshot(let header):
                if let snapshot = readSnapshot(header, from: updates) {
                    streamSequence[snapshot.symbol] = max(streamSequence[snapshot.symbol] ?? 0, snapshot.sequence)
                    offer(snapshot, requested: false)
                }
            case .snapshotRequest:
                updates.discardRemainingParts()
                counters.badMessages += 1
            }
        }
    }

    private func drainSnapshots() {
        for socket in snapshotSockets.values {
            while case .received(let count, false)? = try? socket.receive(into: frame, dontWait: true) {
                guard
                    case .success(let decoded) = MarketDataFrame.decode(
                        UnsafeRawBufferPointer(rebasing: frame[0..<count])),
                    case .snapshot(let header) = decoded.message
                else {
                    socket.discardRemainingParts()
                    counters.badMessages += 1
                    continue
                }
                guard header.status == .ok else {
                    socket.discardRemainingParts()
                    if awaited[header.requestID] != nil { awaited[header.requestID] = .some(.failure(header.status)) }
                    pendingRequests[header.symbol] = nil
                    queue.append(.snapshotRefused(symbol: header.symbol, status: header.status))
                    continue
                }
                guard let snapshot = readSnapshot(header, from: socket) else { continue }
                if awaited[header.requestID] != nil { awaited[header.requestID] = .some(.success(snapshot)) }
                offer(snapshot, requested: true)
            }
        }
    }

    /// Reads the level parts that follow `header` on `socket`.
    private func readSnapshot(_ header: SnapshotHeader, from socket: ZMQSocket) -> MarketDataSnapshot? {
        var levels: [LevelUpdate] = []
        levels.reserveCapacity(Int(min(header.bidCount + header.offerCount, 1 << 20)))
        while socket.hasMoreParts {
            guard case .received(let count, false)? = try? socket.receive(into: frame, dontWait: true),
                case .success(let decoded) = MarketDataFrame.decode(UnsafeRawBufferPointer(rebasing: frame[0..<count])),
                case .update(.level(let level)) = decoded.message
            else {
                socket.discardRemainingParts()
                counters.badMessages += 1
                return nil
            }
            levels.append(level)
        }
        guard let snapshot = MarketDataSnapshot(header, levels: levels) else {
            counters.badMessages += 1
            return nil
        }
        return snapshot
    }

    // MARK: The replicas

    private func handle(_ update: MarketDataUpdate) {
        guard let replica = replicas[update.symbol] else { return }
        if let dropUpdate, dropUpdate(update) {
            counters.droppedOnPurpose += 1
            return
        }
        streamSequence[update.symbol] = max(streamSequence[update.symbol] ?? 0, update.sequence)
        switch replica.apply(update) {
        case .applied: queue.append(.update(update))
        case .gap(let expected, let received): gap(update.symbol, expected, received)
        case .inconsistent(let sequence): gap(update.symbol, sequence, sequence)
        case .buffered, .duplicate, .otherSymbol, .unusableSnapshot: break
        }
    }

    private func handle(_ heartbeat: MarketDataHeartbeat) {
        let symbol = heartbeat.symbol
        guard let replica = replicas[symbol] else { return }
        let streamed = streamSequence[symbol] ?? 0
        streamSequence[symbol] = heartbeat.lastSequence
        if heartbeat.lastSequence < streamed,
            let fresh = try? MarketDataReplica(
                symbol: symbol, levelCapacityPerSide: options.levelCapacityPerSide,
                bufferCapacity: options.bufferCapacity)
        {
            fresh.resynchronize()
            replicas[symbol] = fresh
            queue.append(.restarted(symbol: symbol))
            requestSnapshot(symbol)
        } else if case .gap(let expected, let received) = replica.applyHeartbeat(lastSequence: heartbeat.lastSequence) {
            gap(symbol, expected, received)
        }
        queue.append(.heartbeat(heartbeat))
    }

    private func gap(_ symbol: SymbolID, _ expected: UInt64, _ received: UInt64) {
        counters.gaps += 1
        queue.append(.gap(symbol: symbol, expected: expected, received: received))
        requestSnapshot(symbol)
    }

    /// Gives `snapshot` to its replica when that is recovering.
    private func offer(_ snapshot: MarketDataSnapshot, requested: Bool) {
        guard let replica = replicas[snapshot.symbol], !replica.isLive else { return }
        switch replica.apply(snapshot) {
        case .applied:
            counters.recoveries += 1
            pendingRequests[snapshot.symbol] = nil
            queue.append(.recovered(snapshot))
        case .gap:
            // Older than the updates kept since the gap: a newer one is needed.
            if requested { requestSnapshot(snapshot.symbol) }
        default:
            if requested { requestSnapshot(snapshot.symbol) }
        }
    }

    // MARK: Requests

    private func requestSnapshot(_ symbol: SymbolID) {
        guard let shard = shardOfSymbol[symbol] else { return }
        send(SnapshotRequest(requestID: takeRequestID(), symbol: symbol), shard: shard)
        pendingRequests[symbol] = Self.now()
    }

    private func repeatOverdueRequests() {
        guard !pendingRequests.isEmpty else { return }
        let now = Self.now()
        let timeout = UInt64(max(options.snapshotTimeoutMilliseconds, 1)) * 1_000_000
        for (symbol, sentAt) in pendingRequests where now &- sentAt >= timeout {
            if replicas[symbol]?.isLive ?? true {
                pendingRequests[symbol] = nil
            } else {
                requestSnapshot(symbol)
            }
        }
    }

    @discardableResult
    private func send(_ request: SnapshotRequest, shard: Int) -> UInt64 {
        counters.snapshotRequests += 1
        guard let socket = snapshotSockets[shard],
            case .success(let count) = MarketDataFrame(
                shard: UInt16(truncatingIfNeeded: shard), message: .snapshotRequest(request)
            ).encode(into: frame)
        else { return request.requestID }
        _ = try? socket.send(UnsafeRawBufferPointer(rebasing: frame[0..<count]), dontWait: true)
        return request.requestID
    }

    private func takeRequestID() -> UInt64 {
        defer { nextRequestID &+= 1 }
        return nextRequestID
    }

    private func dequeue() -> Event? {
        guard queueIndex < queue.count else {
            queue.removeAll(keepingCapacity: true)
            queueIndex = 0
            return nil
        }
        defer { queueIndex += 1 }
        return queue[queueIndex]
    }

    private static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
