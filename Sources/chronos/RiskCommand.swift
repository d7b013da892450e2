import ArgumentParser
import ChronosConfig
import Logging
import Messaging
import RiskService
import Runtime
import ServiceLifecycle

/// `chronos risk`: the pre-trade risk engine as a sidecar service (docs/risk.md).
struct RiskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risk",
        abstract: "Run the risk engine as a sidecar: gateways with [risk] placement = \"sidecar\" ask it.",
        discussion: """
            Binds [risk] sidecar (a ZeroMQ ROUTER; default ipc://.chronos-state/risk.ipc), follows every \
            shard's event stream from the [[shards]] table, and answers each new order and replace with \
            the same checks the gateway runs inline: the static limits, then the spoofing model of \
            [risk.model] (the bundled model when no path is set). Prints "chronos risk: ready <endpoint>". \
            SIGTERM or SIGINT: answers what already arrived, exits 0.
            """
    )

    @Option(name: .long, help: "TOML configuration (risk limits, model, shard map).") var config: String?
    @Option(name: .long, help: "Endpoint to bind (overrides [risk] sidecar).") var endpoint: String?
    @Option(name: .long, help: "Metrics port (default: [metrics] port + 200; 0: any free port; -1: off).")
    var metricsPort: Int?

    func run() async throws {
        var exchange = try loadConfiguration(config, command: "risk")
        if let endpoint { exchange.risk.sidecarEndpoint = endpoint }
        let logger = Logger(label: "chronos.risk")
        let metrics = metricsService(exchange, override: metricsPort, offset: 200, logger: logger)
        let context = try ZMQContext()
        let model = exchange.risk.model
        let sidecar = RiskSidecar(exchange: exchange, context: context, logger: logger) {
            try SpoofingModelLoader.load(model, logger: logger)
        }
        let endpoint = exchange.risk.sidecarEndpoint
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: RiskSidecarService(sidecar, logger: logger) {
                    FileHandleOutput.standardOutput("chronos risk: ready \(endpoint)\n")
                }, successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let metrics { services.append(metrics) }
        let reload = reloadOnHangup(config, command: "risk") { sidecar.reloadAccounts($0.risk) }
        defer { reload.cancel() }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            FileHandleOutput.standardError("chronos risk: \(error)\n")
            throw ExitCode(1)
        }
    }
}
