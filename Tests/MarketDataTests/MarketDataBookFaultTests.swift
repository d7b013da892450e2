import ChronosCore
import MarketData
import MatchingEngine
import Testing
import Workload

/// Events built by hand, for input the engine never produces.
enum Events {
    static func accepted(
        _ sequence: UInt64, id: UInt64, _ side: Side, _ quantity: Quantity, at price: Price, symbol: UInt32 = 0,
        tif: TimeInForce = .goodTillCancel
    ) -> EngineEvent {
        .accepted(
            OrderAccepted(
                sequence: sequence, id: OrderID(id), account: AccountID(1), symbol: SymbolID(symbol), side: side,
                type: .limit, timeInForce: tif, postOnly: false, price: price, quantity: quantity))
    }

    static func canceled(
        _ sequence: UInt64, id: UInt64, _ side: Side, _ quantity: Quantity, symbol: UInt32 = 0,
        reason: CancelReason = .requested
    ) -> EngineEvent {
        .canceled(
            OrderCanceled(
                sequence: sequence, id: OrderID(id), account: AccountID(1), symbol: SymbolID(symbol), side: side,
                quantity: quantity, reason: reason))
    }

    static func fill(
        _ sequence: UInt64, taker: UInt64, maker: UInt64, _ takerSide: Side, _ quantity: Quantity, at price: Price,
        takerLeaves: Quantity, makerLeaves: Quantity, symbol: UInt32 = 0
    ) -> EngineEvent {
        .fill(
            Fill(
                sequence: sequence, tradeID: TradeID(sequence), symbol: SymbolID(symbol), takerID: OrderID(taker),
                makerID: OrderID(maker), takerAccount: AccountID(1), makerAccount: AccountID(2), takerSide: takerSide,
                price: price, quantity: quantity, takerLeaves: takerLeaves, makerLeaves: makerLeaves))
    }

    static func replaced(
        _ sequence: UInt64, id: UInt64, _ side: Side, _ quantity: Quantity, at price: Price, symbol: UInt32 = 0
    ) -> EngineEvent {
        .replaced(
            OrderReplaced(
                sequence: sequence, id: OrderID(id), account: AccountID(1), symbol: SymbolID(symbol), side: side,
                price: price, quantity: quantity, keptPriority: false))
    }
}

/// Bad input and full tables: every case is a reported value, the book keeps working, nothing traps.
@Suite struct MarketDataBookFaultTests {
    private func book(_ configuration: MarketDataConfiguration = .init(symbolCapacity: 2, orderCapacity: 64))
        throws -> MarketDataBook
    {
        try MarketDataBook(configuration: configuration)
    }

    @Test func sequenceGoingBackwardsOrRepeatedIsIgnored() throws {
        let book = try book()
        var sink = MarketDataUpdateBuffer()
        #expect(book.apply(Events.accepted(1, id: 1, .buy, 10, at: 100), into: &sink) == .applied)
        #expect(book.apply(Events.accepted(2, id: 2, .buy, 10, at: 99), into: &sink) == .applied)
        sink.clear()
        #expect(
            book.apply(Events.accepted(2, id: 3, .buy, 10, at: 98), into: &sink)
                == .ignored(.sequenceNotIncreasing(last: 2, received: 2)))
        #expect(
            book.apply(Events.canceled(1, id: 1, .buy, 10), into: &sink)
                == .ignored(.sequenceNotIncreasing(last: 2, received: 1)))
        #expect(sink.updates.isEmpty)
        #expect(book.restingOrderCount == 2)
        #expect(!book.isImpaired(SymbolID(0)))
        #expect(book.lastEventSequence == 2)
    }

    @Test func missingEventsAreReportedAndImpairEverySymbol() throws {
        let book = try book()
        var sink = MarketDataUpdateBuffer()
        book.apply(Events.accepted(1, id: 1, .buy, 10, at: 100), into: &sink)
        let outcome = book.apply(Events.accepted(5, id: 2, .sell, 10, at: 101, symbol: 1), into: &sink)
        #expect(outcome == .impaired(.eventsMissing(expected: 2, received: 5)))
        #expect(book.isImpaired(SymbolID(0)) && book.isImpaired(SymbolID(1)))
        #expect(book.bestOffer(SymbolID(1)) == LevelSummary(price: 101, quantity: 10, orderCount: 1))  // still applied
        #expect(book.lastEventSequence == 5)
    }

    @Test func eventsNamingUnknownOrdersAreReportedPerSymbol() throws {
        let book = try book()
        var sink = MarketDataUpdateBuffer()
        book.apply(Events.accepted(1, id: 1, .buy, 10, at: 100), into: &sink)
        sink.clear()
        #expect(book.apply(Events.canceled(2, id: 42, .buy, 10), into: &sink) == .impaired(.unknownOrder(OrderID(42))))
        #expect(sink.updates.isEmpty)
        #expect(
            book.apply(Events.replaced(3, id: 43, .buy, 5, at: 100), into: &sink)
                == .impaired(.unknownOrder(OrderID(43))))
        // A fill against an unknown maker still prints its trade.
        let fill = Events.fill(4, taker: 9, maker: 44, .sell, 5, at: 100, takerLeaves: 0, makerLeaves: 0)
        #expect(book.apply(fill, into: &sink) == .impaired(.unknownOrder(OrderID(44))))
        #expect(sink.updates.count == 1)
        #expect(book.isImpaired(SymbolID(0)))
        #expect(!book.isImpaired(SymbolID(1)))
        #expect(book.faultCount == 3)
    }

    @Test func eventsThatContradictTheBookAreReported() throws {
        let book = try book()
        var sink = MarketDataUpdateBuffer()
        book.apply(Events.accepted(1, id: 1, .buy, 10, at: 100), into: &sink)
        #expect(
            book.apply(Events.accepted(2, id: 1, .buy, 10, at: 100), into: &sink)
                == .impaired(.duplicateOrder(OrderID(1))))
        // A cancel of the wrong quantity: the order still leaves (its own quantity comes off).
        #expect(book.apply(Events.canceled(3, id: 1, .buy, 7), into: &sink) == .impaired(.contradiction(OrderID(1))))
        #expect(book.levelCount(SymbolID(0), .buy) == 0)
        // A remainder cancel for an order that is not the incoming one.
        let remainder = Events.canceled(4, id: 5, .buy, 3, reason: .immediateOrCancelRemainder)
        #expect(book.apply(remainder, into: &sink) == .impaired(.contradiction(OrderID(5))))
        #expect(book.invariantViolations().isEmpty)
    }

    @Test func incomingOrderWhoseMatchingEndsEarlyIsRestedAndReported() throws {
        let book = try book()
        var sink = MarketDataUpdateBuffer()
        book.apply(Events.accepted(1, id: 1, .sell, 10, at: 100), into: &sink)
        book.apply(Events.accepted(2, id: 2, .buy, 30, at: 101), into: &sink)  // crosses: waits for fills
        // The next event is another command's: order 2 must have rested, whole.
        #expect(
            book.apply(Events.accepted(3, id: 3, .buy, 1, at: 50), into: &sink)
                == .impaired(.contradiction(OrderID(2))))
        #expect(book.level(SymbolID(0), .buy, price: 101) == LevelSummary(price: 101, quantity: 30, orderCount: 1))
    }

    @Test func symbolBeyondTheCapacityIsIgnored() throws {
        let book = try book()
        var sink = MarketDataUpdateBuffer()
        #expect(
            book.apply(Events.accepted(1, id: 1, .buy, 10, at: 100, symbol: 7), into: &sink)
                == .ignored(.unknownSymbol(SymbolID(7))))
        #expect(book.lastEventSequence == 1)
        #expect(book.isImpaired(SymbolID(7)))
        #expect(book.bestBid(SymbolID(7)) == nil)
    }

    @Test func fullOrderTableIsReportedAndTheBookCarriesOn() throws {
        let book = try book(.init(symbolCapacity: 1, orderCapacity: 2))
        var sink = MarketDataUpdateBuffer()
        #expect(book.apply(Events.accepted(1, id: 1, .buy, 10, at: 100), into: &sink) == .applied)
        #expect(book.apply(Events.accepted(2, id: 2, .buy, 10, at: 99), into: &sink) == .applied)
        sink.clear()
        #expect(
            book.apply(Events.accepted(3, id: 3, .buy, 10, at: 98), into: &sink)
                == .impaired(.orderCapacityExhausted(OrderID(3))))
        #expect(sink.updates.isEmpty)
        #expect(book.level(SymbolID(0), .buy, price: 98) == nil)
        #expect(book.isImpaired(SymbolID(0)))
        // Cancels still work and free room; the untracked order is unknown to it.
        #expect(book.apply(Events.canceled(4, id: 1, .buy, 10), into: &sink) == .applied)
        #expect(book.apply(Events.accepted(5, id: 4, .buy, 10, at: 97), into: &sink) == .applied)
        #expect(book.apply(Events.canceled(6, id: 3, .buy, 10), into: &sink) == .impaired(.unknownOrder(OrderID(3))))
        #expect(book.invariantViolations().isEmpty)
    }

    @Test func fullLadderIsReportedAndTheBookCarriesOn() throws {
        let book = try book(.init(symbolCapacity: 1, orderCapacity: 16, levelCapacityPerSide: 2))
        var sink = MarketDataUpdateBuffer()
        book.apply(Events.accepted(1, id: 1, .buy, 10, at: 100), into: &sink)
        book.apply(Events.accepted(2, id: 2, .buy, 10, at: 99), into: &sink)
        #expect(
            book.apply(Events.accepted(3, id: 3, .buy, 10, at: 98), into: &sink)
                == .impaired(.levelCapacityExhausted(SymbolID(0), .buy, 98)))
        #expect(book.restingOrderCount == 2)  // the order at 98 is not tracked
        #expect(book.apply(Events.accepted(4, id: 4, .buy, 5, at: 99), into: &sink) == .applied)
        #expect(book.apply(Events.accepted(5, id: 5, .sell, 5, at: 101), into: &sink) == .applied)
        #expect(book.level(SymbolID(0), .buy, price: 99) == LevelSummary(price: 99, quantity: 15, orderCount: 2))
        #expect(book.invariantViolations().isEmpty)
    }

    @Test func invalidConfigurationIsRefusedWithItsReasons() {
        #expect(throws: MarketDataSetupError.self) {
            try MarketDataBook(configuration: .init(symbolCapacity: 0, orderCapacity: -1, levelCapacityPerSide: 0))
        }
        let errors = MarketDataConfiguration(symbolCapacity: 0, orderCapacity: 1, levelCapacityPerSide: 0)
            .validationErrors
        #expect(errors.count == 2)
        #expect(MarketDataConfiguration().validationErrors.isEmpty)
    }

    @Test func randomGarbageNeverTraps() throws {
        // Events with arbitrary fields — ids, sides, prices and quantities at the extremes,
        // sequences that jump and go back — applied to a small book and replica: only outcomes.
        let book = try book(.init(symbolCapacity: 2, orderCapacity: 32, levelCapacityPerSide: 8))
        let replica = try MarketDataReplica(symbol: SymbolID(0), levelCapacityPerSide: 8, bufferCapacity: 16)
        var sink = MarketDataUpdateBuffer()
        var rng = SplitMix64(seed: 3)
        let extremes: [Int64] = [.min, -1, 0, 1, 2, 100, 101, .max]
        func value() -> Int64 {
            rng.next() % 3 == 0 ? extremes[Int(rng.next() % UInt64(extremes.count))] : Int64(rng.next() % 8)
        }
        var sequence: UInt64 = 0
        var outcomes = 0
        for _ in 0..<100_000 {
            sequence = rng.next() % 10 == 0 ? rng.next() % (sequence + 2) : sequence + 1 + rng.next() % 2
            let id = rng.next() % 40
            let side: Side = rng.next() & 1 == 0 ? .buy : .sell
            let symbol = UInt32(rng.next() % 3)
            let event: EngineEvent
            switch rng.next() % 5 {
            case 0:
                event = Events.accepted(
                    sequence, id: id, side, value(), at: value(), symbol: symbol,
                    tif: TimeInForce.allCases[Int(rng.next() % 3)])
            case 1:
                event = Events.canceled(
                    sequence, id: id, side, value(), symbol: symbol, reason: CancelReason.allCases[Int(rng.next() % 4)])
            case 2:
                event = Events.fill(
                    sequence, taker: rng.next() % 40, maker: id, side, value(), at: value(), takerLeaves: value(),
                    makerLeaves: value(), symbol: symbol)
            case 3: event = Events.replaced(sequence, id: id, side, value(), at: value(), symbol: symbol)
            default:
                event = .rejected(
                    OrderRejected(
                        sequence: sequence, id: OrderID(id), account: AccountID(1), symbol: SymbolID(symbol),
                        command: .new, reason: .invalidPrice))
            }
            sink.clear()
            if book.apply(event, into: &sink) != .applied { outcomes += 1 }
            for update in sink.updates { replica.apply(update) }
            if rng.next() % 500 == 0, let snapshot = book.snapshot(SymbolID(0)) { replica.apply(snapshot) }
        }
        #expect(outcomes > 0)
        #expect(book.faultCount >= outcomes)
    }
}
