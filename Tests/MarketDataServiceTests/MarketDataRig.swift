import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Journal
import Logging
import MarketData
import MarketDataClient
import MarketDataService
import MatchingEngine
import Messaging
import ShardClient
import Testing

/// Real engine shards on inproc endpoints (each test its own names and journal folder), the
/// market-data service following them, an order-entry client, and per shard a reference `Engine`
/// fed the same commands: the engine's books a subscriber must end up with.
final class MarketDataRig {
    let context: ZMQContext
    var exchange: ExchangeConfiguration
    private(set) var shards: [EngineShard] = []
    private(set) var service: MarketDataService?
    let client: ExchangeClient
    /// One reference engine per shard (each shard's engine knows every symbol, trades its own).
    let references: [Engine]
    /// Per shard, a market-data book fed the reference engine's events: the sequence numbers a
    /// publisher that never stopped would have given.
    let referenceBooks: [MarketDataBook]
    private var scratch = MarketDataUpdateBuffer()
    private let journalRoot: String
    private var nextID: UInt64 = 1

    /// `symbols` split over `shardCount` shards (round robin), the market-data service started
    /// unless `startService` is false.
    init(
        shardCount: Int = 1, symbols: [SymbolConfiguration]? = nil, startService start: Bool = true,
        configure: (inout ExchangeConfiguration) -> Void = { _ in }
    ) throws {
        context = try ZMQContext()
        let tag = UUID().uuidString.prefix(8)
        var exchange = ExchangeConfiguration(
            engine: EngineConfiguration(orderCapacity: 100_000, symbolCapacity: 8, prefault: false),
            symbols: symbols ?? ["AAPL", "MSFT", "GOOG", "AMZN"].map { SymbolConfiguration(name: $0) })
        exchange.shards = (0..<shardCount).map { id in
            ShardConfiguration(
                id: id, ordersEndpoint: "inproc://md-\(tag)-\(id)-orders",
                eventsEndpoint: "inproc://md-\(tag)-\(id)-events", replayEndpoint: "inproc://md-\(tag)-\(id)-replay")
        }
        journalRoot = try JournalDirectory.makeTemporary(prefix: "chronos-md-test")
        exchange.journal = JournalSettings(root: journalRoot, slotsPerSegment: 4_096)
        exchange.marketData.heartbeatIntervalMilliseconds = 100
        exchange.marketData.snapshotIntervalMilliseconds = 0
        configure(&exchange)
        self.exchange = exchange
        references = try exchange.shards.map { _ in
            let engine = try Engine(configuration: exchange.engine)
            for symbol in exchange.liveSymbols { try engine.addSymbol(symbol) }
            return engine
        }
        referenceBooks = try exchange.shards.map { _ in
            try MarketDataBook(
                configuration: MarketDataConfiguration(
                    symbolCapacity: exchange.liveSymbols.count, orderCapacity: exchange.engine.orderCapacity))
        }
        shards = try Self.startShards(exchange, context: context)
        client = try ExchangeClient(context: context, shardMap: exchange.shardMap, name: "md-test")
        if start { try startService() }
    }

    deinit {
        stopService()
        for shard in shards { shard.stop() }
        try? FileManager.default.removeItem(atPath: journalRoot)
    }

    private static func startShards(_ exchange: ExchangeConfiguration, context: ZMQContext) throws -> [EngineShard] {
        var exchange = exchange
        exchange.marketData.enabled = false
        return try exchange.shards.indices.map { id in
            let shard = EngineShard(EngineShard.Configuration(exchange, shard: id), context: context)
            try shard.start()
            return shard
        }
    }

    func startService() throws {
        var logger = Logger(label: "test.marketdata")
        logger.logLevel = .error
        let service = MarketDataService(exchange: exchange, context: context, logger: logger)
        try service.start()
        self.service = service
    }

    func stopService() {
        service?.stop()
        service = nil
    }

    func symbol(_ name: String) -> SymbolID { SymbolID(exchange.shardMap.route(name)!.symbol) }
    func shard(of symbol: SymbolID) -> Int { exchange.shardMap.shardOfSymbol[Int(symbol.rawValue)] }

    /// A subscriber of `names` (default: every symbol) on the in-process endpoints.
    func subscriber(_ names: [String]? = nil, options: MarketDataSubscriber.Options = .init()) throws
        -> MarketDataSubscriber
    {
        try MarketDataSubscriber(
            context: context, exchange: exchange, symbols: names ?? exchange.liveSymbols.map(\.name), inProcess: true,
            options: options)
    }

    // MARK: Orders

    /// A new limit order with a fresh id.
    func new(_ name: String, _ side: Side, _ quantity: Quantity, at price: Price, account: UInt32 = 1)
        -> EngineCommand
    {
        defer { nextID += 1 }
        return .new(
            NewOrder(
                id: OrderID(nextID), account: AccountID(account), symbol: symbol(name), side: side, price: price,
                quantity: quantity))
    }

    /// Sends `commands` to the shards and to the reference engines, and waits until every shard
    /// handled them (reports are read and dropped).
    func submit(_ commands: [EngineCommand]) {
        let before = shards.map { $0.counters.commands.load(ordering: .relaxed) }
        var expected = before
        for command in commands {
            let s = shard(of: command.symbolID)
            _ = references[s].submit(command)
            for event in references[s].events {
                scratch.clear()
                referenceBooks[s].apply(event, into: &scratch)
            }
            expected[s] += 1
            for attempt in 0..<10_000 {
                if case .sent = client.submit(command) { break }
                drainReports()
                if attempt > 0 { usleep(1_000) }
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while !zip(shards, expected).allSatisfy({ $0.counters.commands.load(ordering: .relaxed) >= $1 }),
            Date() < deadline
        {
            if client.receive(timeoutMilliseconds: 5) != nil { drainReports() }
        }
        drainReports()
    }

    func drainReports() { while client.receive(timeoutMilliseconds: 0) != nil {} }

    // MARK: Comparing

    /// True when `subscriber`'s replica of `symbol` is live and holds the reference engine's book.
    func matches(_ subscriber: MarketDataSubscriber, _ symbol: SymbolID) -> Bool {
        guard let replica = subscriber.replica(symbol), replica.isLive else { return false }
        let expected = references[shard(of: symbol)].snapshot(symbol)
        return replica.levels(.buy) == expected.bids && replica.levels(.sell) == expected.asks
    }

    /// Drives `subscriber` until every followed symbol matches the engine, for up to `seconds`,
    /// then looks once more. Returns the events seen.
    @discardableResult
    func pumpUntilConsistent(_ subscriber: MarketDataSubscriber, seconds: Double = 15) -> [MarketDataSubscriber.Event] {
        pump(subscriber, seconds: seconds) { subscriber.symbols.allSatisfy { self.matches(subscriber, $0.id) } }
    }

    /// Drives `subscriber` until `done` holds or `seconds` passed (then `done` is checked by the
    /// caller once more). Returns the events seen.
    @discardableResult
    func pump(_ subscriber: MarketDataSubscriber, seconds: Double, until done: () -> Bool)
        -> [MarketDataSubscriber.Event]
    {
        var events: [MarketDataSubscriber.Event] = []
        let deadline = Date().addingTimeInterval(seconds)
        while !done() && Date() < deadline {
            while let event = subscriber.next(timeoutMilliseconds: 5) { events.append(event) }
            drainReports()
        }
        return events
    }

    /// The market-data sequence number `symbol` has reached on an uninterrupted publisher.
    func expectedSequence(_ symbol: SymbolID) -> UInt64 { referenceBooks[shard(of: symbol)].sequence(symbol) }

    /// Drives `subscriber` until every replica is live and a heartbeat of every symbol came (its
    /// PUB connections and subscriptions are then in place: nothing later is lost to a slow
    /// joiner); up to 10 s. True when so.
    @discardableResult
    func waitUntilFollowing(_ subscriber: MarketDataSubscriber) -> Bool {
        var heard = Set<SymbolID>()
        let all = Set(subscriber.symbols.map(\.id))
        let deadline = Date().addingTimeInterval(10)
        while !(subscriber.isLive && heard == all) && Date() < deadline {
            if case .heartbeat(let beat)? = subscriber.next(timeoutMilliseconds: 5) { heard.insert(beat.symbol) }
        }
        return subscriber.isLive && heard == all
    }

    /// A check's message: what the replica and the engine hold.
    func describe(_ subscriber: MarketDataSubscriber, _ symbol: SymbolID) -> String {
        let expected = references[shard(of: symbol)].snapshot(symbol)
        let replica = subscriber.replica(symbol)
        return
            "live \(replica?.isLive ?? false) seq \(replica?.sequence ?? 0); replica bids \(replica?.levels(.buy) ?? []) offers \(replica?.levels(.sell) ?? []); engine bids \(expected.bids) asks \(expected.asks)"
    }
}
