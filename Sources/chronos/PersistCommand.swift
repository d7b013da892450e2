import ArgumentParser
import ChronosConfig
import Foundation
import Logging
import Messaging
import Persistence
import Runtime
import ServiceLifecycle

/// `chronos persist`: the persistence service as its own process (docs/persistence.md).
struct PersistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persist",
        abstract: "Persist every shard's events to SQLite (default) or PostgreSQL, off the order path.",
        discussion: """
            Follows each shard of the [[shards]] table from the store's high-water mark + 1 (live events, \
            gaps filled from the engine's retransmission ring) and writes them in batched transactions to \
            [persistence] store: a SQLite file (sqlite_path) or PostgreSQL. The libpq variables PGHOST, \
            PGPORT, PGUSER, PGDATABASE, PGPASSWORD and PGPASSFILE override the file; PGHOST selects \
            PostgreSQL when the file names no store. Prints "chronos persist: ready <store>" once the store \
            is open and every shard is followed. A store that cannot be opened within [persistence] \
            startup_timeout_ms of the start: exits 1 with the reason. Once running, a store that fails is \
            retried with backoff, each failure logged (chronos status --persist-port shows it not ready). \
            SIGTERM or SIGINT: writes what it read (10 s at most) and exits 0; a writer stuck in a store \
            call is left behind after 15 s and the exit status is 1 (the unwritten events are caught up \
            from the engines' rings at the next start).
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .long, help: "Metrics port (default: [metrics] port + 300; 0: any free port; -1: off).")
    var metricsPort: Int?

    func run() async throws {
        let exchange = try storeOptions.exchange(command: "persist")
        let logger = Logger(label: "chronos.persist")
        let metrics = metricsService(exchange, override: metricsPort, offset: 300, logger: logger)
        let makeStore: @Sendable () throws -> any EventStore
        do {
            makeStore = try PersistenceService.storeFactory(exchange.persistence, logger: logger)
        } catch {
            FileHandleOutput.standardError("chronos persist: \(error)\n")
            throw ExitCode(2)
        }
        let context = try ZMQContext()
        let persister = PersistenceService(exchange: exchange, context: context, logger: logger, makeStore: makeStore)
        let described = StoreOptions.describe(exchange.persistence)
        // The status text for `chronos status --persist-port`, named after a fixed metrics port.
        let fixedPort =
            metrics == nil ? nil : metricsPort ?? (exchange.metrics.port == 0 ? nil : exchange.metrics.port + 300)
        let statusFile = fixedPort.flatMap { $0 > 0 ? PersisterStatusFile.path(port: $0) : nil }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: PersistenceServiceRunner(
                    persister, logger: logger, statusFile: statusFile,
                    onReady: { FileHandleOutput.standardOutput("chronos persist: ready \(described)\n") }),
                successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let metrics { services.append(metrics) }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            FileHandleOutput.standardError("chronos persist: \(error)\n")
            throw ExitCode(1)
        }
    }
}
