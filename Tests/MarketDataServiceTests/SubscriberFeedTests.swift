import ChronosCore
import Foundation
import MarketData
import MarketDataClient
import Messaging
import TestSupport
import Testing

/// `MarketDataSubscriber` against a scripted feed (a PUB and a ROUTER socket this test drives):
/// what it does with heartbeats ahead of it, with a publisher whose numbering went back, and with
/// messages that are not the feed's.
@Suite(.serialized) struct SubscriberFeedTests {
    final class ScriptedFeed {
        let publisher: ZMQSocket
        let router: ZMQSocket
        let feed: MarketDataSubscriber.Feed
        let symbol = MarketDataSubscriber.Symbol(id: SymbolID(0), name: "AAPL", shard: 0)

        init(_ context: ZMQContext) throws {
            let tag = UUID().uuidString.prefix(8)
            feed = .init(shard: 0, updates: "inproc://feed-\(tag)", snapshots: "inproc://feed-\(tag)-snapshots")
            publisher = try ZMQSocket(context, .publisher)
            try publisher.bind(feed.updates)
            router = try ZMQSocket(context, .router)
            try router.bind(feed.snapshots)
        }

        static func bytes(_ message: MarketDataMessage) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: MarketDataFrameType.maxFrameSize)
            let count = bytes.withUnsafeMutableBytes {
                (try? MarketDataFrame(message: message).encode(into: $0).get()) ?? 0
            }
            return Array(bytes[0..<count])
        }

        func publish(_ parts: [[UInt8]]) throws {
            for (i, part) in parts.enumerated() { try publisher.send(part, more: i < parts.count - 1) }
        }

        func heartbeat(_ last: UInt64) throws {
            try publish([
                MarketDataTopic.bytes("AAPL"),
                Self.bytes(.heartbeat(MarketDataHeartbeat(symbol: symbol.id, lastSequence: last, eventSequence: last))),
            ])
        }

        /// Answers the next snapshot request with an empty book at `sequence`; false when none came.
        func answer(sequence: UInt64) throws -> Bool {
            try router.setReceiveTimeout(milliseconds: 100)
            guard let identity = try router.receiveBytes(), router.hasMoreParts,
                let request = try router.receiveBytes(),
                case .success(let frame) = request.withUnsafeBytes({ MarketDataFrame.decode($0) }),
                case .snapshotRequest(let asked) = frame.message
            else { return false }
            let header = SnapshotHeader(
                requestID: asked.requestID, status: .ok, symbol: asked.symbol, sequence: sequence,
                eventSequence: sequence, isComplete: true)
            try router.send(identity, more: true)
            try router.send(Self.bytes(.snapshot(header)))
            return true
        }
    }

    /// Drives `subscriber` (and the feed's answers) until `done`, 10 s at most, then looks once more.
    func pump(
        _ subscriber: MarketDataSubscriber, _ feed: ScriptedFeed, answering sequence: UInt64,
        until done: ([MarketDataSubscriber.Event]) -> Bool
    ) throws -> [MarketDataSubscriber.Event] {
        var events: [MarketDataSubscriber.Event] = []
        let deadline = Date().addingTimeInterval(10)
        while !done(events), Date() < deadline {
            if let event = subscriber.next(timeoutMilliseconds: 5) { events.append(event) }
            _ = try feed.answer(sequence: sequence)
        }
        return events
    }

    @Test func heartbeatsAheadAreGapsAndANumberingThatWentBackStartsOver() async throws {
        try await offThePool {
            let context = try ZMQContext()
            let feed = try ScriptedFeed(context)
            let subscriber = try MarketDataSubscriber(context: context, symbols: [feed.symbol], feeds: [feed.feed])
            // The first snapshot (the book at 5); heartbeats at 5 until one arrives (the PUB
            // connection is then up: later messages are not lost to a slow joiner).
            var events = try pump(subscriber, feed, answering: 5) { events in
                try? feed.heartbeat(5)
                return subscriber.isLive && events.contains { if case .heartbeat = $0 { true } else { false } }
            }
            #expect(subscriber.replica(feed.symbol.id)?.sequence == 5)
            // A heartbeat at 9 reveals four lost updates.
            try feed.heartbeat(9)
            events = try pump(subscriber, feed, answering: 9) { events in
                events.contains { if case .recovered(let s) = $0 { s.sequence == 9 } else { false } }
            }
            #expect(events.contains(.gap(symbol: feed.symbol.id, expected: 6, received: 9)))
            #expect(subscriber.replica(feed.symbol.id)?.sequence == 9 && subscriber.isLive)
            // The publisher's numbering goes back (its shard lost its history): start over.
            try feed.heartbeat(2)
            events = try pump(subscriber, feed, answering: 2) { events in
                events.contains { if case .recovered(let s) = $0 { s.sequence == 2 } else { false } }
            }
            #expect(events.contains(.restarted(symbol: feed.symbol.id)))
            #expect(subscriber.replica(feed.symbol.id)?.sequence == 2 && subscriber.isLive)
            #expect(!events.contains { if case .gap = $0 { true } else { false } })
        }
    }

    @Test func messagesThatAreNotTheFeedsAreCountedAndSkipped() async throws {
        try await offThePool {
            let context = try ZMQContext()
            let feed = try ScriptedFeed(context)
            let subscriber = try MarketDataSubscriber(context: context, symbols: [feed.symbol], feeds: [feed.feed])
            _ = try pump(subscriber, feed, answering: 0) { _ in subscriber.isLive }
            let topic = MarketDataTopic.bytes("AAPL")
            let request = ScriptedFeed.bytes(.snapshotRequest(SnapshotRequest(requestID: 1, symbol: SymbolID(0))))
            let events = try pump(subscriber, feed, answering: 0) { _ in
                try? feed.publish([topic, [1, 2, 3]])  // not a frame
                try? feed.publish([topic])  // no frame at all
                try? feed.publish([topic, request])  // a request has no business on the feed
                try? feed.heartbeat(0)
                return subscriber.counters.badMessages >= 3
            }
            #expect(subscriber.counters.badMessages >= 3)
            #expect(
                events.contains(.heartbeat(MarketDataHeartbeat(symbol: SymbolID(0), lastSequence: 0, eventSequence: 0)))
            )
            #expect(subscriber.isLive && subscriber.counters.gaps == 0)
        }
    }
}
