import ChronosCore
import Histogram
import MatchingEngine
import Runtime
import Workload

/// Measures the matching engine alone on a generated stream (no I/O, one thread): the realistic
/// flow (``OrderFlowGenerator``) or the hard one (``HardFlowGenerator``: random-permutation ids,
/// IOC, stale cancels, modifies that reinsert, a swinging mid, deep books).
struct EngineBenchmark {
    struct Result {
        var commands: Int
        var warmupCommands: Int
        var restingAtStart: Int
        var restingAtEnd: Int
        var events: Int
        var mix: String
        /// Commands per second of wall time, of each throughput pass.
        var throughputRuns: [Double]
        /// Commands per second of the engine thread's CPU time, of each throughput pass.
        var cpuThroughputRuns: [Double]
        /// Minor and major page faults inside each pass's timed loop.
        var pageFaultRuns: [Int]
        var latency: Histogram<UInt64>
        /// The cost of the two clock reads around each command, measured the same way.
        var clockFloor: Histogram<UInt64>
        var stateHashesAgree: Bool
    }

    /// What to run: the engine's configuration and symbols, a warm-up that is not measured, and
    /// the measured commands.
    struct Flow {
        var configuration: EngineConfiguration
        var symbols: Int
        var warmup: ArraySlice<EngineCommand>
        var measured: ArraySlice<EngineCommand>
        var mix: String

        static func realistic(_ parameters: OrderFlowGenerator.Parameters, commands: Int, warmup: Int) throws -> Flow {
            var generator = try OrderFlowGenerator(parameters)
            let stream = generator.generate(warmup + commands)
            return Flow(
                configuration: EngineConfiguration(
                    orderCapacity: max(parameters.targetRestingOrders * 4, 1_024), symbolCapacity: parameters.symbols),
                symbols: parameters.symbols, warmup: stream[..<warmup], measured: stream[warmup...],
                mix: generator.mix.description)
        }

        /// A book of `levels` price levels per side (on every other tick, two orders each), then
        /// `commands / 2` passive orders at random ticks inside it (half join a level, half make a
        /// new one between two), each canceled right after: new orders into a deep book, which
        /// stays as deep.
        static func deepBook(levels: Int, commands: Int, seed: UInt64) -> Flow {
            let mid: Int64 = 1_000_000
            var warm: [EngineCommand] = []
            var nextID: UInt64 = 1
            for level in 1...levels {
                for side in [Side.buy, .sell] {
                    let price = side == .buy ? mid - 2 * Int64(level) : mid + 2 * Int64(level)
                    for _ in 0..<2 {
                        warm.append(
                            .new(
                                NewOrder(
                                    id: OrderID(nextID), account: AccountID(1), symbol: SymbolID(0), side: side,
                                    price: price, quantity: 10)))
                        nextID += 1
                    }
                }
            }
            var rng = SplitMix64(seed: seed)
            var measured: [EngineCommand] = []
            measured.reserveCapacity(commands)
            for _ in 0..<(commands / 2) {
                let side: Side = rng.next() & 1 == 0 ? .buy : .sell
                let behind = 1 + Int64(rng.next() % UInt64(2 * levels))
                let account = AccountID(UInt32(2 + rng.next() % 100))
                let id = OrderID(nextID)
                nextID += 1
                measured.append(
                    .new(
                        NewOrder(
                            id: id, account: account, symbol: SymbolID(0), side: side,
                            price: side == .buy ? mid - behind : mid + behind, quantity: 10)))
                measured.append(.cancel(CancelOrder(id: id, account: account, symbol: SymbolID(0))))
            }
            return Flow(
                configuration: EngineConfiguration(orderCapacity: max(4 * levels + 1_024, 65_536), symbolCapacity: 1),
                symbols: 1, warmup: warm[...], measured: measured[...],
                mix: "\(levels) levels per side; \(commands / 2) passive orders inside the book, each then canceled")
        }

        /// The whole hard flow is measured (its book builds up as part of it), with the engine's
        /// default capacities.
        static func hard(_ parameters: HardFlowGenerator.Parameters) throws -> Flow {
            var generator = try HardFlowGenerator(parameters)
            let stream = generator.generate()
            return Flow(
                configuration: HardFlowGenerator.engineConfiguration(parameters), symbols: 1, warmup: [],
                measured: stream[...], mix: generator.mix.description)
        }
    }

    var flow: Flow
    var passes: Int

    func run() throws -> Result {
        func freshEngine() throws -> Engine {
            let engine = try Engine(configuration: flow.configuration)
            for s in 0..<flow.symbols { try engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
            for command in flow.warmup { engine.submit(command) }
            return engine
        }
        let measured = flow.measured

        // Throughput: the whole measured stream in one timed loop, several passes.
        var throughputRuns: [Double] = []
        var cpuThroughputRuns: [Double] = []
        var pageFaultRuns: [Int] = []
        var events = 0
        var restingAtStart = 0
        var hashes: Set<UInt64> = []
        for _ in 0..<passes {
            let engine = try freshEngine()
            restingAtStart = engine.restingOrderCount
            events = 0
            let faults = threadPageFaults()
            let cpu = SystemClock.threadCPUNanoseconds()
            let start = SystemClock.monotonicNanoseconds()
            for command in measured { events &+= engine.submit(command) }
            let elapsed = SystemClock.monotonicNanoseconds() - start
            let cpuElapsed = SystemClock.threadCPUNanoseconds() - cpu
            pageFaultRuns.append(threadPageFaults() - faults)
            throughputRuns.append(Double(measured.count) / (Double(elapsed) / 1e9))
            cpuThroughputRuns.append(Double(measured.count) / (Double(max(cpuElapsed, 1)) / 1e9))
            hashes.insert(engine.stateHash())
        }

        // Latency: each command timed on its own.
        let engine = try freshEngine()
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var floor = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for command in measured {
            let t0 = SystemClock.monotonicNanoseconds()
            engine.submit(command)
            let t1 = SystemClock.monotonicNanoseconds()
            _ = latency.record(t1 - t0)
        }
        for _ in 0..<measured.count {
            let t0 = SystemClock.monotonicNanoseconds()
            let t1 = SystemClock.monotonicNanoseconds()
            _ = floor.record(t1 - t0)
        }
        hashes.insert(engine.stateHash())
        return Result(
            commands: measured.count, warmupCommands: flow.warmup.count, restingAtStart: restingAtStart,
            restingAtEnd: engine.restingOrderCount, events: events, mix: flow.mix,
            throughputRuns: throughputRuns, cpuThroughputRuns: cpuThroughputRuns, pageFaultRuns: pageFaultRuns,
            latency: latency, clockFloor: floor, stateHashesAgree: hashes.count == 1)
    }
}
