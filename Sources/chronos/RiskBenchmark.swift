import ArgumentParser
import ChronosCore
import ChronosServices
import Histogram
import MatchingEngine
import RiskEngine
import Workload

/// `chronos bench risk`: the inline pre-trade check alone, per order, on the realistic flow.
struct RiskBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risk",
        abstract: "Pre-trade risk check latency per order (static limits) on a seeded realistic stream.",
        discussion: """
            Every command of the flow goes through the risk engine as in the gateway: each new order \\
            and replace is checked (timed alone with CLOCK_MONOTONIC), a passed command reaches the \\
            matching engine, and every engine event is applied to the risk state. Default limits \\
            (docs/risk.md). The check allocates nothing (RiskZeroAllocationTests); the model is not \\
            built yet, so this is the static part only.
            """
    )

    @Option(help: "Measured commands.") var commands = 2_000_000
    @Option(help: "Warm-up commands.") var warmup = 200_000
    @Option(help: "Symbols the flow is spread over.") var symbols = 4
    @Option(help: "Seed of the stream.") var seed: UInt64 = 42

    func run() throws {
        var generator = try OrderFlowGenerator(.init(seed: seed, symbols: symbols, targetRestingOrders: 10_000))
        let stream = generator.generate(warmup + commands)
        let engine = try Engine(configuration: EngineConfiguration(orderCapacity: 1 << 17, symbolCapacity: symbols))
        for s in 0..<symbols { try engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
        var configuration = RiskConfiguration()
        configuration.symbolCapacity = symbols
        let risk = RiskEngine(configuration: configuration)
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var floor = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var checks = 0
        var rejects: [String: Int] = [:]
        var now: UInt64 = 1_000_000_000
        for (i, command) in stream.enumerated() {
            now += 10_000  // 100k commands per second of event time
            let measuring = i >= warmup
            let decision: RiskDecision?
            let t0 = monotonicNanoseconds()
            switch command {
            case .new(let order): decision = risk.check(order, now: now)
            case .replace(let replace): decision = risk.checkReplace(replace, now: now)
            case .cancel: decision = nil
            }
            let t1 = monotonicNanoseconds()
            guard let decision else {
                engine.submit(command)
                for event in engine.events { risk.apply(event) }
                continue
            }
            if measuring {
                checks += 1
                _ = latency.record(t1 - t0)
            }
            if decision.action == .reject {
                if measuring { rejects[decision.reason?.code ?? "?", default: 0] += 1 }
                continue
            }
            engine.submit(command)
            for event in engine.events { risk.apply(event) }
        }
        for _ in 0..<checks {
            let t0 = monotonicNanoseconds()
            let t1 = monotonicNanoseconds()
            _ = floor.record(t1 - t0)
        }
        func ns(_ h: Histogram<UInt64>, _ p: Double) -> UInt64 { h.valueAtPercentile(p) }
        print("chronos bench risk — static limits, seed \(seed), \(symbols) symbols, 1 thread, release build expected")
        print("\(checks) checks (new orders and replaces) after \(warmup) warm-up commands; engine events applied")
        print(
            "check latency (ns):   p50 \(ns(latency, 50))   p99 \(ns(latency, 99))   p99.9 \(ns(latency, 99.9))   "
                + "max \(latency.maxRecorded)")
        print(
            "clock-read floor (ns): p50 \(ns(floor, 50))   p99 \(ns(floor, 99))   p99.9 \(ns(floor, 99.9))   "
                + "max \(floor.maxRecorded)")
        let refused = rejects.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print(
            "refused: \(rejects.values.reduce(0, +))\(refused.isEmpty ? "" : " (\(refused))"); untracked events \(risk.untrackedEvents)"
        )
    }
}
