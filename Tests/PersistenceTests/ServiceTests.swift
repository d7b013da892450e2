import ChronosConfig
import ChronosCore
import Foundation
import Logging
import Messaging
import Persistence
import TestSupport
import Testing

/// The persister in-process against a stand-in engine that publishes hand-made frames.
@Suite(.serialized) struct ServiceTests {
    func frame(_ event: EngineEvent) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: WireFormat.maxFrameSize)
        let frame = WireFrame(shard: 0, message: .event(event, clientTimestampNanos: 42))
        guard case .success(let n) = bytes.withUnsafeMutableBytes({ frame.encode(into: $0) }) else { return [] }
        return Array(bytes[0..<n])
    }

    @Test func corruptAndTruncatedFramesAreCountedAndNotStored() async throws {
        try await offThePool {
            let context = try ZMQContext()
            let name = "persist-test-\(UUID().uuidString.prefix(8))"
            let shard = ShardConfiguration(
                id: 0, ordersEndpoint: "inproc://\(name)-orders", eventsEndpoint: "inproc://\(name)-events",
                replayEndpoint: "inproc://\(name)-replay")
            let publisher = try ZMQSocket(context, .publisher)
            try publisher.bind(shard.eventsEndpoint)
            let replay = try ZMQSocket(context, .router)
            try replay.bind(shard.replayEndpoint)
            defer {
                publisher.close()
                replay.close()
            }
            var exchange = ExchangeConfiguration(shards: [shard])
            exchange.persistence.batchSize = 10
            let path = temporaryDirectory().appendingPathComponent("chronos.sqlite").path
            let persister = PersistenceService(exchange: exchange, context: context, logger: Logger(label: "test")) {
                try SQLiteEventStore(path: path)
            }
            try persister.start()
            defer { persister.stop() }
            #expect(eventually { persister.counters.following.load(ordering: .relaxed) })
            usleep(200_000)  // the subscription reaches the publisher
            let events = Array(sampleEvents()[0..<3])
            let good = events.map(frame)
            var corrupt = good[1]
            corrupt[0] ^= 0xFF  // the version byte
            _ = try publisher.send(good[0])
            _ = try publisher.send(corrupt)
            _ = try publisher.send(Array(good[1].prefix(50)))  // truncated
            _ = try publisher.send([UInt8](repeating: 0xAB, count: 96))  // garbage
            _ = try publisher.send(good[1])
            _ = try publisher.send(good[2])
            #expect(eventually { persister.counters.persistedEvents.load(ordering: .relaxed) == 3 })
            persister.stop()
            #expect(persister.counters.rejectedFrames.load(ordering: .relaxed) == 3)
            let store = try SQLiteEventStore(path: path)
            defer { store.close() }
            #expect(try store.events(shard: 0) == events)
            #expect(try store.frames(shard: 0) == good)
        }
    }
}

/// Retries `body` until it returns true or ~`seconds` pass.
func eventually(seconds: Double = 10, _ body: () throws -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if (try? body()) == true { return true }
        usleep(10_000)
    }
    return (try? body()) == true
}
