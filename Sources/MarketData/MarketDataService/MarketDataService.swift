import ChronosConfig
import Logging
import Messaging
import Runtime
import ServiceLifecycle
import Synchronization

/// The market-data service: for every engine shard of the configuration, a thread of its own
/// (never the engine's) that follows the shard's events and publishes its market data on
/// ZeroMQ — updates, heartbeats and periodic snapshots on a PUB socket (`market_data`), snapshots
/// on request on a ROUTER socket (`market_data_snapshots`). See ``ShardMarketData`` and
/// docs/market-data.md.
///
/// `[market_data]` (``ChronosConfig/MarketDataSettings``) sets the periods, the PUB socket's
/// high-water mark and the book's level capacity; the book holds as many resting orders as the
/// engine (`[engine] order_capacity`).
public final class MarketDataService: @unchecked Sendable {
    /// The configuration served.
    public let exchange: ExchangeConfiguration
    /// One set of counters per shard, by shard id.
    public let counters: [MarketDataShardCounters]
    private let context: ZMQContext
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let threads = Mutex<[ServiceThread]>([])
    private let endpoints = Mutex<[(updates: String, snapshots: String)]>([])

    /// A service for every shard of `exchange`, on `context` (nothing runs until ``start()``).
    public init(exchange: ExchangeConfiguration, context: ZMQContext, logger: Logger) {
        self.exchange = exchange
        self.context = context
        self.logger = logger
        counters = exchange.shards.map { _ in MarketDataShardCounters() }
    }

    /// Starts one thread per shard: each binds its sockets, builds its book and asks its shard how
    /// far its stream got before this returns. Throws the first setup failure (threads already
    /// started are stopped).
    public func start() throws {
        var started: [ServiceThread] = []
        var bound: [(updates: String, snapshots: String)] = []
        do {
            for shard in exchange.shards.indices {
                let settings = ShardMarketData.Settings(exchange: exchange, shard: shard)
                let counters = counters[shard]
                let (context, logger) = (context, logger)
                let endpoints = Mutex<(String, String)>(("", ""))
                let thread = try ServiceThread { [self] in
                    let feed = try ShardMarketData(
                        settings, context: context, counters: counters, metrics: MarketDataMetrics(shard: shard),
                        logger: logger)
                    endpoints.withLock { $0 = (feed.publisher.endpoint, feed.responder.endpoint) }
                    return { feed.run(until: self.stopping) }
                }
                started.append(thread)
                bound.append(endpoints.withLock { (updates: $0.0, snapshots: $0.1) })
            }
        } catch {
            stopping.store(true, ordering: .releasing)
            for thread in started { thread.join() }
            throw error
        }
        threads.withLock { $0 = started }
        endpoints.withLock { $0 = bound }
    }

    /// The endpoints each shard's publisher bound (the real ports of `tcp://HOST:*`), by shard id;
    /// empty before ``start()``.
    public var boundEndpoints: [(updates: String, snapshots: String)] { endpoints.withLock { $0 } }

    /// Stops every thread and waits for them.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        let ended = threads.withLock { current in
            defer { current = [] }
            return current
        }
        for thread in ended { thread.join() }
    }
}

/// A ``MarketDataService`` as a swift-service-lifecycle `Service`: starts it, runs until the group
/// shuts down gracefully, then stops it.
public struct MarketDataServiceRunner: Service {
    /// The service run.
    public let service: MarketDataService
    let logger: Logger

    /// Runs `service`, logging to `logger`.
    public init(_ service: MarketDataService, logger: Logger) {
        self.service = service
        self.logger = logger
    }

    /// Starts the service, waits for the group's graceful shutdown, stops it.
    public func run() async throws {
        do {
            try service.start()
        } catch {
            logger.error("market data cannot start", metadata: ["error": "\(error)"])
            throw error
        }
        for (shard, bound) in service.boundEndpoints.enumerated() {
            logger.info(
                "market data started",
                metadata: ["shard": "\(shard)", "updates": "\(bound.updates)", "snapshots": "\(bound.snapshots)"])
        }
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: .milliseconds(20))
            }
        } onGracefulShutdown: {
        }
        service.stop()
        let applied = service.counters.map { $0.eventsApplied.load(ordering: .relaxed) }
        let published = service.counters.map { $0.updatesPublished.load(ordering: .relaxed) }
        logger.info(
            "market data stopped", metadata: ["events_applied": "\(applied)", "updates_published": "\(published)"])
    }
}
