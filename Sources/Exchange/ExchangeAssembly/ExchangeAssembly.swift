import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Gateway
import Journal
import Logging
import MarketDataService
import Messaging
import Persistence
import RiskEngine
import RiskService
import ServiceLifecycle

/// The whole exchange in one process, wired in one place: what `chronos run` serves and what the
/// tests start (`ExchangeHarness`), stage by stage.
///
/// 1. Every engine shard of the configuration, each on its own thread (``EngineShardService``),
///    each rebuilt from its own journal (`[journal]`) before it takes an order.
/// 2. The persister (`[persistence] enabled`, default true), off the order path: it follows the
///    shards' PUB sockets and catches up from their journals through the replay sockets. Listed
///    right after the shards, it shuts down after the gateway (a service group stops its services
///    in reverse order) and stores every event the shards produced before they stop.
/// 3. The market-data service (`[market_data] enabled`, default true), off the order path too: one
///    thread per shard follows the shard's events (from its first, through the replay socket) and
///    publishes level-2 updates, trades, the best bid/offer, heartbeats and snapshots on its own
///    PUB and ROUTER sockets. Listed after the persister, it stops before it.
/// 4. The risk sidecar, when `[risk] placement = "sidecar"`; otherwise the checks run inline in the
///    gateway, whose reference prices start from the last trades in the recovered journals.
/// 5. The gateway (FIX 4.4, binary TCP and UDP), once every shard accepts connections.
///
/// ``services`` lists them in that order; the caller adds its own (metrics, a generated flow) and
/// runs them in one `ServiceGroup`.
public struct ExchangeAssembly: Sendable {
    /// What the caller chooses beyond the configuration.
    public struct Options: Sendable {
        /// Runs the persister (nil: `[persistence] enabled`).
        public var persister: Bool?
        /// Runs the market-data service (nil: `[market_data] enabled`).
        public var marketData: Bool?
        /// Loads the spoofing model for the risk checks (nil: none).
        public var makeScorer: @Sendable (RiskModelConfiguration, Logger) throws -> SpoofingScorer?
        /// Called once every gateway listener is bound, with their addresses.
        public var onReady: @Sendable (GatewayAddresses) -> Void

        /// The options of `chronos run`: the configured persister, the model loaded from
        /// `[risk.model]`, nothing called when ready.
        public init(
            persister: Bool? = nil, marketData: Bool? = nil,
            makeScorer: @escaping @Sendable (RiskModelConfiguration, Logger) throws -> SpoofingScorer? = {
                try SpoofingModelLoader.load($0, logger: $1)
            },
            onReady: @escaping @Sendable (GatewayAddresses) -> Void = { _ in }
        ) {
            self.persister = persister
            self.marketData = marketData
            self.makeScorer = makeScorer
            self.onReady = onReady
        }
    }

    /// The configuration it was assembled from.
    public let exchange: ExchangeConfiguration
    /// Stage 1: the engine shards, in shard order.
    public let shards: [EngineShard]
    /// Stage 5: the gateway.
    public let gateway: GatewayService
    /// Stage 3: the market-data service, when enabled.
    public let marketData: MarketDataService?
    /// Stage 4: the risk sidecar, when the checks run there.
    public let sidecar: RiskSidecar?
    /// The stages as services, in start order.
    public let services: [ServiceGroupConfiguration.ServiceConfiguration]

    /// Assembles the exchange of `exchange` on `context` (nothing runs until ``services`` do).
    ///
    /// - Throws: when the persister's store settings are invalid.
    public init(_ exchange: ExchangeConfiguration, context: ZMQContext, logger: Logger, options: Options = .init())
        throws
    {
        self.exchange = exchange
        let shards = exchange.shards.indices.map {
            EngineShard(EngineShard.Configuration(exchange, shard: $0), context: context)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = shards.map {
            .init(service: EngineShardService($0, logger: logger))
        }
        if options.persister ?? exchange.persistence.enabled {
            let persistence = try exchange.persistence.applyingEnvironment(ProcessInfo.processInfo.environment)
            let persister = PersistenceService(
                exchange: exchange, context: context, logger: logger,
                makeStore: try PersistenceService.storeFactory(persistence, logger: logger))
            let runner = PersistenceServiceRunner(
                persister, logger: logger,
                drainTargets: { shards.map { $0.counters.lastSequence.load(ordering: .acquiring) } })
            services.append(.init(service: AfterShards(shards: shards, service: runner)))
        }
        if options.marketData ?? exchange.marketData.enabled {
            let marketData = MarketDataService(exchange: exchange, context: context, logger: logger)
            self.marketData = marketData
            services.append(
                .init(
                    service: AfterShards(shards: shards, service: MarketDataServiceRunner(marketData, logger: logger))))
        } else {
            marketData = nil
        }
        let model = exchange.risk.model
        let makeScorer = options.makeScorer
        if exchange.risk.placement == .sidecar {
            let sidecar = RiskSidecar(exchange: exchange, context: context, logger: logger) {
                try makeScorer(model, logger)
            }
            self.sidecar = sidecar
            services.append(
                .init(service: AfterShards(shards: shards, service: RiskSidecarService(sidecar, logger: logger))))
        } else {
            sidecar = nil
        }
        gateway = GatewayService(
            exchange: exchange, context: context, logger: logger, onReady: options.onReady,
            makeScorer: { try makeScorer(model, logger) },
            lastTradePrices: { RecoveredPrices.lastTrades(exchange, shards: shards, logger: logger) })
        services.append(.init(service: AfterShards(shards: shards, service: gateway)))
        self.shards = shards
        self.services = services
    }

    /// Applies `[[risk.accounts]]` of a reloaded configuration (limits, kill switches) wherever the
    /// risk checks run.
    public func reloadAccounts(_ risk: RiskConfiguration) {
        gateway.reloadAccounts(risk)
        sidecar?.reloadAccounts(risk)
    }
}

/// Starts `service` once every shard accepts connections (shards bind as their services start).
public struct AfterShards: Service {
    let shards: [EngineShard]
    let service: any Service

    /// `service`, started after `shards`.
    public init(shards: [EngineShard], service: any Service) {
        self.shards = shards
        self.service = service
    }

    public func run() async throws {
        while !shards.allSatisfy(\.isRunning) {
            try await Task.sleep(for: .milliseconds(2))
        }
        try await service.run()
    }
}

/// The prices a restarted exchange's risk checks start from.
public enum RecoveredPrices {
    /// Each symbol's last trade price before this start, read backwards from every shard's
    /// journal as its recovery left it (the shards must have started): what the inline risk
    /// engine would have known had it not restarted. A journal that cannot be read gives nothing
    /// for its symbols (they fall back to `[risk.symbols] reference_price`), with a warning.
    public static func lastTrades(_ exchange: ExchangeConfiguration, shards: [EngineShard], logger: Logger)
        -> [SymbolID: Price]
    {
        let shardOfSymbol = exchange.shardMap.shardOfSymbol
        var prices: [SymbolID: Price] = [:]
        for shard in shards {
            let id = shard.configuration.shard.id
            guard let last = shard.recovery?.lastJournaled, last > 0 else { continue }
            let symbols = Set(shardOfSymbol.indices.filter { shardOfSymbol[$0] == id }.map { SymbolID(UInt32($0)) })
            do {
                let reader = try JournalReader(directory: shard.configuration.journalDirectory)
                prices.merge(try reader.lastTradePrices(atOrBefore: last, symbols: symbols)) { first, _ in first }
            } catch {
                logger.warning(
                    "cannot read the last trade prices from the journal",
                    metadata: ["shard": "\(id)", "error": "\(error)"])
            }
        }
        return prices
    }
}
