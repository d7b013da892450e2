import CChronosSystem
import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Histogram
import Journal
import MatchingEngine
import Messaging
import Runtime
import ShardClient
import Synchronization

/// Round trips and throughput through real engine shards over ZeroMQ, beside a raw ZeroMQ
/// ping-pong of the same message sizes on the same transport, measured in the same run.
enum MessagingBenchmark {
    enum Transport: String, CaseIterable, Sendable {
        case inproc, ipc, tcp
    }

    static func shardConfiguration(_ transport: Transport, id: Int, context: ZMQContext) throws -> ShardConfiguration {
        let tag = UUID().uuidString.prefix(8)
        func endpoint(_ role: String) throws -> String {
            switch transport {
            case .inproc: return "inproc://bench-\(tag)-\(id)-\(role)"
            case .ipc: return "ipc:///tmp/chronos-bench-\(tag)-\(id)-\(role)"
            case .tcp: return "tcp://127.0.0.1:\(freeLoopbackPort())"
            }
        }
        return ShardConfiguration(
            id: id, ordersEndpoint: try endpoint("orders"), eventsEndpoint: try endpoint("events"),
            replayEndpoint: try endpoint("replay"))
    }

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Round trips of both paths on one transport, measured in alternating batches of 500 so that
    /// the machine's noise falls on both alike:
    /// - engine: a resting order (56-byte frame) or its cancel, from the send until its one
    ///   report (96-byte frame) arrives through an engine shard;
    /// - floor: a DEALER sends 56 bytes, a ROUTER thread polling as the engine loop does answers
    ///   with 96 bytes.
    static func roundTrips(_ transport: Transport, count: Int, warmup: Int, spin: Bool) throws
        -> (engine: Histogram<UInt64>, floor: Histogram<UInt64>)
    {
        let context = try ZMQContext()
        // The engine path.
        var shardConfig = try shardConfiguration(transport, id: 0, context: context)
        shardConfig.idle = spin ? .spin : .poll
        // Same placement for both paths, whatever the scheduler would do: the measuring thread on
        // core 0, the answering thread (engine or echo) on core 1, so every round trip crosses
        // cores alike (ARCHITECTURE.md: 30–45 µs per cross-core wake-up on this VM).
        let pinned = ProcessInfo.processInfo.activeProcessorCount >= 2
        if pinned {
            shardConfig.cpu = 1
            _ = chronos_pin_current_thread(0)
        }
        var exchange = ExchangeConfiguration(engine: EngineConfiguration(orderCapacity: 65_536, symbolCapacity: 8))
        let journalRoot = try JournalDirectory.makeTemporary(prefix: "chronos-bench")
        defer { try? FileManager.default.removeItem(atPath: journalRoot) }
        exchange.journal.root = journalRoot
        exchange.shards = [shardConfig]
        let shard = EngineShard(EngineShard.Configuration(exchange, shard: 0), context: context)
        try shard.start()
        defer { shard.stop() }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "bench")
        // The floor path.
        let echo = try EchoServer(
            context: context, endpoint: try shardConfiguration(transport, id: 1, context: context).ordersEndpoint,
            spin: spin, cpu: pinned ? 1 : nil)
        defer { echo.stop() }
        let dealer = try ZMQSocket(context, .dealer)
        defer { dealer.close() }
        try dealer.connect(echo.endpoint)
        let request = [UInt8](repeating: 2, count: 56)
        var reply = [UInt8](repeating: 0, count: 256)

        var engine = histogram(), floor = histogram()
        var id: UInt64 = 1
        var i = 0
        let batch = 500
        while i < warmup + count {
            for j in i..<min(i + batch, warmup + count) {
                let isNew = j % 2 == 0
                let command: EngineCommand =
                    isNew
                    ? .new(
                        NewOrder(
                            id: OrderID(id), account: AccountID(1), symbol: SymbolID(0), side: .buy,
                            price: 10_000 - Int64(j % 64), quantity: 10))
                    : .cancel(CancelOrder(id: OrderID(id), account: AccountID(1), symbol: SymbolID(0)))
                let t0 = SystemClock.monotonicNanoseconds()
                while case .shardUnavailable = client.submit(command, clientTimestampNanos: t0) { usleep(100) }
                while client.receive(timeoutMilliseconds: -1) == nil {}
                let t1 = SystemClock.monotonicNanoseconds()
                if j >= warmup { _ = engine.record(t1 - t0) }
                if !isNew { id += 1 }
            }
            for j in i..<min(i + batch, warmup + count) {
                let t0 = SystemClock.monotonicNanoseconds()
                try dealer.send(request)
                _ = try reply.withUnsafeMutableBytes { try dealer.receive(into: $0) }
                let t1 = SystemClock.monotonicNanoseconds()
                if j >= warmup { _ = floor.record(t1 - t0) }
            }
            i += batch
        }
        return (engine, floor)
    }

    /// Commands per second through `shards` inproc shards, the flow spread over 4 symbols,
    /// with up to `window` commands in flight.
    static func throughput(shards: Int, commands: Int, window: Int) throws -> Double {
        let context = try ZMQContext()
        var exchange = ExchangeConfiguration(engine: EngineConfiguration(orderCapacity: 1 << 20, symbolCapacity: 8))
        let journalRoot = try JournalDirectory.makeTemporary(prefix: "chronos-bench")
        defer { try? FileManager.default.removeItem(atPath: journalRoot) }
        exchange.journal.root = journalRoot
        exchange.shards = try (0..<shards).map { try shardConfiguration(.inproc, id: $0, context: context) }
        let engines = exchange.shards.indices.map {
            EngineShard(EngineShard.Configuration(exchange, shard: $0), context: context)
        }
        for engine in engines { try engine.start() }
        defer { engines.forEach { $0.stop() } }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "bench")
        let start = SystemClock.monotonicNanoseconds()
        sendRestingOrdersAndCancels(
            client, commands: commands, window: window, symbols: exchange.shardMap.symbolNames.count)
        return Double(commands) / (Double(SystemClock.monotonicNanoseconds() - start) / 1e9)
    }

    /// Sends `commands` commands — resting orders alternating with their cancels, over `symbols`
    /// symbols, one report each — with up to `window` in flight, and returns once all are answered.
    static func sendRestingOrdersAndCancels(_ client: ExchangeClient, commands: Int, window: Int, symbols: Int) {
        var sent = 0, answered = 0
        var id: UInt64 = 1
        while answered < commands {
            while sent < commands && sent - answered < window {
                // Resting orders alternating with their cancels: one report each.
                let symbol = SymbolID(UInt32(sent / 2 % symbols))
                let command: EngineCommand =
                    sent % 2 == 0
                    ? .new(
                        NewOrder(
                            id: OrderID(id), account: AccountID(1), symbol: symbol, side: .buy,
                            price: 10_000 - Int64(sent % 64), quantity: 10))
                    : .cancel(CancelOrder(id: OrderID(id), account: AccountID(1), symbol: symbol))
                guard case .sent = client.submit(command) else { break }
                if sent % 2 == 1 { id += 1 }
                sent += 1
            }
            if client.receive(timeoutMilliseconds: 1) != nil { answered += 1 }
        }
    }
}

/// A free loopback TCP port: bound with port 0 and released at once (POSIX close is synchronous,
/// unlike a ZeroMQ socket's, whose port is freed later by its I/O thread).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The floor's answering side: a ROUTER on its own thread that answers every 56-byte request
/// with 96 bytes, polling like the engine loop (or spinning), until stopped.
final class EchoServer: @unchecked Sendable {
    let endpoint: String
    private let router: ZMQSocket
    private let spin: Bool
    private let stopping = Atomic<Bool>(false)
    private var thread: Thread?

    private let cpu: Int?

    init(context: ZMQContext, endpoint: String, spin: Bool, cpu: Int?) throws {
        self.cpu = cpu
        router = try ZMQSocket(context, .router)
        try router.bind(endpoint)
        self.endpoint = endpoint
        self.spin = spin
        let thread = Thread { [self] in serve() }
        self.thread = thread
        thread.start()
    }

    private func serve() {
        if let cpu { _ = chronos_pin_current_thread(Int32(cpu)) }
        let poller = ZMQPoller([router])
        var identity = [UInt8](repeating: 0, count: 256)
        var frame = [UInt8](repeating: 0, count: 256)
        let reply = [UInt8](repeating: 1, count: 96)
        while !stopping.load(ordering: .acquiring) {
            if !spin { _ = try? poller.poll(timeoutMilliseconds: 1) }
            while case .received(let n, _)? = identity.withUnsafeMutableBytes({
                try? router.receive(into: $0, dontWait: true)
            }) {
                _ = frame.withUnsafeMutableBytes { try? router.receive(into: $0) }
                _ = identity.withUnsafeBytes {
                    try? router.send(UnsafeRawBufferPointer(rebasing: $0[0..<n]), more: true)
                }
                _ = try? router.send(reply)
            }
        }
        router.close()
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        while thread?.isFinished == false { usleep(1_000) }
        thread = nil
    }
}
