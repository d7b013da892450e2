import ArgumentParser
import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Histogram
import Journal
import Logging
import MatchingEngine
import Messaging
import RiskEngine
import RiskService
import Runtime
import ShardClient
import SpoofingModel
import Workload

/// `chronos bench risk`: pre-trade check latency per order, inline and sidecar, static limits only
/// and with the spoofing model (in the order's path and score-behind), on one seeded realistic flow.
struct RiskBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risk",
        abstract: "Pre-trade risk check latency per order: inline and sidecar, static limits and the spoofing model.",
        discussion: """
            Every command of the flow goes through the risk engine as in the gateway: each new order \
            and replace is checked (timed alone with CLOCK_MONOTONIC), a passed command reaches the \
            matching engine, and every engine event is applied to the risk state with its event time.
            Variants: inline-static (no model), inline-model (the model scores each order in its \
            path), inline-behind (score-behind: the check uses the account's last score; the refresh \
            after the events is timed separately), sidecar-static and sidecar-model (a `chronos risk` \
            sidecar in this process over ipc, an engine shard on inproc; the time is the request → \
            decision round trip). The model is the bundled models/spoofing-v1.onnx unless --model. \
            Mallocs per check are measured by the package benchmarks (Benchmarks/RiskBench).
            """
    )

    @Option(help: "Measured commands per variant.") var commands = 1_000_000
    @Option(help: "Warm-up commands per variant.") var warmup = 100_000
    @Option(help: "Symbols the flow is spread over.") var symbols = 4
    @Option(help: "Seed of the stream.") var seed: UInt64 = 42
    @Option(help: "The ONNX model (default: the bundled models/spoofing-v1.onnx).") var model: String?
    @Option(
        parsing: .upToNextOption,
        help: "Variants to run: inline-static inline-model inline-behind sidecar-static sidecar-model (default: all).")
    var variants: [String] = []

    static let allVariants = ["inline-static", "inline-model", "inline-behind", "sidecar-static", "sidecar-model"]

    func run() throws {
        let chosen = variants.isEmpty ? Self.allVariants : variants
        for v in chosen where !Self.allVariants.contains(v) {
            throw ValidationError("unknown variant \(v) (one of \(Self.allVariants.joined(separator: ", ")))")
        }
        let modelPath = model ?? SpoofingModelLoader.resolvedPath(RiskModelConfiguration())
        if chosen.contains(where: { $0.hasSuffix("model") || $0.hasSuffix("behind") }) && modelPath == nil {
            throw ValidationError("no model: pass --model PATH (models/spoofing-v1.onnx is not found from here)")
        }
        var generator = try OrderFlowGenerator(.init(seed: seed, symbols: symbols, targetRestingOrders: 10_000))
        let stream = generator.generate(warmup + commands)
        print(
            "chronos bench risk — seed \(seed), \(symbols) symbols, \(commands) measured commands per variant "
                + "(+\(warmup) warm-up); model \(modelPath ?? "none"); times in ns")
        print(
            "variant           checks      p50      p99    p99.9        max   refused  flagged  "
                + "(behind refresh p50/p99/p99.9)")
        for variant in chosen {
            let result: Result
            if variant.hasPrefix("sidecar") {
                result = try sidecar(stream, modelPath: variant == "sidecar-model" ? modelPath : nil)
            } else {
                result = try inline(stream, variant: variant, modelPath: modelPath)
            }
            print(result.line(variant))
        }
        var floor = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for _ in 0..<commands {
            let t0 = SystemClock.monotonicNanoseconds()
            let t1 = SystemClock.monotonicNanoseconds()
            _ = floor.record(t1 - t0)
        }
        print(
            "clock-read floor  \(pad(commands, 8)) \(pad(floor.valueAtPercentile(50), 8)) "
                + "\(pad(floor.valueAtPercentile(99), 8)) \(pad(floor.valueAtPercentile(99.9), 8)) "
                + "\(pad(floor.maxRecorded, 10))")
    }

    struct Result {
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var refresh = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var checks = 0
        var refused = 0
        var flagged = 0

        func line(_ variant: String) -> String {
            var text =
                variant.padding(toLength: 16, withPad: " ", startingAt: 0)
                + "\(pad(checks, 8)) \(pad(latency.valueAtPercentile(50), 8)) \(pad(latency.valueAtPercentile(99), 8)) "
                + "\(pad(latency.valueAtPercentile(99.9), 8)) \(pad(latency.maxRecorded, 10)) \(pad(refused, 9)) "
                + "\(pad(flagged, 8))"
            if refresh.totalCount > 0 {
                text +=
                    "  (\(refresh.valueAtPercentile(50))/\(refresh.valueAtPercentile(99))/"
                    + "\(refresh.valueAtPercentile(99.9)))"
            }
            return text
        }
    }

    private func riskConfiguration() -> RiskConfiguration {
        var configuration = RiskConfiguration()
        configuration.symbolCapacity = symbols
        configuration.model.policy = SpoofingPolicy(mode: .flag, threshold: 0.1)
        return configuration
    }

    /// The risk engine in the order's path, as the gateway runs it inline.
    private func inline(_ stream: [EngineCommand], variant: String, modelPath: String?) throws -> Result {
        let engine = try Engine(configuration: EngineConfiguration(orderCapacity: 1 << 17, symbolCapacity: symbols))
        for s in 0..<symbols { try engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
        let configuration = riskConfiguration()
        let risk = RiskEngine(configuration: configuration)
        if variant != "inline-static", let modelPath {
            let model = try SpoofingModel(path: modelPath, featureCount: SpoofingFeatureSchema.count)
            model.warmUp()
            var policy = configuration.model.policy
            policy.scoring = variant == "inline-behind" ? .behind : .inPath
            risk.attachSpoofingModel(model, policy: policy)
        }
        var result = Result()
        var now: UInt64 = 1_000_000_000
        for (i, command) in stream.enumerated() {
            now += 10_000  // 100k commands per second of event time
            let measuring = i >= warmup
            let decision: RiskDecision?
            let t0 = SystemClock.monotonicNanoseconds()
            switch command {
            case .new(let order): decision = risk.check(order, now: now)
            case .replace(let replace): decision = risk.checkReplace(replace, now: now)
            case .cancel: decision = nil
            }
            let t1 = SystemClock.monotonicNanoseconds()
            if let decision {
                if measuring {
                    result.checks += 1
                    _ = result.latency.record(t1 - t0)
                    if decision.action == .reject { result.refused += 1 }
                    if decision.action == .flag { result.flagged += 1 }
                }
                if decision.action == .reject { continue }
            }
            engine.submit(command)
            for event in engine.events { risk.apply(event, now: now) }
            if variant == "inline-behind" {
                let r0 = SystemClock.monotonicNanoseconds()
                let refreshed = risk.refreshBehindScores(now: now)
                let r1 = SystemClock.monotonicNanoseconds()
                if measuring && refreshed > 0 { _ = result.refresh.record(r1 - r0) }
            }
        }
        return result
    }

    /// A `chronos risk` sidecar in this process (its own thread, ipc) in front of an engine shard
    /// (inproc): each check is a request → decision round trip, as a gateway's bridge makes it.
    private func sidecar(_ stream: [EngineCommand], modelPath: String?) throws -> Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chronos-bench-risk-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var exchange = ExchangeConfiguration()
        let journalRoot = try JournalDirectory.makeTemporary(prefix: "chronos-bench")
        defer { try? FileManager.default.removeItem(atPath: journalRoot) }
        exchange.journal.root = journalRoot
        exchange.symbols = (0..<symbols).map { SymbolConfiguration(name: "SYM\($0)") }
        exchange.engine = EngineConfiguration(orderCapacity: 1 << 17, symbolCapacity: symbols)
        exchange.shards = [.inproc(id: 0, symbols: exchange.symbols.map(\.name))]
        exchange.risk = riskConfiguration()
        exchange.risk.sidecarEndpoint = "ipc://\(dir.path)/risk.ipc"
        exchange.risk.model.path = modelPath
        exchange.risk.model.policy.mode = modelPath == nil ? .off : .flag
        exchange.risk.model.timeBudgetMicros = 0
        let context = try ZMQContext()
        let shard = EngineShard(EngineShard.Configuration(exchange, shard: 0), context: context)
        try shard.start()
        defer { shard.stop() }
        var logger = Logger(label: "chronos.bench.risk")
        logger.logLevel = .warning
        let model = exchange.risk.model
        let sidecar = RiskSidecar(exchange: exchange, context: context, logger: logger) { [logger] in
            try SpoofingModelLoader.load(model, logger: logger)
        }
        try sidecar.start()
        defer { sidecar.stop() }
        let client = try RiskSidecarClient(context: context, endpoint: exchange.risk.sidecarEndpoint)
        let exchangeClient = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "bench-risk")
        var result = Result()
        for (i, command) in stream.enumerated() {
            let measuring = i >= warmup
            if case .cancel = command {
            } else {
                let t0 = SystemClock.monotonicNanoseconds()
                client.requestCheck(command, timestamp: t0)
                guard let verdict = client.awaitVerdict(for: command.orderID, timestamp: t0, timeoutMilliseconds: 5_000)
                else { throw ValidationError("the sidecar did not answer within 5 s") }
                let t1 = SystemClock.monotonicNanoseconds()
                let action = RiskAction(rawValue: verdict.action)
                if measuring {
                    result.checks += 1
                    _ = result.latency.record(t1 - t0)
                    if action == .reject { result.refused += 1 }
                    if action == .flag { result.flagged += 1 }
                }
                if action == .reject { continue }
            }
            _ = exchangeClient.submit(command)
            while exchangeClient.receive(timeoutMilliseconds: 0) != nil {}
        }
        return result
    }
}

private func pad(_ value: some BinaryInteger, _ width: Int) -> String {
    let text = "\(value)"
    return String(repeating: " ", count: max(0, width - text.count)) + text
}
