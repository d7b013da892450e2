import ChronosConfig
import ChronosCore
import Foundation
import MarketData
import MarketDataClient
import MarketDataService
import Messaging
import TestSupport
import Testing
import Workload

/// The market-data service over real ZeroMQ sockets, following real engine shards, and its
/// consumer: a subscriber's books equal the engines' after scripted and generated flows, for late
/// joiners, through dropped messages and across a restart of the service.
@Suite(.serialized) struct MarketDataServiceTests {
    /// A flow touching every kind of update: resting orders on both sides, a second order at a
    /// level, partial and full fills, a sweep, a cancel, replaces, on every symbol.
    static func scriptedFlow(_ rig: MarketDataRig) -> [EngineCommand] {
        var commands: [EngineCommand] = []
        for name in ["AAPL", "MSFT", "GOOG", "AMZN"] {
            commands += [
                rig.new(name, .buy, 10, at: 100), rig.new(name, .buy, 5, at: 100, account: 2),
                rig.new(name, .buy, 7, at: 99), rig.new(name, .sell, 8, at: 102), rig.new(name, .sell, 4, at: 103),
                rig.new(name, .sell, 12, at: 100, account: 3),  // fills 10 + 2 of 5 at 100
                rig.new(name, .buy, 20, at: 103, account: 4),  // sweeps 102 and 103, rests 8 at 103
            ]
        }
        // A cancel and a replace on AAPL: the order at 99 leaves, the resting buy at 103 moves to 101.
        let aapl = rig.symbol("AAPL")
        commands.append(.cancel(CancelOrder(id: OrderID(3), account: AccountID(1), symbol: aapl)))
        commands.append(
            .replace(ReplaceOrder(id: OrderID(7), account: AccountID(4), symbol: aapl, price: 101, quantity: 6)))
        return commands
    }

    @Test func scriptedFlowSubscriberBooksEqualTheEngines() async throws {
        try await offThePool {
            let rig = try MarketDataRig(shardCount: 2)
            let subscriber = try rig.subscriber()
            #expect(rig.waitUntilFollowing(subscriber), "every replica took its first snapshot")
            rig.submit(Self.scriptedFlow(rig))
            let events = rig.pumpUntilConsistent(subscriber)
            for symbol in subscriber.symbols {
                #expect(rig.matches(subscriber, symbol.id), "\(symbol.name): \(rig.describe(subscriber, symbol.id))")
                #expect(subscriber.replica(symbol.id)?.sequence == rig.expectedSequence(symbol.id))
            }
            #expect(subscriber.counters.gaps == 0, "subscribed before the flow: nothing to recover")
            // Every update arrived in sequence, per symbol; 3 trades per symbol (two fills then a sweep of two).
            var last: [SymbolID: UInt64] = [:]
            var trades = 0
            for case .update(let update) in events {
                if let previous = last[update.symbol] { #expect(update.sequence == previous + 1) }
                last[update.symbol] = update.sequence
                if case .trade = update { trades += 1 }
            }
            #expect(trades == 4 * 4)
            // A snapshot request answers the same book.
            let aapl = rig.symbol("AAPL")
            guard case .success(let snapshot)? = subscriber.snapshot(aapl, timeoutMilliseconds: 5_000) else {
                Issue.record("no snapshot")
                return
            }
            let engine = rig.references[rig.shard(of: aapl)].snapshot(aapl)
            #expect(snapshot.bids == engine.bids && snapshot.offers == engine.asks)
            #expect(snapshot.sequence == rig.expectedSequence(aapl))
            #expect(snapshot.bestBid == LevelSummary(price: 101, quantity: 6, orderCount: 1))
        }
    }

    @Test func generatedFlowMatchesTheEngineAtRandomPoints() async throws {
        try await offThePool {
            let symbols = (0..<3).map { SymbolConfiguration(name: "SYM\($0)") }
            let rig = try MarketDataRig(shardCount: 1, symbols: symbols)
            let subscriber = try rig.subscriber()
            var generator = try OrderFlowGenerator(
                .init(seed: 16, symbols: 3, accounts: 40, targetRestingOrders: 1_500))
            var rng = SplitMix64(seed: 1_616)
            var checks = 0
            var total = 0
            while total < 24_000 {
                let chunk = 500 + Int(rng.next() % 3_000)
                rig.submit(generator.generate(chunk))
                total += chunk
                rig.pumpUntilConsistent(subscriber)
                checks += 1
                for symbol in subscriber.symbols {
                    #expect(
                        rig.matches(subscriber, symbol.id), "after \(total): \(rig.describe(subscriber, symbol.id))")
                    #expect(subscriber.replica(symbol.id)?.sequence == rig.expectedSequence(symbol.id))
                }
            }
            #expect(checks >= 8)
            #expect(rig.service?.counters[0].faults.load(ordering: .relaxed) == 0)
        }
    }

    @Test func aLateSubscriberRecoversBySnapshot() async throws {
        try await offThePool {
            let rig = try MarketDataRig(shardCount: 2)
            rig.submit(Self.scriptedFlow(rig))
            let subscriber = try rig.subscriber(["AAPL", "MSFT"])
            let events = rig.pumpUntilConsistent(subscriber)
            for symbol in subscriber.symbols {
                #expect(rig.matches(subscriber, symbol.id), "\(rig.describe(subscriber, symbol.id))")
                #expect(subscriber.replica(symbol.id)?.sequence == rig.expectedSequence(symbol.id))
            }
            let recovered = events.filter { if case .recovered = $0 { true } else { false } }
            #expect(recovered.count >= 2)
            // And it follows on from there.
            rig.submit([rig.new("AAPL", .sell, 1, at: 101, account: 9)])
            rig.pumpUntilConsistent(subscriber)
            #expect(rig.matches(subscriber, rig.symbol("AAPL")))
        }
    }

    @Test func updatesDroppedOnPurposeAreDetectedAndRecovered() async throws {
        try await offThePool {
            let symbols = (0..<2).map { SymbolConfiguration(name: "SYM\($0)") }
            let rig = try MarketDataRig(shardCount: 1, symbols: symbols)
            let subscriber = try rig.subscriber()
            var seen = 0
            subscriber.dropUpdate = { _ in
                seen += 1
                return seen % 97 == 0
            }
            var generator = try OrderFlowGenerator(.init(seed: 7, symbols: 2, accounts: 20, targetRestingOrders: 500))
            for _ in 0..<4 {
                rig.submit(generator.generate(1_500))
                rig.pumpUntilConsistent(subscriber)
                for symbol in subscriber.symbols {
                    #expect(rig.matches(subscriber, symbol.id), "\(rig.describe(subscriber, symbol.id))")
                }
            }
            #expect(subscriber.counters.droppedOnPurpose > 10)
            #expect(subscriber.counters.gaps >= 1)
            #expect(subscriber.counters.recoveries > subscriber.symbols.count, "recoveries beyond the first snapshots")
        }
    }

    @Test func messagesDroppedAtATinyHighWaterMarkAreRecovered() async throws {
        try await offThePool {
            let symbols = (0..<2).map { SymbolConfiguration(name: "SYM\($0)") }
            let rig = try MarketDataRig(shardCount: 1, symbols: symbols) { $0.marketData.sendHighWaterMark = 8 }
            var options = MarketDataSubscriber.Options()
            options.receiveHighWaterMark = 8
            let subscriber = try rig.subscriber(options: options)
            rig.waitUntilFollowing(subscriber)
            // A burst while the subscriber does not read: ZeroMQ drops what exceeds the queues.
            var generator = try OrderFlowGenerator(.init(seed: 9, symbols: 2, accounts: 20, targetRestingOrders: 500))
            rig.submit(generator.generate(3_000))
            let published = rig.service?.counters[0].updatesPublished.load(ordering: .relaxed) ?? 0
            rig.pumpUntilConsistent(subscriber)
            for symbol in subscriber.symbols {
                #expect(rig.matches(subscriber, symbol.id), "\(rig.describe(subscriber, symbol.id))")
                #expect(subscriber.replica(symbol.id)?.sequence == rig.expectedSequence(symbol.id))
            }
            #expect(published > 1_000)
            #expect(subscriber.counters.gaps >= 1, "the burst overflowed the queues")
        }
    }

    @Test func snapshotRequestsForUnknownSymbolsAndMalformedRequestsGetClearAnswers() async throws {
        try await offThePool {
            let rig = try MarketDataRig(shardCount: 2)
            rig.submit(Self.scriptedFlow(rig))
            let dealer = try ZMQSocket(rig.context, .dealer)
            try dealer.setReceiveTimeout(milliseconds: 5_000)
            try dealer.connect(rig.exchange.shards[0].resolvedMarketDataSnapshotEndpoint)
            func ask(_ parts: [[UInt8]]) throws -> (SnapshotHeader?, levels: Int) {
                for (i, part) in parts.enumerated() { try dealer.send(part, more: i < parts.count - 1) }
                guard let first = try dealer.receiveBytes() else { return (nil, 0) }
                var levels = 0
                while dealer.hasMoreParts {
                    _ = try dealer.receiveBytes()
                    levels += 1
                }
                let decoded = first.withUnsafeBytes { MarketDataFrame.decode($0) }
                guard case .success(let frame) = decoded, case .snapshot(let header) = frame.message else {
                    return (nil, levels)
                }
                return (header, levels)
            }
            func request(_ id: UInt64, _ symbol: SymbolID) -> [UInt8] {
                var bytes = [UInt8](repeating: 0, count: 24)
                _ = bytes.withUnsafeMutableBytes {
                    MarketDataFrame(message: .snapshotRequest(SnapshotRequest(requestID: id, symbol: symbol)))
                        .encode(into: $0)
                }
                return bytes
            }
            // Shard 0 trades AAPL and GOOG; MSFT is shard 1's; 99 is no symbol at all.
            let unknown = try ask([request(11, SymbolID(99))])
            #expect(unknown.0?.status == .unknownSymbol && unknown.0?.requestID == 11 && unknown.levels == 0)
            let otherShard = try ask([request(12, rig.symbol("MSFT"))])
            #expect(otherShard.0?.status == .unknownSymbol && otherShard.0?.requestID == 12)
            let garbage = try ask([[1, 2, 3]])
            #expect(garbage.0?.status == .badRequest && garbage.0?.requestID == 0)
            let twoParts = try ask([request(13, rig.symbol("AAPL")), [0]])
            #expect(twoParts.0?.status == .badRequest)
            var heartbeat = [UInt8](repeating: 0, count: 32)  // a valid frame, but no request
            _ = heartbeat.withUnsafeMutableBytes {
                MarketDataFrame(
                    message: .heartbeat(MarketDataHeartbeat(symbol: SymbolID(0), lastSequence: 1, eventSequence: 1))
                )
                .encode(into: $0)
            }
            let wrongType = try ask([heartbeat])
            #expect(wrongType.0?.status == .badRequest)
            // The service still answers.
            let good = try ask([request(15, rig.symbol("AAPL"))])
            #expect(good.0?.status == .ok && good.0?.requestID == 15)
            #expect(good.levels == Int((good.0?.bidCount ?? 0) + (good.0?.offerCount ?? 0)) && good.levels > 0)
            // The counters follow the answers (the service counts a batch of requests once it answered them).
            let counters = rig.service!.counters[0]
            let counted = Date().addingTimeInterval(10)
            while counters.badRequests.load(ordering: .relaxed) < 3
                || counters.snapshotsServed.load(ordering: .relaxed) < 1,
                Date() < counted
            {
                usleep(1_000)
            }
            #expect(counters.badRequests.load(ordering: .relaxed) == 3)
            #expect(counters.unknownSymbolRequests.load(ordering: .relaxed) == 2)
            #expect(counters.snapshotsServed.load(ordering: .relaxed) >= 1)
            // A subscriber asking for an unknown symbol hears why.
            let stray = try MarketDataSubscriber(
                context: rig.context, symbols: [.init(id: SymbolID(99), name: "NOPE", shard: 0)],
                feeds: [
                    .init(
                        shard: 0, updates: rig.exchange.shards[0].resolvedMarketDataEndpoint,
                        snapshots: rig.exchange.shards[0].resolvedMarketDataSnapshotEndpoint)
                ])
            var refused = false
            let deadline = Date().addingTimeInterval(10)
            while !refused, Date() < deadline {
                refused =
                    stray.next(timeoutMilliseconds: 10)
                    == .snapshotRefused(symbol: SymbolID(99), status: .unknownSymbol)
            }
            #expect(refused)
            dealer.close()
        }
    }

    @Test func aRestartedServiceRebuildsFromTheJournalAndNumbersAsBefore() async throws {
        try await offThePool {
            let rig = try MarketDataRig(shardCount: 1, symbols: (0..<2).map { SymbolConfiguration(name: "SYM\($0)") })
            var options = MarketDataSubscriber.Options()
            options.silenceTimeoutMilliseconds = 1_000  // heartbeats every 100 ms here
            let subscriber = try rig.subscriber(options: options)
            var generator = try OrderFlowGenerator(.init(seed: 5, symbols: 2, accounts: 20, targetRestingOrders: 400))
            rig.submit(generator.generate(2_000))
            rig.pumpUntilConsistent(subscriber)
            let gapsBefore = subscriber.counters.gaps
            // Down for a while: the market moves on.
            rig.stopService()
            rig.submit(generator.generate(1_000))
            try rig.startService()
            let counters = rig.service!.counters[0]
            rig.pump(subscriber, seconds: 10) { counters.live.load(ordering: .acquiring) }
            #expect(
                counters.catchUpTarget.load(ordering: .relaxed)
                    == rig.shards[0].counters.lastSequence.load(ordering: .relaxed))
            #expect(counters.updatesPublished.load(ordering: .relaxed) == 0, "the history is rebuilt, not republished")
            // The first heartbeats show the subscriber its gap; it recovers by snapshot.
            rig.pumpUntilConsistent(subscriber)
            for symbol in subscriber.symbols {
                #expect(rig.matches(subscriber, symbol.id), "\(rig.describe(subscriber, symbol.id))")
                #expect(subscriber.replica(symbol.id)?.sequence == rig.expectedSequence(symbol.id))
            }
            #expect(subscriber.counters.gaps > gapsBefore)
            // From there on, the restarted publisher numbers exactly as an uninterrupted one.
            let gapsAfter = subscriber.counters.gaps
            rig.submit(generator.generate(1_000))
            rig.pumpUntilConsistent(subscriber)
            for symbol in subscriber.symbols {
                #expect(rig.matches(subscriber, symbol.id), "\(rig.describe(subscriber, symbol.id))")
                #expect(subscriber.replica(symbol.id)?.sequence == rig.expectedSequence(symbol.id))
            }
            #expect(subscriber.counters.gaps == gapsAfter)
            #expect(counters.updatesPublished.load(ordering: .relaxed) > 0)
        }
    }

    @Test func periodicSnapshotsAndHeartbeatsAreOnThePublisher() async throws {
        try await offThePool {
            let rig = try MarketDataRig(shardCount: 1) { $0.marketData.snapshotIntervalMilliseconds = 100 }
            rig.submit(Self.scriptedFlow(rig))
            let counters = rig.service!.counters[0]
            let subscriber = try rig.subscriber(["AAPL"])
            var heartbeats: [MarketDataHeartbeat] = []
            let deadline = Date().addingTimeInterval(10)
            while heartbeats.count < 3 || counters.snapshotsPublished.load(ordering: .relaxed) < 8, Date() < deadline {
                if case .heartbeat(let beat)? = subscriber.next(timeoutMilliseconds: 10) { heartbeats.append(beat) }
            }
            #expect(heartbeats.count >= 3)
            #expect(counters.snapshotsPublished.load(ordering: .relaxed) >= 8, "4 symbols, every 100 ms")
            let aapl = rig.symbol("AAPL")
            for beat in heartbeats {
                #expect(beat.symbol == aapl, "the subscriber filters by topic")
                #expect(beat.lastSequence == rig.expectedSequence(aapl) && !beat.impaired)
            }
            #expect(rig.matches(subscriber, aapl))
        }
    }
}
