import ArgumentParser
import ChronosConfig
import ChronosCore
import EngineService
import Journal
import Logging
import Messaging
import Persistence
import Runtime
import ServiceLifecycle

/// `chronos engine --shard K`: one matching-engine shard as its own process.
struct EngineProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Run one matching-engine shard (its endpoints and symbols come from the configuration).",
        discussion: """
            Binds the shard's orders (ROUTER), events (PUB) and replay (ROUTER) endpoints from the \
            [[shards]] table of --config (ipc:// or tcp:// to reach it from other processes). \
            On start the shard rebuilds its books from its journal ([journal] dir/shard-K: the newest \
            snapshot and the events after it) and continues numbering after the last journaled event; a \
            journal written by a shard configured differently, or one that does not replay, is an error \
            (exit 1). Every event is journaled before any client or subscriber sees it. \
            SIGTERM or SIGINT: answers what already arrived, flushes the publisher, writes a snapshot, \
            exits 0. --recover: when the journal is empty (a lost volume), first rebuild it from the \
            [persistence] store; a store that lost events is an error.
            """
    )

    @Option(name: .long, help: "TOML configuration with the shard map.") var config: String?
    @Option(name: .long, help: "The shard to run.") var shard = 0
    @Option(name: .long, help: "Pin the engine thread to this core (overrides the configuration).") var cpu: Int?
    @Option(name: .long, help: "Metrics port (default: [metrics] port + 1 + shard; 0: any free port; -1: off).")
    var metricsPort: Int?
    @Flag(help: "When the shard's journal is empty, rebuild it from the [persistence] store first.")
    var recover = false
    @Option(
        name: .long,
        help: "With --recover: first wait until the store's high-water mark has not moved for this long (ms).")
    var settleMs = 1_000

    func run() async throws {
        let exchange = try loadConfiguration(config, command: "engine")
        guard exchange.shards.indices.contains(shard) else {
            FileHandleOutput.standardError(
                "chronos engine: no shard \(shard) in the configuration (shards 0..<\(exchange.shards.count))\n")
            throw ExitCode(2)
        }
        var configuration = EngineShard.Configuration(exchange, shard: shard)
        if let cpu { configuration.shard.cpu = cpu }
        var logger = Logger(label: "chronos.engine")
        logger[metadataKey: "shard"] = "\(shard)"
        // The journal is the shard's history; the store only seeds an empty journal (--recover).
        let journalDirectory = configuration.journalDirectory
        let journalIsEmpty =
            ((try? JournalDirectory.segments(journalDirectory).isEmpty) ?? true)
            && ((try? JournalDirectory.snapshots(journalDirectory).isEmpty) ?? true)
        var seedLog: [EngineEvent]?
        if recover && journalIsEmpty {
            do {
                seedLog = try await StoredRecovery.logs(
                    exchange, shards: [shard], settleMilliseconds: settleMs, logger: logger)[shard]
            } catch {
                FileHandleOutput.standardError("chronos engine: \(error)\n")
                throw ExitCode(1)
            }
        }
        let context = try ZMQContext()
        let service = EngineShardService(
            EngineShard(configuration, context: context, seedLog: seedLog), logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let metrics = metricsService(exchange, override: metricsPort, offset: 1 + shard, logger: logger) {
            services.append(metrics)
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("engine shard failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
