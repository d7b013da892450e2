import Benchmark
import ChronosCore
import MatchingEngine
import Replay
import Workload

#if canImport(Glibc)
    import Glibc
#endif

// Each benchmark is scaled by 1,000 (one iteration = 1,000 commands, results shown per command)
// and gated on mallocs: the committed Thresholds/*.p90.json hold the harness's own floor, so any
// allocation per command fails `swift package benchmark thresholds check`.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
    )

    // The realistic flow of `chronos bench engine`: adds near the touch, cancels, marketable orders,
    // a book of about 10,000 resting orders.
    Benchmark("engine-realistic-flow") { benchmark in
        let f = flowFixture!
        for _ in benchmark.scaledIterations {
            guard f.next < f.stream.count else { fatalError("stream exhausted: raise FlowFixture.length") }
            blackHole(f.engine.submit(f.stream[f.next]))
            f.next += 1
        }
    } setup: {
        flowFixture = try FlowFixture()
    } teardown: {
        flowFixture = nil
    }

    // A passive order that rests and is canceled: the add/cancel cycle of a market maker.
    Benchmark("engine-add-cancel") { benchmark in
        let f = bookFixture!
        for i in benchmark.scaledIterations {
            let id = OrderID(f.nextID)
            f.nextID += 1
            blackHole(
                f.engine.submit(
                    .new(
                        NewOrder(
                            id: id, account: AccountID(2), symbol: f.symbol, side: .buy,
                            price: 9_500 - Int64(i % 16), quantity: 10))))
            blackHole(f.engine.submit(.cancel(CancelOrder(id: id, account: AccountID(2), symbol: f.symbol))))
        }
    } setup: {
        bookFixture = try BookFixture(side: .buy)
    } teardown: {
        bookFixture = nil
    }

    // An aggressive order that trades against a resting one: match, fill events, maker removal.
    Benchmark("engine-match") { benchmark in
        let f = bookFixture!
        for _ in benchmark.scaledIterations {
            let id = f.nextID
            f.nextID += 2
            blackHole(
                f.engine.submit(
                    .new(
                        NewOrder(
                            id: OrderID(id), account: AccountID(3), symbol: f.symbol,
                            side: .sell, price: 10_000, quantity: 10))))
            blackHole(
                f.engine.submit(
                    .new(
                        NewOrder(
                            id: OrderID(id + 1), account: AccountID(4), symbol: f.symbol,
                            side: .buy, timeInForce: .immediateOrCancel, price: 10_000,
                            quantity: 10))))
        }
    } setup: {
        bookFixture = try BookFixture(side: .sell)
    } teardown: {
        bookFixture = nil
    }

    // The JSON Lines edge: scan a command line, intern names, submit, print the events to /dev/null.
    Benchmark("replay-line") { benchmark in
        let f = replayFixture!
        for _ in benchmark.scaledIterations {
            guard f.next < f.lines.count else { fatalError("stream exhausted: raise ReplayFixture.length") }
            f.lines[f.next].withUnsafeBufferPointer { f.session.process(line: $0) }
            f.next += 1
        }
    } setup: {
        replayFixture = try ReplayFixture()
    } teardown: {
        replayFixture?.close()
        replayFixture = nil
    }
}

// Fixtures are built once per benchmark (outside the measurement) and shared by its iterations.
nonisolated(unsafe) var flowFixture: FlowFixture?
nonisolated(unsafe) var bookFixture: BookFixture?
nonisolated(unsafe) var replayFixture: ReplayFixture?

/// An engine warmed with 100,000 realistic commands and the stream that follows them.
final class FlowFixture {
    static let length = 1_000 * 1_200
    let engine: Engine
    let stream: [EngineCommand]
    var next = 0

    init() throws {
        var generator = try OrderFlowGenerator(.init(seed: 42, targetRestingOrders: 10_000))
        let warm = generator.generate(100_000)
        stream = generator.generate(Self.length)
        engine = try Engine(configuration: .init(orderCapacity: 65_536, symbolCapacity: 1))
        try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
        for command in warm { engine.submit(command) }
    }
}

/// A book with 5,000 resting orders over 500 levels on one side.
final class BookFixture {
    let engine: Engine
    let symbol: SymbolID
    var nextID: UInt64 = 1_000_000

    init(side: Side) throws {
        engine = try Engine(configuration: .init(orderCapacity: 65_536, symbolCapacity: 1))
        symbol = try engine.addSymbol(SymbolConfiguration(name: "X"))
        for i in 0..<5_000 {
            let price = side == .buy ? 9_000 + Int64(i % 500) : 10_100 + Int64(i % 500)
            engine.submit(
                .new(
                    NewOrder(
                        id: OrderID(UInt64(i)), account: AccountID(1), symbol: symbol, side: side,
                        price: price, quantity: 10)))
        }
    }
}

/// A replay session warmed with 100,000 lines, the lines that follow, output to /dev/null.
final class ReplayFixture {
    static let length = 1_000 * 1_200
    let session: ReplaySession
    let lines: [[UInt8]]
    let devNull: Int32
    var next = 0

    init() throws {
        var generator = try OrderFlowGenerator(.init(seed: 9, targetRestingOrders: 10_000))
        let warm = generator.generate(100_000).map(jsonLine)
        lines = generator.generate(Self.length).map(jsonLine)
        devNull = open("/dev/null", O_WRONLY)
        session = try ReplaySession(output: .fileDescriptor(devNull))
        for line in warm { line.withUnsafeBufferPointer { session.process(line: $0) } }
    }

    func close() {
        session.flush()
        Glibc.close(devNull)
    }
}

/// The replay protocol's JSON for a generated command.
func jsonLine(_ command: EngineCommand) -> [UInt8] { Array(command.replayJSONLine.utf8) }
