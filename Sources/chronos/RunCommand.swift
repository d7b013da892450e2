import ArgumentParser
import ChronosConfig
import ChronosCore
import EngineService
import ExchangeAssembly
import Foundation
import Histogram
import Logging
import MatchingEngine
import Messaging
import Runtime
import ServiceLifecycle
import ShardClient
import Workload

/// `chronos run`: the whole exchange in one process, on the configured transports (inproc by
/// default): the stages of ``ExchangeAssembly`` (engine shards, persister, market data, risk sidecar
/// when so placed, gateway), the metrics endpoint, and optionally a generated realistic flow through a
/// second, internal exchange client (`--commands N`), for a quick look at throughput; with
/// `--exit-after-flow` the run ends then.
///
/// Serves until SIGINT/SIGTERM. Prints `chronos run: gateway ready fix=… binary=… udp=…` once
/// clients can connect.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the exchange in one process: every engine shard and the gateway, ready for clients.",
        discussion: """
            Without --config: one shard on inproc endpoints trading AAPL, MSFT, GOOG and AMZN; FIX on \
            127.0.0.1:9878 (CompIDs CHRONOS/CLIENT1 and CHRONOS/CLIENT2), binary TCP on 9879 and UDP on \
            9880 (logins trader1/trader1, trader2/trader2). Stop with Ctrl-C (SIGINT) or SIGTERM: \
            in-flight orders are answered, sessions logged out, every event stored, publishers \
            flushed, a snapshot written, exit 0. A restart rebuilds every shard's books from its journal \
            ([journal] dir) and continues numbering where the last run stopped.
            """
    )

    @Option(name: .long, help: "TOML configuration (engine, symbols, shards, gateway, metrics).") var config: String?
    @Option(help: "Commands of generated flow to send through the exchange at start (0: none).") var commands = 0
    @Option(help: "Seed of the generated flow.") var seed: UInt64 = 7
    @Flag(help: "End the run when the generated flow is done (for measurements).") var exitAfterFlow = false
    @Option(name: .long, help: "Metrics port (default: [metrics] port, 9464; 0: any free port; -1: off).")
    var metricsPort: Int?

    func run() async throws {
        let exchange = try loadConfiguration(config, command: "run")
        let logger = Logger(label: "chronos.run")
        // Metrics first, so that every instrument registers with Prometheus.
        let metrics = metricsService(exchange, override: metricsPort, offset: 0, logger: logger)
        let context = try ZMQContext()
        // The stages: shards, persister, market data, risk sidecar (if so placed), gateway.
        let assembly = try ExchangeAssembly(
            exchange, context: context, logger: logger,
            options: .init(onReady: { addresses in
                FileHandleOutput.standardOutput("chronos run: gateway ready \(addresses)\n")
            }))
        var services = assembly.services
        // The optional generated flow.
        if commands > 0 {
            let flow = FlowService(
                exchange: exchange, context: context, commands: commands, seed: seed, shards: assembly.shards,
                firstOrderID: FlowService.firstOrderID(), logger: logger)
            services.append(
                .init(service: flow, successTerminationBehavior: exitAfterFlow ? .gracefullyShutdownGroup : .ignore))
        }
        if let metrics { services.append(metrics) }
        let reload = reloadOnHangup(config, command: "run") { reloaded in assembly.reloadAccounts(reloaded.risk) }
        defer { reload.cancel() }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Sends a generated realistic flow through the exchange client and prints what happened.
struct FlowService: Service {
    let exchange: ExchangeConfiguration
    let context: ZMQContext
    let commands: Int
    let seed: UInt64
    let shards: [EngineShard]
    /// The flow's order ids are `firstOrderID`, `firstOrderID + 1`, …
    let firstOrderID: UInt64
    let logger: Logger

    /// The flow's own id space: gateway id 0xFFFF (no gateway has it), then the wall clock's
    /// seconds (26 bits) above a 22-bit counter, so that a later run's ids never meet the ids an
    /// earlier run's orders still rest with (recovered from the journal).
    static let orderIDSpace: UInt64 = 0xFFFF << 48

    static func firstOrderID(now: UInt64 = UInt64(Date().timeIntervalSince1970)) -> UInt64 {
        orderIDSpace | ((now & 0x3FF_FFFF) << 22) | 1
    }

    func run() async throws {
        guard commands > 0 else { return }
        let symbols = exchange.liveSymbols
        var generator = try OrderFlowGenerator(.init(seed: seed, symbols: symbols.count))
        let offset = firstOrderID - 1
        let stream = generator.generate(commands).map { $0.withOrderIDs(offsetBy: offset) }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "chronos-run")
        // The shards bind as their services start: wait until every one accepts a connection.
        for (shard, _) in exchange.shards.enumerated() {
            let symbol = exchange.shardMap.shardOfSymbol.firstIndex(of: shard) ?? 0
            let probe = EngineCommand.cancel(
                CancelOrder(id: OrderID(UInt64.max), account: AccountID(0), symbol: SymbolID(UInt32(symbol))))
            var attempts = 0
            while case .shardUnavailable = client.submit(probe) {
                attempts += 1
                if attempts > 5_000 { throw ValidationError("shard \(shard) did not come up") }
                try await Task.sleep(for: .milliseconds(1))
            }
            while client.receive(timeoutMilliseconds: 1_000) == nil {}
        }
        print("chronos run: \(exchange.shards.count) shard(s), \(symbols.count) symbols; sending \(commands) commands…")
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var reports = 0, fills = 0, rejects = 0, sent = 0
        let window = 256
        var inFlight = 0
        let start = SystemClock.monotonicNanoseconds()
        while sent < stream.count || inFlight > 0 {
            while sent < stream.count && inFlight < window {
                guard case .sent = client.submit(stream[sent], clientTimestampNanos: SystemClock.monotonicNanoseconds())
                else {
                    throw ValidationError("a shard went away during the flow")
                }
                sent += 1
                inFlight += 1
            }
            guard let frame = client.receive(timeoutMilliseconds: 1_000) else { break }
            reports += 1
            guard case .event(let event, let timestamp) = frame.message else { continue }
            if timestamp != 0 && event.answersCommand {
                inFlight -= 1
                _ = latency.record(SystemClock.monotonicNanoseconds() - timestamp)
            }
            if case .fill = event { fills += 1 }
            if case .rejected = event { rejects += 1 }
        }
        let seconds = Double(SystemClock.monotonicNanoseconds() - start) / 1e9
        print(
            "sent \(sent) commands in \(ReportFormat.fixed(seconds, 3)) s (\(Int(Double(sent) / seconds)) commands/s, \(window) in flight)"
        )
        print("reports: \(reports) (\(fills) fills, \(rejects) rejects)")
        print(
            "first-report round trip (µs): p50 \(latency.valueAtPercentile(50) / 1_000)  p99 \(latency.valueAtPercentile(99) / 1_000)  "
                + "p99.9 \(latency.valueAtPercentile(99.9) / 1_000)  max \(latency.maxRecorded / 1_000)")
        for shard in shards {
            let c = shard.counters
            print(
                "  shard \(shard.configuration.shard.id): \(c.commands.load(ordering: .relaxed)) commands, "
                    + "\(c.events.load(ordering: .relaxed)) events, \(c.badFrames.load(ordering: .relaxed)) bad frames")
        }
    }
}

extension EngineCommand {
    /// The command with its order id moved up by `offset`.
    func withOrderIDs(offsetBy offset: UInt64) -> EngineCommand {
        switch self {
        case .new(var order):
            order.id = OrderID(order.id.rawValue + offset)
            return .new(order)
        case .cancel(var cancel):
            cancel.id = OrderID(cancel.id.rawValue + offset)
            return .cancel(cancel)
        case .replace(var replace):
            replace.id = OrderID(replace.id.rawValue + offset)
            return .replace(replace)
        }
    }
}
