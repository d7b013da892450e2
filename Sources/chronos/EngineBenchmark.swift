import ChronosCore
import ChronosServices
import Histogram
import MatchingEngine
import Workload

#if canImport(Glibc)
    import Glibc
#endif

/// Measures the matching engine alone on a generated realistic stream (no I/O, one thread).
struct EngineBenchmark {
    struct Result {
        var commands: Int
        var warmupCommands: Int
        var restingAtStart: Int
        var restingAtEnd: Int
        var events: Int
        var mix: OrderFlowGenerator.Mix
        /// Commands per second of each throughput pass.
        var throughputRuns: [Double]
        var latency: Histogram<UInt64>
        /// The cost of the two clock reads around each command, measured the same way.
        var clockFloor: Histogram<UInt64>
        var stateHashesAgree: Bool
    }

    var parameters: OrderFlowGenerator.Parameters
    var commands: Int
    var warmup: Int
    var passes: Int

    func run() throws -> Result {
        var generator = try OrderFlowGenerator(parameters)
        let stream = generator.generate(warmup + commands)
        let warm = stream[..<warmup]
        let measured = stream[warmup...]
        let configuration = EngineConfiguration(
            orderCapacity: max(parameters.targetRestingOrders * 4, 1_024), symbolCapacity: parameters.symbols)

        func freshEngine() throws -> Engine {
            let engine = try Engine(configuration: configuration)
            for s in 0..<parameters.symbols { try engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
            for command in warm { engine.submit(command) }
            return engine
        }

        // Throughput: the whole measured stream in one timed loop, several passes.
        var throughputRuns: [Double] = []
        var events = 0
        var restingAtStart = 0
        var hashes: Set<UInt64> = []
        for _ in 0..<passes {
            let engine = try freshEngine()
            restingAtStart = engine.restingOrderCount
            events = 0
            let start = monotonicNanoseconds()
            for command in measured { events &+= engine.submit(command) }
            let elapsed = monotonicNanoseconds() - start
            throughputRuns.append(Double(measured.count) / (Double(elapsed) / 1e9))
            hashes.insert(engine.stateHash())
        }

        // Latency: each command timed on its own.
        let engine = try freshEngine()
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var floor = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for command in measured {
            let t0 = monotonicNanoseconds()
            engine.submit(command)
            let t1 = monotonicNanoseconds()
            _ = latency.record(t1 - t0)
        }
        for _ in 0..<measured.count {
            let t0 = monotonicNanoseconds()
            let t1 = monotonicNanoseconds()
            _ = floor.record(t1 - t0)
        }
        hashes.insert(engine.stateHash())
        return Result(
            commands: measured.count, warmupCommands: warm.count, restingAtStart: restingAtStart,
            restingAtEnd: engine.restingOrderCount, events: events, mix: generator.mix,
            throughputRuns: throughputRuns, latency: latency, clockFloor: floor,
            stateHashesAgree: hashes.count == 1)
    }
}
