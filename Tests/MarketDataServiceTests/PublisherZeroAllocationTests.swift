import AllocCounter
import ChronosCore
import Foundation
import Logging
import MarketData
import Messaging
import TestSupport
import Testing
import Workload

@testable import MarketDataService

/// The publisher's path, per engine event: receive it from the shard's PUB socket, apply it to the
/// book, encode each update and send it as `[topic][frame]`. The name matches `make test`'s
/// release step (`--filter ZeroAllocationTests`).
@Suite(.serialized) struct PublisherZeroAllocationTests {
    /// Book and encoding alone, in any build: nothing allocates.
    @Test(.enabled(if: alloc_counter_available() != 0, "needs the malloc counter"))
    func applyingAndEncodingAllocateNothing() throws {
        var generator = try OrderFlowGenerator(.init(seed: 3, symbols: 2, accounts: 20, targetRestingOrders: 500))
        let engine = generator.shadow
        let book = try MarketDataBook(configuration: .init(symbolCapacity: 2, orderCapacity: 10_000))
        var updates = MarketDataUpdateBuffer(capacity: 64)
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: MarketDataFrameType.maxFrameSize, alignment: 16)
        defer { frame.deallocate() }
        var commands: [EngineCommand] = []
        commands.reserveCapacity(1)
        var encoded = 0
        var allocations: Int64 = 0
        var events = 0
        for i in 0..<30_000 {
            // The generator and its engine are outside the path: only the book and the encoder count.
            commands.removeAll(keepingCapacity: true)
            generator.generate(1, into: &commands)
            let counting = i >= 15_000  // after warm-up: the generator's and the book's tables
            for event in engine.events {
                updates.clear()
                if counting { alloc_counter_begin() }
                book.apply(event, into: &updates)
                // By index: a debug build's unspecialized `for … in` boxes each large enum it yields.
                for i in 0..<updates.updates.count {
                    if case .success(let n) = MarketDataFrame(message: .update(updates.updates[i])).encode(into: frame)
                    {
                        encoded += n
                    }
                }
                if counting {
                    allocations += alloc_counter_end()
                    events += 1
                }
            }
        }
        #expect(events > 15_000)
        #expect(encoded > 0)
        #expect(allocations == 0, "\(allocations) mallocs in \(events) events")
    }

    /// The whole per-event path of the service's thread (``ShardMarketData/drainEvents(wait:)``)
    /// over real sockets. Our code allocates nothing; libzmq heap-copies each message part over
    /// 33 bytes it is given — every update frame (56–72 bytes), not the topic — so the count is one
    /// per published update, plus libzmq's occasional queue chunks. Measured, debug and release alike:
    /// 4,450 mallocs for 4,416 updates from 3,557 events.
    @Test(.enabled(if: alloc_counter_available() != 0, "needs the malloc counter"))
    func publishingAllocatesOnlyLibzmqsCopyOfEachUpdateFrame() async throws {
        try await offThePool {
            let symbols = (0..<2).map { SymbolConfiguration(name: "SYM\($0)") }
            let rig = try MarketDataRig(shardCount: 1, symbols: symbols, startService: false)
            var logger = Logger(label: "test.marketdata")
            logger.logLevel = .error
            let counters = MarketDataShardCounters()
            let feed = try ShardMarketData(
                .init(exchange: rig.exchange, shard: 0), context: rig.context, counters: counters,
                metrics: MarketDataMetrics(shard: 0), logger: logger)
            // A subscriber, so that the PUB socket really sends (and copies).
            let reader = try ZMQSocket(rig.context, .subscriber)
            try reader.setReceiveHighWaterMark(0)
            try reader.subscribe()
            try reader.connect(feed.publisher.endpoint)
            var generator = try OrderFlowGenerator(.init(seed: 4, symbols: 2, accounts: 20, targetRestingOrders: 500))
            func follow() -> (events: Int, allocations: Int64) {
                let target = rig.shards[0].counters.lastSequence.load(ordering: .acquiring)
                var events = 0
                var allocations: Int64 = 0
                let deadline = Date().addingTimeInterval(30)
                while feed.book.lastEventSequence < target, Date() < deadline {
                    alloc_counter_begin()
                    events += feed.drainEvents(wait: false)
                    allocations += alloc_counter_end()
                }
                while case .some(.some) = try? reader.receiveBytes(dontWait: true) {}
                return (events, allocations)
            }
            rig.submit(generator.generate(2_000))
            _ = follow()  // warm-up: the first live frame, the catch-up, the pipes
            let before = counters.updatesPublished.load(ordering: .relaxed)
            rig.submit(generator.generate(3_000))
            let (events, allocations) = follow()
            let published = counters.updatesPublished.load(ordering: .relaxed) - before
            #expect(events >= 3_000)
            #expect(published > 3_000)
            #expect(
                allocations >= Int64(published) && allocations <= Int64(published + published / 32 + 64),
                "\(allocations) allocations for \(events) events, \(published) updates")
        }
    }
}
