import ChronosCore
import MarketData
import MatchingEngine
import Testing

/// Hand-written scenarios through the real engine: each command's events go to the book, and
/// the updates it publishes are checked one by one (sequence numbers included).
@Suite struct MarketDataBookScenarioTests {
    @Test func firstOrderOpensALevelAndMovesTheTop() throws {
        let h = try Harness()
        #expect(
            h.new(.buy, 100, at: 100) == [
                level(h.aapl, 1, .new, .buy, 100, 100, 1, event: 1),
                top(h.aapl, 2, bid: (100, 100, 1), offer: nil, event: 1),
            ])
        #expect(h.book.sequence(h.aapl) == 2)
        #expect(h.book.bestBid(h.aapl) == LevelSummary(price: 100, quantity: 100, orderCount: 1))
        #expect(h.book.bestOffer(h.aapl) == nil)
    }

    @Test func secondOrderAtAPriceChangesTheLevelAndAWorseOneLeavesTheTopAlone() throws {
        let h = try Harness()
        h.new(.buy, 100, at: 100)
        #expect(
            h.new(.buy, 50, at: 100) == [
                level(h.aapl, 3, .change, .buy, 100, 150, 2, event: 2),
                top(h.aapl, 4, bid: (100, 150, 2), offer: nil, event: 2),
            ])
        #expect(h.new(.buy, 10, at: 99) == [level(h.aapl, 5, .new, .buy, 99, 10, 1, event: 3)])
        #expect(h.book.level(h.aapl, .buy, price: 100) == LevelSummary(price: 100, quantity: 150, orderCount: 2))
        h.expectBookMatchesEngine(h.aapl)
    }

    @Test func partialFillShrinksTheMakerLevelAndFullFillDeletesIt() throws {
        let h = try Harness()
        h.new(.buy, 100, at: 100)
        #expect(
            h.new(.sell, 30, at: 100, account: 2) == [
                trade(h.aapl, 3, 1, 100, 30, .sell, event: 3),
                level(h.aapl, 4, .change, .buy, 100, 70, 1, event: 3),
                top(h.aapl, 5, bid: (100, 70, 1), offer: nil, event: 3),
            ])
        #expect(
            h.new(.sell, 70, at: 100, account: 2) == [
                trade(h.aapl, 6, 2, 100, 70, .sell, event: 5),
                level(h.aapl, 7, .delete, .buy, 100, 0, 0, event: 5),
                top(h.aapl, 8, bid: nil, offer: nil, event: 5),
            ])
        #expect(h.book.levelCount(h.aapl, .buy) == 0)
        #expect(h.book.restingOrderCount == 0)
    }

    @Test func crossingLimitOrderRestsItsRemainderAfterItsFills() throws {
        let h = try Harness()
        h.new(.buy, 50, at: 100)
        #expect(
            h.new(.sell, 80, at: 99, account: 2) == [
                trade(h.aapl, 3, 1, 100, 50, .sell, event: 3),
                level(h.aapl, 4, .delete, .buy, 100, 0, 0, event: 3),
                level(h.aapl, 5, .new, .sell, 99, 30, 1, event: 3),
                top(h.aapl, 6, bid: nil, offer: (99, 30, 1), event: 3),
            ])
        h.expectBookMatchesEngine(h.aapl)
    }

    @Test func sweepThroughTwoLevelsPublishesEachTradeAndLevel() throws {
        let h = try Harness()
        h.new(.sell, 10, at: 101)
        h.new(.sell, 20, at: 102)
        #expect(
            h.new(.buy, 25, at: 102, account: 2) == [
                trade(h.aapl, 4, 1, 101, 10, .buy, event: 4),
                level(h.aapl, 5, .delete, .sell, 101, 0, 0, event: 4),
                top(h.aapl, 6, bid: nil, offer: (102, 20, 1), event: 4),
                trade(h.aapl, 7, 2, 102, 15, .buy, event: 5),
                level(h.aapl, 8, .change, .sell, 102, 5, 1, event: 5),
                top(h.aapl, 9, bid: nil, offer: (102, 5, 1), event: 5),
            ])
        h.expectBookMatchesEngine(h.aapl)
    }

    @Test func cancelTakesTheOrdersQuantityOffItsLevel() throws {
        let h = try Harness()
        h.new(.buy, 100, at: 100, id: 1)
        h.new(.buy, 50, at: 100, id: 2)
        let cancelFirst = h.submit(.cancel(CancelOrder(id: OrderID(1), account: AccountID(1), symbol: h.aapl)))
        #expect(
            cancelFirst == [
                level(h.aapl, 5, .change, .buy, 100, 50, 1, event: 3),
                top(h.aapl, 6, bid: (100, 50, 1), offer: nil, event: 3),
            ])
        let cancelSecond = h.submit(.cancel(CancelOrder(id: OrderID(2), account: AccountID(1), symbol: h.aapl)))
        #expect(
            cancelSecond == [
                level(h.aapl, 7, .delete, .buy, 100, 0, 0, event: 4),
                top(h.aapl, 8, bid: nil, offer: nil, event: 4),
            ])
    }

    @Test func replaceMovesPriceOrChangesQuantityInPlace() throws {
        let h = try Harness()
        h.new(.buy, 100, at: 100, id: 1)
        let move = h.submit(.replace(ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: h.aapl, price: 101)))
        #expect(
            move == [
                level(h.aapl, 3, .delete, .buy, 100, 0, 0, event: 2),
                level(h.aapl, 4, .new, .buy, 101, 100, 1, event: 2),
                top(h.aapl, 5, bid: (101, 100, 1), offer: nil, event: 2),
            ])
        let down = h.submit(.replace(ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: h.aapl, quantity: 60)))
        #expect(
            down == [
                level(h.aapl, 6, .change, .buy, 101, 60, 1, event: 3),
                top(h.aapl, 7, bid: (101, 60, 1), offer: nil, event: 3),
            ])
        let up = h.submit(.replace(ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: h.aapl, quantity: 80)))
        #expect(
            up == [
                level(h.aapl, 8, .change, .buy, 101, 80, 1, event: 4),
                top(h.aapl, 9, bid: (101, 80, 1), offer: nil, event: 4),
            ])
        // Nothing visible changes: no update, and the sequence does not move.
        let same = h.submit(.replace(ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: h.aapl, price: 101)))
        #expect(same.isEmpty)
        #expect(h.book.sequence(h.aapl) == 9)
        h.expectBookMatchesEngine(h.aapl)
    }

    @Test func replaceToACrossingPriceTradesThenRestsTheRemainder() throws {
        let h = try Harness()
        h.new(.sell, 40, at: 105, account: 2, id: 1)
        h.new(.buy, 100, at: 100, id: 2)
        let move = h.submit(.replace(ReplaceOrder(id: OrderID(2), account: AccountID(1), symbol: h.aapl, price: 106)))
        #expect(
            move == [
                level(h.aapl, 5, .delete, .buy, 100, 0, 0, event: 3),
                top(h.aapl, 6, bid: nil, offer: (105, 40, 1), event: 3),
                trade(h.aapl, 7, 1, 105, 40, .buy, event: 4),
                level(h.aapl, 8, .delete, .sell, 105, 0, 0, event: 4),
                level(h.aapl, 9, .new, .buy, 106, 60, 1, event: 4),
                top(h.aapl, 10, bid: (106, 60, 1), offer: nil, event: 4),
            ])
        h.expectBookMatchesEngine(h.aapl)
    }

    @Test func immediateOrCancelNeverRests() throws {
        let h = try Harness()
        h.new(.sell, 30, at: 100, account: 2)
        #expect(
            h.new(.buy, 50, at: 100, tif: .immediateOrCancel) == [
                trade(h.aapl, 3, 1, 100, 30, .buy, event: 3),
                level(h.aapl, 4, .delete, .sell, 100, 0, 0, event: 3),
                top(h.aapl, 5, bid: nil, offer: nil, event: 3),
            ])
        #expect(h.new(.buy, 10, at: 100, tif: .immediateOrCancel).isEmpty)
        #expect(h.book.restingOrderCount == 0)
        #expect(h.engine.restingOrderCount == 0)
    }

    @Test func fillOrKillFillsCompletelyOrPublishesNothing() throws {
        let h = try Harness()
        h.new(.sell, 30, at: 100, account: 2)
        #expect(h.new(.buy, 50, at: 100, tif: .fillOrKill).isEmpty)  // rejected
        #expect(
            h.new(.buy, 30, at: 100, tif: .fillOrKill) == [
                trade(h.aapl, 3, 1, 100, 30, .buy, event: 4),
                level(h.aapl, 4, .delete, .sell, 100, 0, 0, event: 4),
                top(h.aapl, 5, bid: nil, offer: nil, event: 4),
            ])
    }

    @Test func marketOrdersTakeLiquidityAndNeverRest() throws {
        let h = try Harness()
        h.new(.sell, 10, at: 100, account: 2)
        h.new(.sell, 10, at: 101, account: 2)
        #expect(
            h.new(.buy, 15, type: .market) == [
                trade(h.aapl, 4, 1, 100, 10, .buy, event: 4),
                level(h.aapl, 5, .delete, .sell, 100, 0, 0, event: 4),
                top(h.aapl, 6, bid: nil, offer: (101, 10, 1), event: 4),
                trade(h.aapl, 7, 2, 101, 5, .buy, event: 5),
                level(h.aapl, 8, .change, .sell, 101, 5, 1, event: 5),
                top(h.aapl, 9, bid: nil, offer: (101, 5, 1), event: 5),
            ])
        // More than the book holds: the remainder is canceled, nothing rests.
        #expect(
            h.new(.buy, 50, type: .market) == [
                trade(h.aapl, 10, 3, 101, 5, .buy, event: 7),
                level(h.aapl, 11, .delete, .sell, 101, 0, 0, event: 7),
                top(h.aapl, 12, bid: nil, offer: nil, event: 7),
            ])
        #expect(h.new(.sell, 50, type: .market).isEmpty)  // empty book: accepted, canceled
        #expect(h.book.restingOrderCount == 0)
    }

    @Test func selfTradePreventionStopsTheTakerWithoutRestingIt() throws {
        let h = try Harness()
        h.new(.sell, 10, at: 100, account: 2)
        h.new(.sell, 10, at: 100, account: 1)
        // Trades with account 2, then meets its own order: the remainder is canceled.
        #expect(
            h.new(.buy, 30, at: 101, account: 1) == [
                trade(h.aapl, 5, 1, 100, 10, .buy, event: 4),
                level(h.aapl, 6, .change, .sell, 100, 10, 1, event: 4),
                top(h.aapl, 7, bid: nil, offer: (100, 10, 1), event: 4),
            ])
        #expect(h.book.levelCount(h.aapl, .buy) == 0)
        h.expectBookMatchesEngine(h.aapl)
    }

    @Test func postOnlyOrderRestsOrIsRejected() throws {
        let h = try Harness()
        h.new(.sell, 10, at: 100, account: 2)
        #expect(
            h.new(.buy, 10, at: 99, postOnly: true) == [
                level(h.aapl, 3, .new, .buy, 99, 10, 1, event: 2),
                top(h.aapl, 4, bid: (99, 10, 1), offer: (100, 10, 1), event: 2),
            ])
        #expect(h.new(.buy, 10, at: 100, postOnly: true).isEmpty)
    }

    @Test func eachSymbolHasItsOwnSequence() throws {
        let h = try Harness()
        h.new(.buy, 10, at: 100, symbol: h.aapl)
        #expect(
            h.new(.sell, 5, at: 200, symbol: h.msft) == [
                level(h.msft, 1, .new, .sell, 200, 5, 1, event: 2),
                top(h.msft, 2, bid: nil, offer: (200, 5, 1), event: 2),
            ])
        #expect(h.new(.buy, 10, at: 99, symbol: h.aapl) == [level(h.aapl, 3, .new, .buy, 99, 10, 1, event: 3)])
        #expect(h.book.sequence(h.aapl) == 3)
        #expect(h.book.sequence(h.msft) == 2)
        h.expectBookMatchesEngine(h.aapl)
        h.expectBookMatchesEngine(h.msft)
    }

    @Test func rejectionsPublishNothing() throws {
        let h = try Harness()
        h.new(.buy, 10, at: 100, id: 1)
        #expect(h.new(.buy, 10, at: 100, id: 1).isEmpty)  // duplicate id
        #expect(h.new(.buy, 10, at: 0).isEmpty)  // invalid price
        #expect(h.new(.buy, 0, at: 100).isEmpty)  // invalid quantity
        #expect(h.new(.buy, 10, at: 100, symbol: SymbolID(3)).isEmpty)  // unknown symbol
        #expect(h.submit(.cancel(CancelOrder(id: OrderID(99), account: AccountID(1), symbol: h.aapl))).isEmpty)
        #expect(h.submit(.cancel(CancelOrder(id: OrderID(1), account: AccountID(2), symbol: h.aapl))).isEmpty)
        #expect(h.submit(.replace(ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: h.aapl))).isEmpty)
        #expect(h.book.sequence(h.aapl) == 2)
        #expect(h.book.lastEventSequence == h.engine.nextSequence - 1)
    }

    @Test func snapshotHoldsEveryLevelOrTheTopFewWithItsSequence() throws {
        let h = try Harness()
        for price: Price in [97, 98, 99] { h.new(.buy, 10, at: price) }
        for price: Price in [101, 102] { h.new(.sell, 20, at: price, account: 2) }
        let full = try #require(h.book.snapshot(h.aapl))
        #expect(full.sequence == h.book.sequence(h.aapl))
        #expect(full.eventSequence == 5)
        #expect(full.isComplete)
        #expect(full.bids.map(\.price) == [99, 98, 97])
        #expect(full.offers.map(\.price) == [101, 102])
        let top1 = try #require(h.book.snapshot(h.aapl, depth: 1))
        #expect(top1.bids == [LevelSummary(price: 99, quantity: 10, orderCount: 1)])
        #expect(top1.offers == [LevelSummary(price: 101, quantity: 20, orderCount: 1)])
        #expect(!top1.isComplete)
        #expect(h.book.snapshot(SymbolID(999)) == nil)
        h.expectBookMatchesEngine(h.aapl)
    }
}
