import AllocCounter
import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Journal
import MatchingEngine
import Messaging
import ShardClient
import Testing

/// Engine shards as services on real ZeroMQ sockets (inproc), driven through the gateway-side client.
@Suite(.serialized) struct EngineShardTests {
    let context: ZMQContext
    let exchange: ExchangeConfiguration

    init() throws {
        context = try ZMQContext()
        let tag = UUID().uuidString.prefix(8)
        var exchange = ExchangeConfiguration()
        exchange.engine = EngineConfiguration(orderCapacity: 10_000, symbolCapacity: 16)
        exchange.shards = (0..<2).map { id in
            ShardConfiguration(
                id: id, ordersEndpoint: "inproc://\(tag)-\(id)-orders", eventsEndpoint: "inproc://\(tag)-\(id)-events",
                replayEndpoint: "inproc://\(tag)-\(id)-replay")
        }
        exchange.journal = JournalSettings(
            root: try JournalDirectory.makeTemporary(prefix: "chronos-shard-test"), slotsPerSegment: 16,
            snapshotEveryEvents: 40)
        self.exchange = exchange  // AAPL, GOOG → shard 0; MSFT, AMZN → shard 1 (round robin)
    }

    func startShards() throws -> [EngineShard] {
        try (0..<2).map { id in
            let shard = EngineShard(EngineShard.Configuration(exchange, shard: id), context: context)
            try shard.start()
            return shard
        }
    }

    func symbol(_ name: String) -> SymbolID { SymbolID(exchange.shardMap.route(name)!.symbol) }

    func order(_ id: UInt64, _ account: UInt32, _ symbolName: String, _ side: Side, _ price: Int64, _ qty: Int64)
        -> EngineCommand
    {
        .new(
            NewOrder(
                id: OrderID(id), account: AccountID(account), symbol: symbol(symbolName), side: side,
                price: price, quantity: qty))
    }

    /// Reports until `count` arrived or a generous hang guard passed.
    func reports(_ client: ExchangeClient, _ count: Int) -> [WireFrame] {
        var frames: [WireFrame] = []
        for _ in 0..<count * 50 where frames.count < count {
            if let frame = client.receive(timeoutMilliseconds: 100) { frames.append(frame) }
        }
        return frames
    }

    func waitUntilConnected(_ client: ExchangeClient, probe: EngineCommand) {
        // ZMQ_IMMEDIATE refuses sends until the connection is up: retry a harmless probe.
        for _ in 0..<1_000 {
            if case .sent = client.submit(probe) { return }
            usleep(1_000)
        }
    }

    @Test func ordersMatchInTheirShardAndReportsReturnToBothGateways() throws {
        let shards = try startShards()
        defer { shards.forEach { $0.stop() } }
        let a = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw-a")
        let b = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw-b")
        waitUntilConnected(a, probe: order(900, 1, "AAPL", .buy, 1, 1))
        waitUntilConnected(b, probe: order(901, 2, "MSFT", .buy, 1, 1))
        _ = reports(a, 1)
        _ = reports(b, 1)

        #expect(a.submit(order(1, 1, "AAPL", .sell, 100, 10), clientTimestampNanos: 77) == .sent(shard: 0))
        #expect(a.submit(order(2, 1, "MSFT", .sell, 200, 10)) == .sent(shard: 1))
        let acceptedA = reports(a, 2)
        #expect(acceptedA.count == 2)
        #expect(
            acceptedA.contains {
                if case .event(.accepted(let e), 77) = $0.message { e.id == OrderID(1) } else { false }
            })

        // Gateway B takes A's AAPL order: B gets accepted + fill, A gets the maker's fill.
        #expect(b.submit(order(3, 2, "AAPL", .buy, 100, 4), clientTimestampNanos: 5) == .sent(shard: 0))
        let taker = reports(b, 2)
        #expect(taker.map(\.shard) == [0, 0])
        guard case .event(.fill(let fill), 5) = try #require(taker.last).message else {
            Issue.record("expected a fill, got \(taker)")
            return
        }
        #expect(fill.takerID == OrderID(3) && fill.makerID == OrderID(1) && fill.quantity == 4 && fill.price == 100)
        let maker = reports(a, 1)
        guard case .event(.fill(let makerFill), _) = try #require(maker.first).message else {
            Issue.record("the maker's gateway must get its fill, got \(maker)")
            return
        }
        #expect(makerFill.makerID == OrderID(1) && makerFill.makerLeaves == 6)
        // The MSFT order rests untouched in shard 1.
        #expect(b.submit(order(4, 2, "MSFT", .buy, 199, 1)) == .sent(shard: 1))
        let msft = reports(b, 1)
        #expect(msft.count == 1)
        if case .event(.accepted(let e), _) = msft.first?.message { #expect(e.sequence == 3) }  // probe, 2, 4
    }

    @Test func unknownSymbolsAndStoppedShardsAreRefusedAtOnce() throws {
        // Over ipc (inproc has no notion of a missing peer): no shard listens on these paths.
        var exchange = self.exchange
        let dir = FileManager.default.temporaryDirectory.path
        for id in 0..<2 {
            exchange.shards[id].ordersEndpoint = "ipc://\(dir)/chronos-absent-\(UUID().uuidString.prefix(8))"
        }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw")
        let beyond = EngineCommand.new(
            NewOrder(id: OrderID(1), account: AccountID(1), symbol: SymbolID(99), side: .buy, price: 1, quantity: 1))
        #expect(client.submit(beyond) == .unknownSymbol)
        // No shard is running: nothing is queued for a peer that is not there.
        #expect(client.submit(order(2, 1, "AAPL", .buy, 1, 1)) == .shardUnavailable(shard: 0))
        #expect(client.submit(order(3, 1, "MSFT", .buy, 1, 1)) == .shardUnavailable(shard: 1))
    }

    @Test func garbageAndMisroutedFramesAreAnsweredWithoutReachingTheBook() throws {
        let shards = try startShards()
        defer { shards.forEach { $0.stop() } }
        let dealer = try ZMQSocket(context, .dealer)
        try dealer.setReceiveTimeout(milliseconds: 5_000)
        try dealer.connect(exchange.shards[0].ordersEndpoint)
        try dealer.send([1, 2, 3])
        var buffer = [UInt8](repeating: 0, count: 256)
        func nextReport() throws -> WireFrame? {
            guard case .received(let n, _) = try buffer.withUnsafeMutableBytes({ try dealer.receive(into: $0) }) else {
                return nil
            }
            return try buffer.withUnsafeBytes {
                try WireFrame.decode(UnsafeRawBufferPointer(rebasing: $0[0..<n])).get()
            }
        }
        guard case .event(.rejected(let garbage), _) = try #require(try nextReport()).message else {
            Issue.record("garbage must be answered")
            return
        }
        #expect(garbage.reason == .malformed && garbage.sequence == 0)
        // MSFT belongs to shard 1: shard 0 refuses it as unknown, outside its sequence.
        var frame = [UInt8](repeating: 0, count: 96)
        let msft = WireFrame(
            message: .newOrder(
                NewOrder(
                    id: OrderID(5), account: AccountID(1), symbol: symbol("MSFT"), side: .buy, price: 1, quantity: 1),
                clientTimestampNanos: 0))
        let n = try frame.withUnsafeMutableBytes { try msft.encode(into: $0).get() }
        try dealer.send(Array(frame[0..<n]))
        guard case .event(.rejected(let misrouted), _) = try #require(try nextReport()).message else {
            Issue.record("a misrouted order must be answered")
            return
        }
        #expect(misrouted.reason == .unknownSymbol && misrouted.id == OrderID(5) && misrouted.sequence == 0)
        // An oversized message (64 KiB) and a three-part message are malformed too.
        try dealer.send([UInt8](repeating: 1, count: 65_536))
        try dealer.send([1], more: true)
        try dealer.send([2])
        for _ in 0..<2 {
            guard case .event(.rejected(let bad), _) = try #require(try nextReport()).message else {
                Issue.record("an oversized or multi-part message must be answered")
                return
            }
            #expect(bad.reason == .malformed && bad.sequence == 0)
        }
        #expect(shards[0].counters.badFrames.load(ordering: .relaxed) == 3)
        #expect(shards[0].counters.wrongShard.load(ordering: .relaxed) == 1)
        #expect(shards[0].counters.commands.load(ordering: .relaxed) == 0)
    }

    @Test func lateSubscriberFillsTheGapFromTheJournal() throws {
        let shards = try startShards()
        defer { shards.forEach { $0.stop() } }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw")
        waitUntilConnected(client, probe: order(1, 1, "AAPL", .buy, 10, 1))
        for id in UInt64(2)...20 { _ = client.submit(order(id, 1, "AAPL", .buy, 10, 1)) }
        #expect(reports(client, 20).count == 20)
        // Joins after 20 events were published: the first live message is a heartbeat or a new
        // event, and everything before it comes from the journal (over several 16-event segments).
        let subscriber = try EventSubscriber(context: context, shard: exchange.shards[0])
        usleep(50_000)  // let the subscription reach the publisher
        for id in UInt64(21)...30 { _ = client.submit(order(id, 1, "AAPL", .buy, 10, 1)) }
        var sequences: [UInt64] = []
        for _ in 0..<200 where sequences.count < 30 {
            if let event = try subscriber.next(timeoutMilliseconds: 100) { sequences.append(event.sequence) }
        }
        #expect(sequences == Array(1...30))
        #expect(subscriber.replayedEvents >= 20)
    }

    @Test func eventsPrunedFromTheJournalAreReportedAsLost() throws {
        let shards = try startShards()
        defer { shards.forEach { $0.stop() } }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw")
        waitUntilConnected(client, probe: order(1, 1, "AAPL", .buy, 10, 1))
        for id in UInt64(2)...100 { _ = client.submit(order(id, 1, "AAPL", .buy, 10, 1)) }
        #expect(reports(client, 100).count == 100)
        // A snapshot at or after event 80 (every 40 events), then the segments it covers pruned
        // as `keep_segments = 0` would: the oldest events are gone from the journal.
        for _ in 0..<500 where shards[0].counters.snapshotSequence.load(ordering: .relaxed) < 80 { usleep(10_000) }
        let directory = EngineShard.Configuration(exchange, shard: 0).journalDirectory
        let deleted = try ShardJournal.prune(directory: directory, keepSnapshots: 1, keepSegments: 0)
        #expect(!deleted.isEmpty)
        let firstKept = try #require(try JournalDirectory.segments(directory).first?.first)
        #expect(firstKept > 1)
        let subscriber = try EventSubscriber(context: context, shard: exchange.shards[0])
        usleep(50_000)
        _ = client.submit(order(101, 1, "AAPL", .buy, 10, 1))
        var lostUpTo: UInt64 = 0
        do {
            while try subscriber.next(timeoutMilliseconds: 2_000) != nil {}
            Issue.record("the lost range must be reported")
        } catch {
            if case .lost(let from, let to) = error {
                #expect(from == 1 && to == firstKept - 1, "\(error)")
                lostUpTo = to
            } else {
                Issue.record("unexpected \(error)")
            }
        }
        var sequences: [UInt64] = []
        while let event = try subscriber.next(timeoutMilliseconds: 500) { sequences.append(event.sequence) }
        #expect(sequences == Array((lostUpTo + 1)...101))
    }

    @Test func aRestartedShardRebuildsItsBooksFromTheJournalAndNumbersOn() throws {
        var first = try startShards()
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw")
        waitUntilConnected(client, probe: order(1, 1, "AAPL", .buy, 10, 5))
        for id in UInt64(2)...60 {
            _ = client.submit(order(id, UInt32(id % 3), "AAPL", id % 2 == 0 ? .buy : .sell, 10 + Int64(id % 4), 3))
        }
        let before = reports(client, 60)
        #expect(before.count >= 60)
        first.forEach { $0.stop() }
        let hash = first[0].counters.stateHash.load(ordering: .relaxed)
        let last = first[0].counters.lastSequence.load(ordering: .relaxed)
        first = []
        let again = try startShards()
        defer { again.forEach { $0.stop() } }
        #expect(again[0].counters.stateHash.load(ordering: .relaxed) == hash)
        #expect(again[0].counters.lastSequence.load(ordering: .relaxed) == last)
        #expect(again[0].recovery?.lastJournaled == last)
        // The next event is numbered after the last one published before the restart.
        let next = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw2")
        waitUntilConnected(next, probe: order(1_000, 1, "AAPL", .buy, 1, 1))
        let answer = reports(next, 1)
        guard case .event(let event, _)? = answer.first?.message else {
            Issue.record("no answer after the restart")
            return
        }
        #expect(event.sequence == last + 1)
    }

    @Test func aJournalOfAnotherConfigurationIsRefused() throws {
        let first = try startShards()
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw")
        waitUntilConnected(client, probe: order(1, 1, "AAPL", .buy, 10, 5))
        #expect(reports(client, 1).count == 1)
        first.forEach { $0.stop() }
        // The same journal folder, the symbols in another order: AAPL's id would name MSFT.
        var swapped = exchange
        swapped.symbols = ["MSFT", "AAPL", "GOOG", "AMZN"].map {
            SymbolConfiguration(name: $0, maxQuantity: 1_000_000, maxPrice: 100_000_000)
        }
        let shard = EngineShard(EngineShard.Configuration(swapped, shard: 0), context: context)
        #expect {
            try shard.start()
        } throws: { error in
            guard case .identityMismatch(_, let stored, let configured) = error as? JournalError else { return false }
            return stored.contains("symbols=AAPL") && configured.contains("symbols=MSFT")
        }
    }
}

extension EngineShardTests {
    @Test func publishedEventsAreContiguousUnderLoad() throws {
        let shards = try startShards()
        defer { shards.forEach { $0.stop() } }
        // Subscribed and caught up before the load, so that every later event must come live
        // (this suite's ring holds only 64 events).
        let subscriber = try EventSubscriber(context: context, shard: exchange.shards[0])
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw-load")
        waitUntilConnected(client, probe: order(1, 1, "AAPL", .buy, 10, 1))
        let first = try #require(try subscriber.next(timeoutMilliseconds: 5_000))
        #expect(first.sequence == 1)
        // 20,000 commands with up to 500 in flight: resting orders, crossing orders and cancels.
        var sent = 0, answered = 0
        var id: UInt64 = 2
        while answered < 20_000 {
            while sent < 20_000 && sent - answered < 500 {
                let command: EngineCommand =
                    switch sent % 4 {
                    case 0: order(id, 1, "AAPL", .buy, 100 - Int64(sent % 7), 5)
                    case 1: order(id, 2, "AAPL", .sell, 99, 3)
                    case 2: .cancel(CancelOrder(id: OrderID(id - 2), account: AccountID(1), symbol: symbol("AAPL")))
                    default: order(id, 3, "GOOG", .sell, 500, 1)
                    }
                guard case .sent = client.submit(command, clientTimestampNanos: 1) else { break }
                id += 1
                sent += 1
            }
            if let frame = client.receive(timeoutMilliseconds: 1_000) {
                if case .event(let event, 1) = frame.message, event.answersCommand { answered += 1 }
            } else {
                break
            }
        }
        #expect(answered == 20_000)
        let produced = shards[0].counters.events.load(ordering: .relaxed)
        var expected: UInt64 = 2
        var gaps = 0
        while expected <= UInt64(produced), let event = try subscriber.next(timeoutMilliseconds: 2_000) {
            if event.sequence != expected { gaps += 1 }
            expected = event.sequence + 1
        }
        #expect(gaps == 0)
        #expect(expected == UInt64(produced) + 1, "every published event, in order, none missing")
    }
}

#if DEBUG
    private let optimized = false
#else
    private let optimized = true
#endif

/// Run by `make test`'s release step (the name matches `--filter ZeroAllocationTests`).
@Suite(.serialized) struct ExchangeClientZeroAllocationTests {
    /// The gateway side of the hot path: encoding a command, sending it, polling, receiving and
    /// decoding its report. Our code allocates nothing; libzmq itself copies every message over
    /// 33 bytes into a heap buffer on the sending thread (our new-order frame is 56 bytes), which
    /// is the one allocation per round trip allowed here. Unoptimized builds add Swift's own
    /// generic-iteration allocations, so the count is checked in release builds.
    @Test(.enabled(if: alloc_counter_available() != 0 && optimized, "release builds only"))
    func clientRoundTripAllocatesOnlyLibzmqsMessageCopy() throws {
        let shards = try EngineShardTests()
        let engines = try shards.startShards()
        defer { engines.forEach { $0.stop() } }
        let client = try ExchangeClient(context: shards.context, shardMap: shards.exchange.shardMap, name: "gw-alloc")
        shards.waitUntilConnected(client, probe: shards.order(1, 1, "AAPL", .buy, 10, 1))
        _ = shards.reports(client, 1)
        var id: UInt64 = 2
        func roundTrips(_ n: Int) {
            for _ in 0..<n {
                let command: EngineCommand = .new(
                    NewOrder(
                        id: OrderID(id), account: AccountID(1), symbol: SymbolID(0), side: .buy, price: 10,
                        quantity: 1))
                _ = client.submit(command, clientTimestampNanos: id)
                while client.receive(timeoutMilliseconds: 1_000) == nil {}
                id += 1
            }
        }
        roundTrips(200)  // warm-up: lazy metadata, socket pipes
        alloc_counter_begin()
        roundTrips(1_000)
        let count = alloc_counter_end()
        #expect(count <= 1_000 + 8, "one libzmq message copy per round trip at most")
    }
}

extension EngineShardTests {
    @Test func withMachineDurabilityNoReportArrivesBeforeItsEventIsSynced() throws {
        var exchange = self.exchange
        exchange.journal.durability = .machine
        let shard = EngineShard(EngineShard.Configuration(exchange, shard: 0), context: context)
        try shard.start()
        defer { shard.stop() }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw")
        waitUntilConnected(client, probe: order(1, 1, "AAPL", .buy, 10, 1))
        for id in UInt64(2)...200 {
            _ = client.submit(order(id, UInt32(id % 2), "AAPL", id % 2 == 0 ? .buy : .sell, 10, 1))
        }
        var received = 0
        for _ in 0..<2_000 where received < 200 {
            guard let frame = client.receive(timeoutMilliseconds: 100), case .event(let event, _) = frame.message
            else { continue }
            received += 1
            // The synced mark only grows: read after the report arrived, it must already cover it.
            #expect(shard.journalSyncedSequence >= event.sequence)
        }
        #expect(received >= 200)
    }

    @Test func aShardWhoseJournalFailsStopsTakingCommandsAndSendsNothingUnjournaled() throws {
        var exchange = self.exchange
        exchange.journal.snapshotEveryEvents = 0
        let shard = EngineShard(EngineShard.Configuration(exchange, shard: 0), context: context)
        try shard.start()
        defer { shard.stop() }
        let client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "gw")
        waitUntilConnected(client, probe: order(1, 1, "AAPL", .buy, 10, 1))
        #expect(reports(client, 1).count == 1)
        // The journal folder disappears (a lost volume): no further 16-event segment can be created.
        let directory = EngineShard.Configuration(exchange, shard: 0).journalDirectory
        try FileManager.default.removeItem(atPath: directory)
        for id in UInt64(2)...200 { _ = client.submit(order(id, 1, "AAPL", .buy, 10, 1)) }
        var sequences: [UInt64] = []
        for _ in 0..<30 {
            guard let frame = client.receive(timeoutMilliseconds: 100) else { continue }
            if case .event(let event, _) = frame.message { sequences.append(event.sequence) }
        }
        let failed = shard.counters.journalFailed.load(ordering: .acquiring)
        #expect(failed)
        #expect(!shard.isAlive)
        #expect(shard.journalError != nil)
        // Every event sent was journaled: numbered without a gap from 1, and fewer than the commands.
        #expect(sequences == Array(2...UInt64(1 + sequences.count)))
        #expect(sequences.count < 199)
        #expect(sequences.last ?? 1 <= shard.counters.lastSequence.load(ordering: .relaxed))
    }
}
