import ArgumentParser
import ChronosConfig
import ChronosServices
import Foundation
import Gateway
import Logging
import Messaging
import RiskService
import ServiceLifecycle

/// `chronos gateway`: the gateway as its own process, connected to the shards of the
/// configuration over their ipc or tcp endpoints.
struct GatewayProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run the gateway: FIX 4.4 and binary order entry, routed by symbol to the engine shards.",
        discussion: """
            Listens as the [gateway] table of --config says and connects to every shard's orders \\
            endpoint from [[shards]] (ipc:// or tcp://). Several gateways can run behind an L4 load \\
            balancer: give each its own [gateway] name and id. Prints `chronos gateway: ready fix=… \\
            binary=… udp=…` once listening. SIGTERM or SIGINT: answers in-flight orders, logs sessions \\
            out, exits 0.
            """
    )

    @Option(name: .long, help: "TOML configuration (symbols, shards, gateway).") var config: String?
    @Option(name: .long, help: "Metrics port (default: [metrics] port + 100; 0: any free port; -1: off).")
    var metricsPort: Int?

    func run() async throws {
        let exchange = try loadConfiguration(config, command: "gateway")
        var logger = Logger(label: "chronos.gateway")
        logger[metadataKey: "gateway"] = "\(exchange.gateway.name)"
        let context = try ZMQContext()
        let model = exchange.risk.model
        let gateway = GatewayService(
            exchange: exchange, context: context, logger: logger,
            onReady: { addresses in FileHandleOutput.standardOutput("chronos gateway: ready \(addresses)\n") },
            makeScorer: { [logger] in try SpoofingModelLoader.load(model, logger: logger) })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: gateway, successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let metrics = metricsService(exchange, override: metricsPort, offset: 100, logger: logger) {
            services.append(metrics)
        }
        let reload = reloadOnHangup(config, command: "gateway") { gateway.reloadAccounts($0.risk) }
        defer { reload.cancel() }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("gateway failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
