import ChronosConfig
import EngineService
import ExchangeAssembly
import Foundation
import Gateway
import Logging
import Messaging
import NIOCore
import ServiceLifecycle

/// A whole exchange in the test process: engine shards on inproc endpoints and the gateway on
/// loopback ports chosen by the kernel, started from a TOML configuration and stopped through
/// graceful shutdown, as `chronos run` does.
final class ExchangeHarness: @unchecked Sendable {
    let exchange: ExchangeConfiguration
    let addresses: GatewayAddresses
    let stateDirectory: String
    /// True when the harness made `stateDirectory` (removed by ``stop()``).
    private let ownsStateDirectory: Bool
    private let group: ServiceGroup
    private let running: Task<Void, Error>
    private let shards: [EngineShard]

    /// Starts the exchange of `toml` (its `[gateway]` ports are forced to 0 and its state goes to a
    /// fresh temporary folder unless `stateDirectory` names one) and waits until the gateway listens.
    init(toml: String = "", stateDirectory requested: String? = nil) async throws {
        var exchange = try ExchangeConfiguration.parse(toml: toml)
        let state =
            requested
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "chronos-gw-\(UInt64.random(in: 0...UInt64.max))"
            )
            .path
        exchange.gateway.stateDirectory = state
        exchange.journal.root = state + "/journal"
        // Small journal segments unless the test asks otherwise: the default's 64 MiB, reserved and
        // prefaulted per shard, cost every test its time and the machine its disk.
        if !toml.contains("segment_events") { exchange.journal.slotsPerSegment = 4_096 }
        // Nor are the engine's pools prefaulted (≈ 250 MiB per shard at the default capacity): many
        // harnesses start at once in a test run, and the pages fault in as the few orders use them.
        if !toml.contains("prefault") { exchange.engine.prefault = false }
        ownsStateDirectory = requested == nil
        if exchange.gateway.fixPort > 0 { exchange.gateway.fixPort = 0 }
        if exchange.gateway.binaryPort > 0 { exchange.gateway.binaryPort = 0 }
        if exchange.gateway.udpPort > 0 { exchange.gateway.udpPort = 0 }
        // Each harness gets its own inproc names, so that harnesses in parallel tests never meet.
        let tag = UInt64.random(in: 0...UInt64.max)
        exchange.shards = exchange.shards.map { shard in
            var s = shard
            if s.ordersEndpoint.hasPrefix("inproc://") {
                s.ordersEndpoint += "-\(tag)"
                s.eventsEndpoint += "-\(tag)"
                s.replayEndpoint += "-\(tag)"
            }
            return s
        }
        self.exchange = exchange
        stateDirectory = state
        var logger = Logger(label: "test.exchange")
        logger.logLevel = .warning
        let (stream, continuation) = AsyncStream<GatewayAddresses>.makeStream()
        // `chronos run`'s stages, but no persister (its store would be one more thing per test), no
        // market data (its thread per shard too; MarketDataServiceTests start it) and no spoofing model.
        let assembly = try ExchangeAssembly(
            exchange, context: try ZMQContext(), logger: logger,
            options: .init(
                persister: false, marketData: false, makeScorer: { _, _ in nil },
                onReady: { addresses in
                    continuation.yield(addresses)
                    continuation.finish()
                }))
        shards = assembly.shards
        let group = ServiceGroup(services: assembly.services.map(\.service), logger: logger)
        self.group = group
        // A stage that fails to start ends the group: the wait below then ends too.
        running = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = stream.makeAsyncIterator()
        guard let addresses = await iterator.next() else {
            let failure = await running.result
            throw HarnessError.gatewayDidNotStart("\(failure)")
        }
        self.addresses = addresses
    }

    /// Graceful shutdown of the gateway, then the shards (in reverse start order, as `chronos run`
    /// stops); the state folder is removed when the harness made it.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
        if ownsStateDirectory { try? FileManager.default.removeItem(atPath: stateDirectory) }
    }

    /// The shard threads, e.g. to stop one and see its symbols rejected.
    var engineShards: [EngineShard] { shards }

    enum HarnessError: Error { case gatewayDidNotStart(String) }
}

extension SocketAddress {
    /// The port, for tests (the gateway always binds IP addresses).
    var testPort: Int { port ?? 0 }
}
