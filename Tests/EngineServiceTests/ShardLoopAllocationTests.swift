import AllocCounter
import ChronosConfig
import ChronosCore
import Foundation
import Journal
import MatchingEngine
import Messaging
import Testing

@testable import EngineService

#if DEBUG
    private let optimizedBuild = false
#else
    private let optimizedBuild = true
#endif

/// Run by `make test`'s release step (the name matches `--filter ZeroAllocationTests`).
@Suite struct ShardLoopZeroAllocationTests {
    /// The engine side of the hot path, driven on this thread: receive, decode, match, encode,
    /// journal, publish, report. Our code allocates nothing; libzmq heap-copies each message over 33 bytes
    /// it is given to send — every 96-byte event frame twice (the publisher and the report) — so
    /// the count must be two per event, plus libzmq's occasional queue chunks.
    @Test(.enabled(if: alloc_counter_available() != 0 && optimizedBuild, "release builds only"))
    func shardLoopAllocatesOnlyLibzmqsCopiesOfItsEventFrames() throws {
        let context = try ZMQContext()
        let tag = UUID().uuidString.prefix(8)
        var exchange = ExchangeConfiguration(engine: EngineConfiguration(orderCapacity: 4_096, symbolCapacity: 8))
        exchange.shards = [
            ShardConfiguration(
                id: 0, ordersEndpoint: "inproc://\(tag)-orders", eventsEndpoint: "inproc://\(tag)-events",
                replayEndpoint: "inproc://\(tag)-replay")
        ]
        let journalRoot = try JournalDirectory.makeTemporary(prefix: "chronos-alloc-test")
        defer { try? FileManager.default.removeItem(atPath: journalRoot) }
        exchange.journal.root = journalRoot
        let loop = try ShardLoop(
            EngineShard.Configuration(exchange, shard: 0), context: context, counters: EngineShardCounters(),
            seedLog: nil)
        let gateway = try ZMQSocket(context, .dealer)
        try gateway.setRoutingID(Array("gw".utf8))
        try gateway.connect(exchange.shards[0].ordersEndpoint)
        var frame = [UInt8](repeating: 0, count: 96)
        var reply = [UInt8](repeating: 0, count: 256)
        var id: UInt64 = 1

        /// Sends `n` commands (resting orders and crossing orders, so fills happen), lets the loop
        /// handle them, drains the reports; returns the events produced.
        func round(_ n: Int, counted: Bool) throws -> (events: Int, allocations: Int64) {
            for i in 0..<n {
                let order = NewOrder(
                    id: OrderID(id), account: AccountID(UInt32(i % 2)), symbol: SymbolID(0),
                    side: i % 2 == 0 ? .buy : .sell, price: 100, quantity: 1)
                id += 1
                let length = try frame.withUnsafeMutableBytes {
                    try WireFrame(message: .newOrder(order, clientTimestampNanos: 1)).encode(into: $0).get()
                }
                try gateway.send(Array(frame[0..<length]))
            }
            let before = loop.counters.events.load(ordering: .relaxed)
            var handled = 0
            if counted { alloc_counter_begin() }
            while handled < n { handled += loop.drainOrders() }
            let allocations = counted ? alloc_counter_end() : 0
            let events = loop.counters.events.load(ordering: .relaxed) - before
            var received = 0
            while received < events,
                case .received? = try reply.withUnsafeMutableBytes({ try gateway.receive(into: $0, dontWait: true) })
            {
                received += 1
            }
            return (events, allocations)
        }
        _ = try round(200, counted: false)  // warm-up: gateway registration, lazy metadata, pipes
        let (events, allocations) = try round(1_000, counted: true)
        #expect(events >= 1_500)  // accepted for all, a fill for every crossing order
        // libzmq's queues also take a new chunk now and then (one per 256 queued messages when the
        // reader lags): a few allocations per thousand events, never one per command.
        #expect(allocations >= Int64(2 * events) && allocations <= Int64(2 * events + events / 64))
        gateway.close()
    }
}
