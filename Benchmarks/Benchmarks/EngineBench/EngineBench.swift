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
        flowFixture!.submitNext(benchmark.scaledIterations.count)
    } setup: {
        flowFixture = try .realistic()
    } teardown: {
        flowFixture = nil
    }

    // The hard flow of `chronos bench engine --flow random-ids`: random-permutation ids, IOC,
    // stale cancels, modifies that reinsert, a mid swinging ±60 %, deep books; the engine at its
    // default capacities (a million orders), prefaulted.
    Benchmark("engine-hard-flow") { benchmark in
        flowFixture!.submitNext(benchmark.scaledIterations.count)
    } setup: {
        flowFixture = try .hard()
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

    // The execution report on the wire: one engine event (every kind in turn) into a frame buffer.
    Benchmark("wire-encode-event") { benchmark in
        let f = wireFixture!
        for i in benchmark.scaledIterations {
            let frame = WireFrame(
                shard: 1, message: .event(f.events[i & WireFixture.mask], clientTimestampNanos: UInt64(i)))
            if case .success(let written) = frame.encode(into: f.buffer) { blackHole(written) }
        }
    } setup: {
        wireFixture = WireFixture()
    } teardown: {
        wireFixture = nil
    }

    // An execution report read back: every byte of one event frame validated, the event rebuilt.
    Benchmark("wire-decode-event") { benchmark in
        let f = wireFixture!
        for i in benchmark.scaledIterations {
            if case .success(let frame) = WireFrame.decode(f.frame(i & WireFixture.mask)) { blackHole(frame) }
        }
    } setup: {
        wireFixture = WireFixture()
    } teardown: {
        wireFixture = nil
    }
}

// Fixtures are built once per benchmark (outside the measurement) and shared by its iterations.
nonisolated(unsafe) var flowFixture: FlowFixture?
nonisolated(unsafe) var bookFixture: BookFixture?
nonisolated(unsafe) var replayFixture: ReplayFixture?
nonisolated(unsafe) var wireFixture: WireFixture?

/// An engine and a generated stream of commands, submitted in order across iterations.
final class FlowFixture {
    let engine: Engine
    let stream: [EngineCommand]
    var next = 0

    init(engine: Engine, stream: [EngineCommand]) {
        self.engine = engine
        self.stream = stream
    }

    /// Submits the next `count` commands of the stream.
    func submitNext(_ count: Int) {
        guard next + count <= stream.count else { fatalError("stream exhausted: make the fixture's stream longer") }
        for _ in 0..<count {
            blackHole(engine.submit(stream[next]))
            next += 1
        }
    }

    /// An engine warmed with 100,000 realistic commands and the 1.2 M that follow them.
    static func realistic() throws -> FlowFixture {
        var generator = try OrderFlowGenerator(.init(seed: 42, targetRestingOrders: 10_000))
        let warm = generator.generate(100_000)
        let engine = try Engine(configuration: .init(orderCapacity: 65_536, symbolCapacity: 1))
        try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
        for command in warm { engine.submit(command) }
        return FlowFixture(engine: engine, stream: generator.generate(1_000 * 1_200))
    }

    /// A fresh engine at the default capacities and the hard flow of 600,000 new orders (about
    /// 1.2 M commands: enough for 1,000 iterations).
    static func hard() throws -> FlowFixture {
        let parameters = HardFlowGenerator.Parameters(newOrders: 600_000)
        var generator = try HardFlowGenerator(parameters)
        let engine = try Engine(configuration: HardFlowGenerator.engineConfiguration(parameters))
        try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
        return FlowFixture(engine: engine, stream: generator.generate())
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

/// Eight engine events of every kind (fills most often, as in a busy book), a buffer to encode into,
/// and the same events already encoded, one 96-byte `event` frame after the other.
final class WireFixture {
    /// `i & mask` picks one of the eight events.
    static let mask = 7
    let events: [EngineEvent]
    let buffer: UnsafeMutableRawBufferPointer
    let frames: UnsafeMutableRawBufferPointer

    init() {
        let s = SymbolID(1)
        let maker = AccountID(1)
        let taker = AccountID(2)
        func fill(_ sequence: UInt64, _ trade: UInt64, _ leaves: Quantity) -> EngineEvent {
            .fill(
                Fill(
                    sequence: sequence, tradeID: TradeID(trade), symbol: s, takerID: OrderID(900),
                    makerID: OrderID(trade), takerAccount: taker, makerAccount: maker, takerSide: .buy,
                    price: 10_000, quantity: 10, takerLeaves: leaves, makerLeaves: 0))
        }
        events = [
            .accepted(
                OrderAccepted(
                    sequence: 1, id: OrderID(900), account: taker, symbol: s, side: .buy, type: .limit,
                    timeInForce: .immediateOrCancel, postOnly: false, price: 10_000, quantity: 35)),
            fill(2, 1, 25), fill(3, 2, 15), fill(4, 3, 5),
            .canceled(
                OrderCanceled(
                    sequence: 5, id: OrderID(900), account: taker, symbol: s, side: .buy, quantity: 5,
                    reason: .immediateOrCancelRemainder)),
            .replaced(
                OrderReplaced(
                    sequence: 6, id: OrderID(800), account: maker, symbol: s, side: .sell, price: 10_001,
                    quantity: 20, keptPriority: false)),
            .rejected(
                OrderRejected(
                    sequence: 7, id: OrderID(901), account: taker, symbol: s, command: .cancel,
                    reason: .unknownOrder)),
            fill(8, 4, 0),
        ]
        let size = WireMessage.size(of: .event)
        buffer = .allocate(byteCount: WireFormat.maxFrameSize, alignment: 8)
        frames = .allocate(byteCount: size * events.count, alignment: 8)
        for (k, event) in events.enumerated() {
            let slot = UnsafeMutableRawBufferPointer(rebasing: frames[k * size..<(k + 1) * size])
            guard
                case .success = WireFrame(shard: 1, message: .event(event, clientTimestampNanos: 42)).encode(into: slot)
            else { fatalError("event frame does not fit its slot") }
        }
    }

    /// The `k`th encoded event frame.
    func frame(_ k: Int) -> UnsafeRawBufferPointer {
        let size = WireMessage.size(of: .event)
        return UnsafeRawBufferPointer(rebasing: frames[k * size..<(k + 1) * size])
    }

    deinit {
        buffer.deallocate()
        frames.deallocate()
    }
}
