import ChronosCore
import MarketData
import MatchingEngine
import Testing

/// A real engine with two symbols and a market-data book fed with every event it emits.
final class Harness {
    let engine: Engine
    let book: MarketDataBook
    let aapl: SymbolID
    let msft: SymbolID
    var buffer = MarketDataUpdateBuffer()
    private var nextID: UInt64 = 1

    init(configuration: MarketDataConfiguration = MarketDataConfiguration(symbolCapacity: 4, orderCapacity: 1_024))
        throws
    {
        engine = try Engine(configuration: EngineConfiguration(orderCapacity: 1_024, symbolCapacity: 4))
        aapl = try engine.addSymbol(SymbolConfiguration(name: "AAPL"))
        msft = try engine.addSymbol(SymbolConfiguration(name: "MSFT"))
        book = try MarketDataBook(configuration: configuration)
    }

    /// Submits `command` to the engine, applies its events to the book (each must apply
    /// cleanly), and returns the updates they published.
    @discardableResult
    func submit(_ command: EngineCommand, sourceLocation: SourceLocation = #_sourceLocation) -> [MarketDataUpdate] {
        engine.submit(command)
        buffer.clear()
        for event in engine.events {
            let outcome = book.apply(event, into: &buffer)
            #expect(outcome == .applied, "\(event)", sourceLocation: sourceLocation)
        }
        let problems = book.invariantViolations()
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        return buffer.updates
    }

    /// Submits a new order (a fresh id unless given) and returns the updates.
    @discardableResult
    func new(
        _ side: Side, _ quantity: Quantity, at price: Price = 0, symbol: SymbolID? = nil, type: OrderType = .limit,
        tif: TimeInForce = .goodTillCancel, account: UInt32 = 1, postOnly: Bool = false, id: UInt64? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [MarketDataUpdate] {
        let orderID = id ?? takeID()
        nextID = max(nextID, orderID + 1)
        return submit(
            .new(
                NewOrder(
                    id: OrderID(orderID), account: AccountID(account), symbol: symbol ?? aapl, side: side, type: type,
                    timeInForce: tif, price: price, quantity: quantity, postOnly: postOnly)),
            sourceLocation: sourceLocation)
    }

    /// The id the next ``new(_:_:at:symbol:type:tif:account:postOnly:id:sourceLocation:)`` will use.
    var upcomingID: UInt64 { nextID }

    private func takeID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }

    /// The book's levels of `symbol` equal the engine's, both sides, every level.
    func expectBookMatchesEngine(_ symbol: SymbolID, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = engine.snapshot(symbol)
        let actual = book.snapshot(symbol)
        #expect(actual?.bids == expected.bids, sourceLocation: sourceLocation)
        #expect(actual?.offers == expected.asks, sourceLocation: sourceLocation)
    }
}

/// Shorthands for expected updates.
func level(
    _ symbol: SymbolID, _ sequence: UInt64, _ action: LevelAction, _ side: Side, _ price: Price, _ quantity: Quantity,
    _ orderCount: Int, event: UInt64
) -> MarketDataUpdate {
    .level(
        LevelUpdate(
            symbol: symbol, sequence: sequence, eventSequence: event, action: action, side: side, price: price,
            quantity: quantity, orderCount: orderCount))
}

func top(
    _ symbol: SymbolID, _ sequence: UInt64, bid: (Price, Quantity, Int)?, offer: (Price, Quantity, Int)?,
    event: UInt64
) -> MarketDataUpdate {
    .bestBidOffer(
        BestBidOfferUpdate(
            symbol: symbol, sequence: sequence, eventSequence: event,
            bestBid: bid.map { LevelSummary(price: $0.0, quantity: $0.1, orderCount: $0.2) },
            bestOffer: offer.map { LevelSummary(price: $0.0, quantity: $0.1, orderCount: $0.2) }))
}

func trade(
    _ symbol: SymbolID, _ sequence: UInt64, _ tradeID: UInt64, _ price: Price, _ quantity: Quantity, _ aggressor: Side,
    event: UInt64
) -> MarketDataUpdate {
    .trade(
        TradeUpdate(
            symbol: symbol, sequence: sequence, eventSequence: event, tradeID: TradeID(tradeID), price: price,
            quantity: quantity, aggressorSide: aggressor))
}
