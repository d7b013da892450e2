import Benchmark
import ChronosCore
import Foundation
import MatchingEngine
import RiskEngine
import SpoofingModel
import Workload

// The pre-trade check per order on a realistic flow (1,000 commands per iteration; results per
// command): each new order and replace is checked, what passes goes through the matching engine,
// every event is applied to the risk state. Static limits must allocate nothing (gated at 0); with
// the model, ONNX Runtime's own allocations per call are pinned by Thresholds/RiskBench.*
// (docs/onnx-runtime.md). Score-behind keeps the model off the check: its check allocates nothing.

/// The bundled model files, found from the Benchmarks folder or the repository root.
private func modelPath(_ name: String) -> String {
    for candidate in ["../models/\(name)", "models/\(name)"] where FileManager.default.fileExists(atPath: candidate) {
        return candidate
    }
    fatalError("models/\(name) not found (run from the Benchmarks folder)")
}

/// A flow, an engine and a risk engine; `step()` plays the next command.
private final class RiskFlow {
    let commands: [EngineCommand]
    let engine: Engine
    let risk: RiskEngine
    let scoring: SpoofingScoring?
    var index = 0
    var now: UInt64 = 1_000_000_000

    init(model: String?, scoring: SpoofingScoring) {
        var generator = try! OrderFlowGenerator(.init(seed: 42, symbols: 4, targetRestingOrders: 10_000))
        commands = generator.generate(1_000_000)
        engine = try! Engine(configuration: EngineConfiguration(orderCapacity: 1 << 17, symbolCapacity: 4))
        for s in 0..<4 { try! engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
        var configuration = RiskConfiguration()
        configuration.symbolCapacity = 4
        risk = RiskEngine(configuration: configuration)
        if let model {
            let scorer = try! SpoofingModel(path: modelPath(model), featureCount: SpoofingFeatureSchema.count)
            scorer.warmUp()
            risk.attachSpoofingModel(scorer, policy: SpoofingPolicy(mode: .flag, threshold: 0.1, scoring: scoring))
            self.scoring = scoring
        } else {
            self.scoring = nil
        }
        for _ in 0..<100_000 { step() }  // warm: a realistic book and risk state
    }

    @inline(__always)
    func step() {
        if index == commands.count { index = 0 }
        let command = commands[index]
        index += 1
        now += 10_000
        let decision: RiskDecision
        switch command {
        case .new(let order): decision = risk.check(order, now: now)
        case .replace(let replace): decision = risk.checkReplace(replace, now: now)
        case .cancel: decision = .pass
        }
        blackHole(decision)
        if decision.action == .reject { return }
        engine.submit(command)
        for event in engine.events { risk.apply(event, now: now) }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
    )

    Benchmark("risk-static-check-and-events") { benchmark, flow in
        for _ in benchmark.scaledIterations { flow.step() }
    } setup: {
        RiskFlow(model: nil, scoring: .inPath)
    }

    // ONNX Runtime allocates 16–21 times per call and the flow has ~0.64 checks per command: the
    // committed 14 per command (p90, per 1,000 commands: 14,000) may move by ±2 per command.
    let modelConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo, maxDuration: .seconds(2),
        maxIterations: 1_000, thresholds: [.mallocCountTotal: .init(absolute: [.p90: 2_000])])

    Benchmark("risk-model-lr-in-path", configuration: modelConfiguration) { benchmark, flow in
        for _ in benchmark.scaledIterations { flow.step() }
    } setup: {
        RiskFlow(model: "spoofing-lr-v1.onnx", scoring: .inPath)
    }

    Benchmark("risk-model-gbm-in-path", configuration: modelConfiguration) { benchmark, flow in
        for _ in benchmark.scaledIterations { flow.step() }
    } setup: {
        RiskFlow(model: "spoofing-v1.onnx", scoring: .inPath)
    }
}
