import ArgumentParser
import ChronosConfig
import Foundation
import Gateway
import Logging
import Messaging
import RiskService
import Runtime
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
            balancer: give each its own name and id ([gateway] name and id, or --name and --id with \\
            --fix-port, --binary-port and --udp-port over one shared file). Prints `chronos gateway: ready fix=… \\
            binary=… udp=…` once listening. SIGTERM or SIGINT: answers in-flight orders, logs sessions \\
            out, exits 0.
            """
    )

    @Option(name: .long, help: "TOML configuration (symbols, shards, gateway).") var config: String?
    @Option(name: .long, help: "Metrics port (default: [metrics] port + 100; 0: any free port; -1: off).")
    var metricsPort: Int?
    // Per-instance overrides of [gateway], so that several gateways share one configuration file
    // (the deployment mounts one shard map into every container; deploy/compose.yaml).
    @Option(name: .long, help: "Gateway name, its ZeroMQ routing id; unique per gateway (overrides [gateway] name).")
    var name: String?
    @Option(name: .long, help: "Gateway id 1...65535, unique per gateway (overrides [gateway] id).") var id: Int?
    @Option(name: .long, help: "FIX 4.4 port (overrides [gateway] fix_port; 0: any free port; -1: off).")
    var fixPort: Int?
    @Option(name: .long, help: "Binary TCP port (overrides [gateway] binary_port; 0: any free port; -1: off).")
    var binaryPort: Int?
    @Option(name: .long, help: "Binary UDP port (overrides [gateway] udp_port; 0: any free port; -1: off).")
    var udpPort: Int?

    func validate() throws {
        if let name, name.isEmpty || name.utf8.count > 255 { throw ValidationError("--name must be 1…255 bytes") }
        if let id, !(1...65_535).contains(id) { throw ValidationError("--id must be in 1...65535 (got \(id))") }
        for (flag, port) in [("--fix-port", fixPort), ("--binary-port", binaryPort), ("--udp-port", udpPort)] {
            if let port, !(-1...65_535).contains(port) {
                throw ValidationError("\(flag) must be in -1...65535 (got \(port))")
            }
        }
    }

    func run() async throws {
        var exchange = try loadConfiguration(config, command: "gateway")
        if let name { exchange.gateway.name = name }
        if let id { exchange.gateway.id = id }
        if let fixPort { exchange.gateway.fixPort = fixPort }
        if let binaryPort { exchange.gateway.binaryPort = binaryPort }
        if let udpPort { exchange.gateway.udpPort = udpPort }
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
