import ChronosConfig
import ChronosCore
import Logging
import MarketData
import Messaging
import Runtime
import ShardClient
import Synchronization

/// One shard's market data, on its own thread: follows the shard's events (``EventSubscriber``,
/// from sequence 1: the book needs every event), applies them to a ``MarketDataBook`` and
/// publishes the updates (``MarketDataPublisher``), heartbeats and periodic snapshots; answers
/// snapshot requests (``SnapshotResponder``).
///
/// On start it asks the shard for its last sequence (``ShardSequenceProbe``) and rebuilds the
/// book up to there without publishing — a restart does not replay the history to subscribers.
/// Then it is *live*: it publishes a heartbeat of every symbol at once (a consumer that was
/// following sees how far each symbol got, and recovers by snapshot if it missed something), and
/// every update from there on. Snapshot requests wait until then. Market-data sequence numbers
/// are a function of the shard's event stream alone, so a restarted publisher numbers every
/// update exactly as the one before it did.
///
/// The loop: up to `batch` events per turn (waiting up to 1 ms for the first when idle), then
/// the snapshot requests, then the timers (heartbeats, snapshots, gauges, every 100 ms).
final class ShardMarketData {
    struct Settings {
        var exchange: ExchangeConfiguration
        var shard: Int
        var batch = 256
        var probeTimeoutMilliseconds: Int32 = 2_000
    }

    let settings: Settings
    let counters: MarketDataShardCounters
    private let logger: Logger
    private let metrics: MarketDataMetrics
    private let subscriber: EventSubscriber
    let book: MarketDataBook
    let publisher: MarketDataPublisher
    let responder: SnapshotResponder
    private var updates = MarketDataUpdateBuffer(capacity: 64)
    /// The shard's symbols, by `SymbolID` raw value.
    private let shardSymbols: [SymbolID]
    private let isShardSymbol: [Bool]
    private let heartbeatNanos: UInt64
    private let snapshotNanos: UInt64
    private var catchUpTarget: UInt64
    private var live = false
    private var nextHeartbeat: UInt64 = 0
    private var nextSnapshot: UInt64 = 0
    private var nextGauges: UInt64 = 0
    private var lastWarning: UInt64 = 0
    private var suppressedWarnings = 0
    private var failedSendsSeen = 0

    /// Sets up the sockets and the book (on the thread that will run ``run(until:)``).
    init(
        _ settings: Settings, context: ZMQContext, counters: MarketDataShardCounters, metrics: MarketDataMetrics,
        logger: Logger
    ) throws {
        self.settings = settings
        self.counters = counters
        self.metrics = metrics
        self.logger = logger
        let exchange = settings.exchange
        let shard = exchange.shards[settings.shard]
        let map = exchange.shardMap
        let names = map.symbolNames
        let isShardSymbol = map.shardOfSymbol.map { $0 == shard.id }
        self.isShardSymbol = isShardSymbol
        shardSymbols = isShardSymbol.indices.filter { isShardSymbol[$0] }.map { SymbolID(UInt32($0)) }
        let market = exchange.marketData
        heartbeatNanos = UInt64(max(market.heartbeatIntervalMilliseconds, 1)) * 1_000_000
        snapshotNanos = UInt64(max(market.snapshotIntervalMilliseconds, 0)) * 1_000_000
        book = try MarketDataBook(
            configuration: MarketDataConfiguration(
                symbolCapacity: max(names.count, 1), orderCapacity: exchange.engine.orderCapacity,
                levelCapacityPerSide: market.levelCapacityPerSide))
        publisher = try MarketDataPublisher(
            context: context, endpoint: shard.resolvedMarketDataEndpoint, shard: shard.id, symbolNames: names,
            highWaterMark: market.sendHighWaterMark)
        responder = try SnapshotResponder(
            context: context, endpoint: shard.resolvedMarketDataSnapshotEndpoint, shard: shard.id)
        subscriber = try EventSubscriber(context: context, shard: shard, startSequence: 1)
        let probed = ShardSequenceProbe.lastSequence(
            context: context, shard: shard, timeoutMilliseconds: settings.probeTimeoutMilliseconds)
        if probed == nil {
            logger.warning(
                "market data: the shard's replay endpoint did not say how far its stream got; publishing from its first event",
                metadata: ["shard": "\(shard.id)"])
        }
        catchUpTarget = probed ?? 0
        counters.catchUpTarget.store(catchUpTarget, ordering: .relaxed)
    }

    /// Runs the loop until `stopping` is set.
    func run(until stopping: borrowing Atomic<Bool>) {
        goLiveIfCaughtUp(now: SystemClock.monotonicNanoseconds())
        while !stopping.load(ordering: .acquiring) {
            // Waits up to 1 ms for the first event when none is there: the loop's idle.
            drainEvents(wait: true)
            let now = SystemClock.monotonicNanoseconds()
            goLiveIfCaughtUp(now: now)
            if live {
                answerRequests()
                if now >= nextHeartbeat {
                    nextHeartbeat = now &+ heartbeatNanos
                    publishHeartbeats()
                }
                if snapshotNanos > 0, now >= nextSnapshot {
                    nextSnapshot = now &+ snapshotNanos
                    publishSnapshots()
                }
            }
            if now >= nextGauges {
                nextGauges = now &+ 100_000_000
                recordGauges()
            }
        }
        recordGauges()
    }

    // MARK: Events (the hot path)

    /// Applies up to `batch` events; publishes their updates once live. Returns the events applied.
    @discardableResult
    func drainEvents(wait: Bool) -> Int {
        var applied = 0
        var published = 0
        while applied < settings.batch {
            let event: EngineEvent?
            do {
                event = try subscriber.next(timeoutMilliseconds: applied == 0 && wait ? 1 : 0)
            } catch .lost(let from, let to) {
                let count = Int(to - from + 1)
                counters.lostEvents.add(count, ordering: .relaxed)
                metrics.lostEvents.increment(by: Int64(count))
                logger.error(
                    "market data: events lost (the shard's journal no longer has them); the book is impaired",
                    metadata: ["shard": "\(settings.shard)", "from": "\(from)", "to": "\(to)"])
                continue
            } catch {
                warn("market data: the shard's replay endpoint did not answer; will ask again", "\(error)")
                break
            }
            guard let event else { break }
            updates.clear()
            let outcome = book.apply(event, into: &updates)
            applied += 1
            if let fault = outcome.fault {
                counters.faults.add(1, ordering: .relaxed)
                metrics.faults.increment()
                warn("market data: event fault", "\(fault)")
            }
            if live || event.sequence > catchUpTarget {
                // By index: a debug build's unspecialized `for … in` boxes each (large) update it yields.
                for i in 0..<updates.updates.count where publisher.publish(updates.updates[i]) { published += 1 }
            }
        }
        if applied > 0 {
            counters.eventsApplied.add(applied, ordering: .relaxed)
            counters.lastEventSequence.store(book.lastEventSequence, ordering: .relaxed)
            metrics.eventsApplied.increment(by: Int64(applied))
        }
        if published > 0 {
            counters.updatesPublished.add(published, ordering: .relaxed)
            metrics.updatesPublished.increment(by: Int64(published))
        }
        return applied
    }

    private func goLiveIfCaughtUp(now: UInt64) {
        guard !live, book.lastEventSequence >= catchUpTarget else { return }
        live = true
        counters.live.store(true, ordering: .releasing)
        logger.info(
            "market data live",
            metadata: [
                "shard": "\(settings.shard)", "updates": "\(publisher.endpoint)",
                "snapshots": "\(responder.endpoint)", "rebuilt_events": "\(book.lastEventSequence)",
                "symbols": "\(shardSymbols.count)",
            ])
        nextHeartbeat = now  // at once: followers see where each symbol is
        nextSnapshot = now &+ snapshotNanos
    }

    // MARK: Requests and timers

    @discardableResult
    private func answerRequests() -> Int {
        let tally = responder.drain(book: book) { [isShardSymbol] symbol in
            Int(symbol.rawValue) < isShardSymbol.count && isShardSymbol[Int(symbol.rawValue)]
        }
        if tally.served > 0 {
            counters.snapshotsServed.add(tally.served, ordering: .relaxed)
            metrics.snapshotsServed.increment(by: Int64(tally.served))
        }
        if tally.unknownSymbol > 0 {
            counters.unknownSymbolRequests.add(tally.unknownSymbol, ordering: .relaxed)
            metrics.badRequests.increment(by: Int64(tally.unknownSymbol))
        }
        if tally.badRequests > 0 {
            counters.badRequests.add(tally.badRequests, ordering: .relaxed)
            metrics.badRequests.increment(by: Int64(tally.badRequests))
            warn("market data: malformed snapshot request answered bad_request", "\(tally.badRequests) request(s)")
        }
        if tally.failedSends > 0 { countFailedSends(tally.failedSends) }
        return tally.served + tally.unknownSymbol + tally.badRequests
    }

    private func publishHeartbeats() {
        var sent = 0
        for symbol in shardSymbols {
            let heartbeat = MarketDataHeartbeat(
                symbol: symbol, lastSequence: book.sequence(symbol), eventSequence: book.lastEventSequence,
                impaired: book.isImpaired(symbol))
            if publisher.publish(heartbeat) { sent += 1 }
        }
        counters.heartbeatsPublished.add(sent, ordering: .relaxed)
    }

    private func publishSnapshots() {
        var sent = 0
        for symbol in shardSymbols {
            guard let snapshot = book.snapshot(symbol) else { continue }
            if publisher.publish(snapshot, impaired: book.isImpaired(symbol)) { sent += 1 }
        }
        counters.snapshotsPublished.add(sent, ordering: .relaxed)
        metrics.snapshotsPublished.increment(by: Int64(sent))
    }

    private func recordGauges() {
        let impaired = shardSymbols.reduce(0) { $0 + (book.isImpaired($1) ? 1 : 0) }
        counters.impairedSymbols.store(impaired, ordering: .relaxed)
        metrics.impairedSymbols.record(impaired)
        let engine = subscriber.announcedSequence ?? 0
        counters.engineSequence.store(engine, ordering: .relaxed)
        let lag = engine > book.lastEventSequence ? engine - book.lastEventSequence : 0
        metrics.lag.record(Int64(clamping: lag))
        let failed = publisher.failedSends
        if failed > failedSendsSeen {
            countFailedSends(failed - failedSendsSeen)
            failedSendsSeen = failed
        }
    }

    private func countFailedSends(_ count: Int) {
        counters.failedSends.add(count, ordering: .relaxed)
        metrics.failedSends.increment(by: Int64(count))
        warn("market data: messages not sent (socket refused or failed)", "\(count) message(s)")
    }

    /// Logs a warning at most once a second, with the number of warnings held back since.
    private func warn(_ message: Logger.Message, _ detail: String) {
        let now = SystemClock.monotonicNanoseconds()
        guard now &- lastWarning >= 1_000_000_000 else {
            suppressedWarnings += 1
            return
        }
        lastWarning = now
        logger.warning(
            message,
            metadata: [
                "shard": "\(settings.shard)", "detail": "\(detail)", "suppressed_since_last": "\(suppressedWarnings)",
            ])
        suppressedWarnings = 0
    }
}
