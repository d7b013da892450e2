import ChronosCore
import MatchingEngine
import Testing

// Bad input through the library API: every refusal names its reason and changes nothing
// (no resting order, level, trade number or used id moves; only the sequence number advances
// by the one `rejected` event). Then the API's behaviour on good input: queries, event
// details, replace priority, cancel reasons.

/// An engine with two symbols: PLAIN (tick 1, lot 1, no limits) and GRID (tick 5, lot 100,
/// qty 200…10,000, price 1,000…2,000), and helpers that return a command's events as an array.
final class Harness {
    static let gridConfiguration = SymbolConfiguration(
        name: "GRID", tickSize: 5, lotSize: 100, minQuantity: 200,
        maxQuantity: 10_000, minPrice: 1_000, maxPrice: 2_000)
    let engine: Engine
    let plain: SymbolID
    let grid: SymbolID

    init(orderCapacity: Int = 1_000, usedIDBlockCapacity: Int? = nil) throws {
        engine = try Engine(
            configuration: EngineConfiguration(
                orderCapacity: orderCapacity, symbolCapacity: 4,
                usedIDBlockCapacity: usedIDBlockCapacity))
        plain = try engine.addSymbol(SymbolConfiguration(name: "PLAIN"))
        grid = try engine.addSymbol(Harness.gridConfiguration)
    }

    @discardableResult
    func submit(_ command: EngineCommand) -> [EngineEvent] {
        engine.submit(command)
        return Array(engine.events)
    }

    @discardableResult
    func new(
        _ id: UInt64, _ account: UInt32, _ side: Side, _ price: Price, _ quantity: Quantity,
        symbol: SymbolID? = nil, type: OrderType = .limit, tif: TimeInForce = .goodTillCancel,
        postOnly: Bool = false
    ) -> [EngineEvent] {
        submit(
            .new(
                NewOrder(
                    id: OrderID(id), account: AccountID(account), symbol: symbol ?? plain, side: side,
                    type: type, timeInForce: tif, price: price, quantity: quantity, postOnly: postOnly)))
    }

    @discardableResult
    func cancel(_ id: UInt64, _ account: UInt32, symbol: SymbolID? = nil) -> [EngineEvent] {
        submit(.cancel(CancelOrder(id: OrderID(id), account: AccountID(account), symbol: symbol ?? plain)))
    }

    @discardableResult
    func replace(
        _ id: UInt64, _ account: UInt32, price: Price? = nil, quantity: Quantity? = nil,
        symbol: SymbolID? = nil
    ) -> [EngineEvent] {
        submit(
            .replace(
                ReplaceOrder(
                    id: OrderID(id), account: AccountID(account), symbol: symbol ?? plain,
                    price: price, quantity: quantity)))
    }

    /// Everything observable about the books except the sequence number.
    struct Fingerprint: Equatable {
        var bookHashes: [UInt64]
        var nextTradeID: UInt64
        var restingOrderCount: Int
        var orders: [[RestingView]]
        var snapshots: [BookSnapshot]
    }

    func fingerprint() -> Fingerprint {
        let symbols = (0..<engine.symbolCount).map { SymbolID(UInt32($0)) }
        return Fingerprint(
            bookHashes: symbols.map(engine.bookHash),
            nextTradeID: engine.nextTradeID,
            restingOrderCount: engine.restingOrderCount,
            orders: symbols.flatMap { s in Side.allCases.map { engine.restingOrders(s, $0).map(RestingView.init) } },
            // A rejection advances the sequence number, so the stamp is left out of the comparison.
            snapshots: symbols.map {
                var snapshot = engine.snapshot($0)
                snapshot.lastSequence = 0
                return snapshot
            })
    }

    /// Submits `command` and expects exactly one `rejected` event with `reason` and no state change.
    func expectRejected(
        _ command: EngineCommand, _ reason: RejectReason,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let before = fingerprint()
        let sequence = engine.nextSequence
        let wasUsed = engine.isUsed(command.orderID)
        let (account, symbol, kind): (AccountID, SymbolID, CommandKind) =
            switch command {
            case .new(let o): (o.account, o.symbol, .new)
            case .cancel(let c): (c.account, c.symbol, .cancel)
            case .replace(let r): (r.account, r.symbol, .replace)
            }
        let events = submit(command)
        let expected = EngineEvent.rejected(
            OrderRejected(
                sequence: sequence, id: command.orderID, account: account,
                symbol: symbol, command: kind, reason: reason))
        #expect(events == [expected], "\(command)", sourceLocation: sourceLocation)
        #expect(fingerprint() == before, "state changed by \(command)", sourceLocation: sourceLocation)
        #expect(engine.nextSequence == sequence + 1, sourceLocation: sourceLocation)
        #expect(engine.isUsed(command.orderID) == wasUsed, sourceLocation: sourceLocation)
        #expect(engine.invariantViolations() == [], sourceLocation: sourceLocation)
    }

    func newCommand(
        _ id: UInt64, _ account: UInt32, _ side: Side, _ price: Price, _ quantity: Quantity,
        symbol: SymbolID? = nil, type: OrderType = .limit, tif: TimeInForce = .goodTillCancel,
        postOnly: Bool = false
    ) -> EngineCommand {
        .new(
            NewOrder(
                id: OrderID(id), account: AccountID(account), symbol: symbol ?? plain, side: side, type: type,
                timeInForce: tif, price: price, quantity: quantity, postOnly: postOnly))
    }

    func cancelCommand(_ id: UInt64, _ account: UInt32, symbol: SymbolID? = nil) -> EngineCommand {
        .cancel(CancelOrder(id: OrderID(id), account: AccountID(account), symbol: symbol ?? plain))
    }

    func replaceCommand(
        _ id: UInt64, _ account: UInt32, price: Price? = nil, quantity: Quantity? = nil,
        symbol: SymbolID? = nil
    ) -> EngineCommand {
        .replace(
            ReplaceOrder(
                id: OrderID(id), account: AccountID(account), symbol: symbol ?? plain, price: price,
                quantity: quantity))
    }

    /// A book with resting orders on both symbols, so that "no state change" means something.
    func seed() {
        new(1, 1, .buy, 100, 10)
        new(2, 2, .buy, 99, 20)
        new(3, 1, .sell, 105, 30)
        new(4, 2, .sell, 106, 40)
        new(5, 1, .buy, 1_500, 1_000, symbol: grid)
        new(6, 2, .sell, 1_600, 2_000, symbol: grid)
    }
}

extension EngineEvent {
    var rejectReason: RejectReason? { if case .rejected(let r) = self { r.reason } else { nil } }
    var fill: Fill? { if case .fill(let f) = self { f } else { nil } }
    var canceled: OrderCanceled? { if case .canceled(let c) = self { c } else { nil } }
    var replaced: OrderReplaced? { if case .replaced(let r) = self { r } else { nil } }
    var accepted: OrderAccepted? { if case .accepted(let a) = self { a } else { nil } }
}

@Suite struct EngineBadInputTests {
    @Test func unknownSymbolIsRejectedForEveryCommandKind() throws {
        let h = try Harness()
        h.seed()
        for symbol in [SymbolID(2), SymbolID(3), SymbolID(UInt32.max)] {
            h.expectRejected(h.newCommand(100, 1, .buy, 100, 10, symbol: symbol), .unknownSymbol)
            h.expectRejected(h.newCommand(100, 1, .buy, 100, 10, symbol: symbol, type: .market), .unknownSymbol)
            h.expectRejected(h.cancelCommand(1, 1, symbol: symbol), .unknownSymbol)
            h.expectRejected(h.replaceCommand(1, 1, quantity: 5, symbol: symbol), .unknownSymbol)
            // Queries on an unknown symbol answer "nothing" instead of trapping.
            #expect(h.engine.bestBid(symbol) == nil)
            #expect(h.engine.bestAsk(symbol) == nil)
            #expect(h.engine.quantity(at: 100, side: .buy, symbol: symbol) == 0)
            #expect(h.engine.snapshot(symbol).bids.isEmpty && h.engine.snapshot(symbol).asks.isEmpty)
            #expect(h.engine.restingOrders(symbol, .buy).isEmpty)
            #expect(h.engine.restingOrderCount(symbol) == 0)
        }
        // The id of an order rejected for its symbol is not used up.
        #expect(h.new(100, 1, .buy, 100, 10).first?.accepted != nil)
    }

    @Test func zeroOrNegativeQuantityIsRejectedInvalidQty() throws {
        let h = try Harness()
        h.seed()
        for qty: Quantity in [0, -1, -100, .min] {
            h.expectRejected(h.newCommand(100, 3, .buy, 100, qty), .invalidQuantity)
            h.expectRejected(h.newCommand(100, 3, .sell, 0, qty, type: .market), .invalidQuantity)
            h.expectRejected(h.newCommand(100, 3, .buy, 1_500, qty, symbol: h.grid), .invalidQuantity)
            h.expectRejected(h.newCommand(100, 3, .buy, 100, qty, tif: .immediateOrCancel), .invalidQuantity)
            h.expectRejected(h.newCommand(100, 3, .buy, 100, qty, tif: .fillOrKill), .invalidQuantity)
        }
    }

    @Test func zeroOrNegativePriceIsRejectedInvalidPrice() throws {
        let h = try Harness()
        h.seed()
        for price: Price in [0, -1, -105, .min] {
            h.expectRejected(h.newCommand(100, 3, .buy, price, 10), .invalidPrice)
            h.expectRejected(h.newCommand(100, 3, .sell, price, 10), .invalidPrice)
            h.expectRejected(h.newCommand(100, 3, .sell, price, 10, tif: .immediateOrCancel), .invalidPrice)
            h.expectRejected(h.newCommand(100, 3, .buy, price, 200, symbol: h.grid), .invalidPrice)
        }
    }

    @Test func priceOffTheTickIsRejectedInvalidPrice() throws {
        let h = try Harness()
        h.seed()
        for price: Price in [1_001, 1_502, 1_504, 1_999] {
            h.expectRejected(h.newCommand(100, 3, .buy, price, 200, symbol: h.grid), .invalidPrice)
            h.expectRejected(h.newCommand(100, 3, .sell, price, 200, symbol: h.grid, tif: .fillOrKill), .invalidPrice)
        }
        #expect(h.new(100, 3, .buy, 1_505, 200, symbol: h.grid).first?.accepted != nil)
    }

    @Test func quantityNotALotMultipleIsRejectedInvalidQty() throws {
        let h = try Harness()
        h.seed()
        for qty: Quantity in [250, 299, 301, 9_950, 1] {
            h.expectRejected(h.newCommand(100, 3, .buy, 1_500, qty, symbol: h.grid), .invalidQuantity)
            h.expectRejected(h.newCommand(100, 3, .buy, 0, qty, symbol: h.grid, type: .market), .invalidQuantity)
        }
        #expect(h.new(100, 3, .buy, 1_500, 300, symbol: h.grid).first?.accepted != nil)
    }

    @Test func quantityOutsideTheSymbolLimitsIsRejectedInvalidQty() throws {
        let h = try Harness()
        h.seed()
        for qty: Quantity in [100, 10_100, 1_000_000] {
            h.expectRejected(h.newCommand(100, 3, .buy, 1_500, qty, symbol: h.grid), .invalidQuantity)
        }
        #expect(h.new(100, 3, .buy, 1_500, 200, symbol: h.grid).first?.accepted != nil)
        #expect(h.new(101, 3, .buy, 1_500, 10_000, symbol: h.grid).first?.accepted != nil)
    }

    @Test func priceOutsideTheSymbolLimitsIsRejectedInvalidPrice() throws {
        let h = try Harness()
        h.seed()
        for price: Price in [995, 5, 2_005, 1_000_000] {
            h.expectRejected(h.newCommand(100, 3, .buy, price, 200, symbol: h.grid), .invalidPrice)
            h.expectRejected(h.newCommand(100, 3, .sell, price, 200, symbol: h.grid), .invalidPrice)
        }
        #expect(h.new(100, 3, .buy, 1_000, 200, symbol: h.grid).first?.accepted != nil)
        #expect(h.new(101, 3, .sell, 2_000, 200, symbol: h.grid).first?.accepted != nil)
    }

    @Test func quantityAboveTheEngineCeilingIsRejectedInvalidQty() throws {
        let h = try Harness(orderCapacity: 4)
        let ceiling = h.engine.configuration.quantityCeiling
        #expect(ceiling == Quantity.max / 4)
        h.expectRejected(h.newCommand(1, 1, .buy, 100, ceiling + 1), .invalidQuantity)
        h.expectRejected(h.newCommand(1, 1, .buy, 100, .max), .invalidQuantity)
        h.expectRejected(h.newCommand(1, 1, .sell, 0, ceiling + 1, type: .market), .invalidQuantity)
        // At the ceiling, a full book's level total does not overflow.
        for id: UInt64 in 1...4 { #expect(h.new(id, UInt32(id), .buy, 100, ceiling).first?.accepted != nil) }
        #expect(h.engine.quantity(at: 100, side: .buy, symbol: h.plain) == ceiling * 4)
        #expect(h.engine.bestBid(h.plain) == LevelSummary(price: 100, quantity: ceiling * 4, orderCount: 4))
        h.expectRejected(h.replaceCommand(1, 1, quantity: ceiling + 1), .invalidQuantity)
        #expect(h.engine.invariantViolations() == [])
    }

    @Test func duplicateIDIsRejectedWhetherTheOrderRestsWasFilledOrWasCanceled() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 100, 10)  // rests
        h.new(2, 1, .sell, 110, 10)
        h.new(3, 2, .buy, 110, 10)  // fills 2 completely
        h.new(4, 1, .buy, 90, 10)
        h.cancel(4, 1)  // canceled
        h.new(5, 2, .sell, 200, 10, tif: .immediateOrCancel)  // IOC, canceled remainder
        h.new(6, 2, .buy, 1, 10, type: .market)  // market, canceled remainder
        for id: UInt64 in 1...6 {
            for command in [
                h.newCommand(id, 1, .buy, 95, 5), h.newCommand(id, 9, .sell, 300, 5),
                h.newCommand(id, 9, .sell, 0, 5, type: .market),
            ] {
                h.expectRejected(command, .duplicateID)
            }
        }
    }

    @Test func rejectedNewDoesNotUseUpItsID() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 10)
        h.expectRejected(h.newCommand(7, 2, .buy, 0, 10), .invalidPrice)
        h.expectRejected(h.newCommand(7, 2, .buy, 100, 0), .invalidQuantity)
        h.expectRejected(h.newCommand(7, 2, .buy, 100, 10, postOnly: true), .postOnlyWouldCross)
        h.expectRejected(h.newCommand(7, 2, .buy, 100, 11, tif: .fillOrKill), .fillOrKillUnfillable)
        #expect(!h.engine.isUsed(OrderID(7)))
        #expect(h.new(7, 2, .buy, 100, 4).first?.accepted != nil)
        #expect(h.engine.isUsed(OrderID(7)))
    }

    /// Spec rule 11 (and docs/replay.md's extension): the first fault in check order is reported.
    @Test func severalFaultsInOneNewReportTheFirstInCheckOrder() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 10)
        // post-only on a market order is malformed, before anything else about the order.
        h.expectRejected(h.newCommand(1, 2, .buy, 0, 0, type: .market, postOnly: true), .malformed)
        h.expectRejected(h.newCommand(9, 2, .buy, 100, 10, type: .market, postOnly: true), .malformed)
        h.expectRejected(h.newCommand(1, 2, .buy, 0, 0), .duplicateID)  // dup > price > qty
        h.expectRejected(h.newCommand(2, 2, .buy, -5, 0), .invalidPrice)  // price > qty
        h.expectRejected(h.newCommand(2, 2, .buy, 100, 0, postOnly: true), .invalidQuantity)  // qty > post-only
        h.expectRejected(h.newCommand(2, 2, .buy, 100, 50, tif: .fillOrKill, postOnly: true), .postOnlyWouldCross)
        h.expectRejected(h.newCommand(2, 2, .buy, 1_503, 150, symbol: h.grid), .invalidPrice)
        h.expectRejected(h.newCommand(2, 2, .buy, 5, 150, symbol: h.grid), .invalidPrice)
    }

    @Test func postOnlyThatWouldCrossIsRejectedWhoeverOwnsTheTouch() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 10)
        h.new(2, 1, .buy, 90, 10)
        h.expectRejected(h.newCommand(3, 1, .buy, 100, 5, postOnly: true), .postOnlyWouldCross)  // own touch
        h.expectRejected(h.newCommand(3, 2, .buy, 101, 5, postOnly: true), .postOnlyWouldCross)
        h.expectRejected(h.newCommand(3, 2, .sell, 90, 5, postOnly: true), .postOnlyWouldCross)
        h.expectRejected(
            h.newCommand(3, 2, .buy, 100, 5, tif: .immediateOrCancel, postOnly: true),
            .postOnlyWouldCross)
        #expect(h.new(3, 2, .buy, 99, 5, postOnly: true).first?.accepted != nil)
        #expect(h.engine.restingOrder(OrderID(3))?.postOnly == true)
    }

    @Test func fillOrKillThatCannotFillCompletelyIsRejectedWithoutTouchingTheBook() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 10)
        h.new(2, 2, .sell, 101, 10)
        h.new(3, 3, .sell, 103, 10)
        h.expectRejected(h.newCommand(9, 4, .buy, 101, 21, tif: .fillOrKill), .fillOrKillUnfillable)  // short
        h.expectRejected(h.newCommand(9, 4, .buy, 99, 1, tif: .fillOrKill), .fillOrKillUnfillable)  // no price
        // Rule 16: liquidity behind the taker's own order does not count.
        h.expectRejected(h.newCommand(9, 2, .buy, 103, 11, tif: .fillOrKill), .fillOrKillUnfillable)
        h.expectRejected(h.newCommand(9, 1, .buy, 103, 1, tif: .fillOrKill), .fillOrKillUnfillable)
        // Enough before the own order: fills.
        let events = h.new(9, 3, .buy, 103, 20, tif: .fillOrKill)
        #expect(events.compactMap(\.fill).map(\.quantity) == [10, 10])
        #expect(events.count == 3)
        #expect(h.engine.restingOrderCount == 1)
    }

    @Test func cancelOfAnOrderThatIsNotRestingIsRejectedUnknownOrder() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 100, 10)
        h.new(2, 1, .sell, 110, 10)
        h.new(3, 2, .buy, 110, 10)  // fills 2
        h.new(4, 1, .buy, 90, 10)
        h.cancel(4, 1)
        h.new(5, 2, .sell, 200, 10, tif: .immediateOrCancel)
        h.expectRejected(h.newCommand(6, 2, .sell, 0, 10), .invalidPrice)  // never accepted
        for (id, owner): (UInt64, UInt32) in [(2, 1), (3, 2), (4, 1), (5, 2), (6, 2), (77, 1), (0, 1), (.max, 1)] {
            h.expectRejected(h.cancelCommand(id, owner), .unknownOrder)
            h.expectRejected(h.cancelCommand(id, owner + 10), .unknownOrder)  // unknown before owner
        }
        h.expectRejected(h.cancelCommand(4, 1), .unknownOrder)  // second cancel
    }

    @Test func cancelByAnotherAccountIsRejectedNotOwner() throws {
        let h = try Harness()
        h.seed()
        h.expectRejected(h.cancelCommand(1, 2), .notOwner)
        h.expectRejected(h.cancelCommand(3, 0), .notOwner)
        h.expectRejected(h.cancelCommand(5, 2, symbol: h.grid), .notOwner)
        #expect(h.cancel(1, 1).first?.canceled?.reason == .requested)
    }

    @Test func cancelNamingAnotherSymbolIsUnknownOrderForAnyAccount() throws {
        let h = try Harness()
        h.seed()
        h.expectRejected(h.cancelCommand(1, 1, symbol: h.grid), .unknownOrder)  // owner, wrong symbol
        h.expectRejected(h.cancelCommand(1, 2, symbol: h.grid), .unknownOrder)  // foreign, wrong symbol
        h.expectRejected(h.cancelCommand(5, 1, symbol: h.plain), .unknownOrder)
        h.expectRejected(h.replaceCommand(1, 1, quantity: 5, symbol: h.grid), .unknownOrder)
        h.expectRejected(h.replaceCommand(5, 2, quantity: 300, symbol: h.plain), .unknownOrder)
    }

    @Test func replaceToInvalidValuesIsRejectedAndKeepsTheOrderAndItsPriority() throws {
        let h = try Harness()
        h.seed()
        h.new(7, 3, .buy, 100, 10)  // behind order 1 at 100
        h.new(8, 3, .buy, 1_500, 500, symbol: h.grid)  // behind order 5 at 1,500
        for qty: Quantity in [0, -1, -10, .min] {
            h.expectRejected(h.replaceCommand(1, 1, quantity: qty), .invalidQuantity)
            h.expectRejected(h.replaceCommand(1, 1, price: 101, quantity: qty), .invalidQuantity)
        }
        for price: Price in [0, -1, -100, .min] {
            h.expectRejected(h.replaceCommand(1, 1, price: price), .invalidPrice)
            h.expectRejected(h.replaceCommand(1, 1, price: price, quantity: 0), .invalidPrice)  // price first
        }
        h.expectRejected(h.replaceCommand(5, 1, price: 1_502, symbol: h.grid), .invalidPrice)  // off tick
        h.expectRejected(h.replaceCommand(5, 1, price: 995, symbol: h.grid), .invalidPrice)  // below min
        h.expectRejected(h.replaceCommand(5, 1, price: 2_005, symbol: h.grid), .invalidPrice)  // above max
        h.expectRejected(h.replaceCommand(5, 1, quantity: 150, symbol: h.grid), .invalidQuantity)  // not a lot
        h.expectRejected(h.replaceCommand(5, 1, quantity: 100, symbol: h.grid), .invalidQuantity)  // below min
        h.expectRejected(h.replaceCommand(5, 1, quantity: 10_100, symbol: h.grid), .invalidQuantity)  // above max
        h.expectRejected(h.replaceCommand(1, 1), .malformed)  // neither
        h.expectRejected(h.replaceCommand(1, 2, price: 0), .notOwner)  // owner first
        h.expectRejected(h.replaceCommand(99, 2, price: 0), .unknownOrder)  // unknown first
        #expect(h.engine.restingOrders(h.plain, .buy).map(\.id) == [OrderID(1), OrderID(7), OrderID(2)])
        #expect(h.engine.restingOrders(h.grid, .buy).map(\.id) == [OrderID(5), OrderID(8)])
    }

    @Test func replaceOfAnOrderThatNoLongerRestsIsRejectedUnknownOrder() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 10)
        h.new(2, 2, .buy, 100, 10)  // fills 1, 2 gone too
        h.new(3, 1, .sell, 100, 10)
        h.cancel(3, 1)
        h.new(4, 2, .buy, 50, 10, tif: .immediateOrCancel)  // never rests
        h.new(5, 2, .buy, 50, 10, type: .market)
        for (id, owner): (UInt64, UInt32) in [(1, 1), (2, 2), (3, 1), (4, 2), (5, 2), (6, 1)] {
            h.expectRejected(h.replaceCommand(id, owner, quantity: 5), .unknownOrder)
            h.expectRejected(h.replaceCommand(id, owner, price: 90), .unknownOrder)
        }
    }

    @Test func replaceOfPostOnlyOrderThatWouldCrossIsRejectedAndLeavesItUnchanged() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 10)
        h.new(2, 2, .buy, 95, 10, postOnly: true)
        h.expectRejected(h.replaceCommand(2, 2, price: 100), .postOnlyWouldCross)
        h.expectRejected(h.replaceCommand(2, 2, price: 105, quantity: 1), .postOnlyWouldCross)
        h.expectRejected(h.replaceCommand(2, 2, price: 100, quantity: 0), .invalidQuantity)  // qty before post-only
        let events = h.replace(2, 2, price: 99, quantity: 12)
        #expect(events.first?.replaced?.price == 99)
        #expect(h.engine.restingOrder(OrderID(2))?.postOnly == true)
    }

    @Test func gtcOrderIsRejectedCapacityExhaustedWhenEverySlotIsTakenWhileIOCAndMarketStillTrade() throws {
        let h = try Harness(orderCapacity: 4)
        for id: UInt64 in 1...4 { #expect(h.new(id, 1, .sell, 100 + Price(id), 10).first?.accepted != nil) }
        #expect(h.engine.restingOrderCount == 4)
        h.expectRejected(h.newCommand(5, 2, .sell, 120, 10), .capacityExhausted)
        h.expectRejected(h.newCommand(5, 2, .buy, 90, 10), .capacityExhausted)
        // A GTC order is refused before it can trade, even one that would fill completely.
        h.expectRejected(h.newCommand(5, 2, .buy, 101, 5), .capacityExhausted)
        // IOC, FOK and market orders need no slot.
        let ioc = h.new(5, 2, .buy, 101, 5, tif: .immediateOrCancel)
        #expect(ioc.first?.accepted != nil)
        #expect(ioc.compactMap(\.fill).map(\.quantity) == [5])
        let market = h.new(6, 2, .buy, 0, 5, type: .market)
        #expect(market.compactMap(\.fill).map(\.makerID) == [OrderID(1)])  // order 1 leaves the book
        #expect(h.engine.restingOrderCount == 3)
        // The freed slot takes a new GTC order, then the book is full again.
        #expect(h.new(7, 2, .buy, 90, 10).first?.accepted != nil)
        h.expectRejected(h.newCommand(8, 2, .buy, 90, 10), .capacityExhausted)
        let fok = h.new(8, 3, .buy, 102, 10, tif: .fillOrKill)
        #expect(fok.compactMap(\.fill).map(\.quantity) == [10])  // order 2 leaves the book
        #expect(h.new(8, 2, .buy, 90, 10).first?.rejectReason == .duplicateID)
        #expect(h.new(9, 2, .buy, 91, 10).first?.accepted != nil)
        h.expectRejected(h.newCommand(10, 2, .buy, 90, 10), .capacityExhausted)
        // After a cancel a new one fits, under the id that was refused.
        #expect(h.cancel(7, 2).first?.canceled?.reason == .requested)
        #expect(h.new(10, 2, .buy, 90, 10).first?.accepted != nil)
        #expect(h.engine.restingOrderCount == 4)
        #expect(h.engine.invariantViolations() == [])
    }

    @Test func newIDIsRejectedCapacityExhaustedWhenTheUsedIDSetIsFull() throws {
        let h = try Harness(usedIDBlockCapacity: 1)  // the smallest table: 12 blocks of 64 ids
        h.new(1, 1, .sell, 100, 1_000_000)
        var accepted = 1
        var id: UInt64 = 64
        while h.new(id, 2, .buy, 100, 1, tif: .immediateOrCancel).first?.accepted != nil {
            accepted += 1
            id += 64
            try #require(accepted < 10_000)
        }
        #expect(accepted == 12)
        h.expectRejected(h.newCommand(id, 2, .buy, 100, 1, tif: .immediateOrCancel), .capacityExhausted)
        h.expectRejected(h.newCommand(1 << 50, 2, .buy, 0, 1, type: .market), .capacityExhausted)
        // Ids inside a block already in use still fit.
        #expect(h.new(2, 2, .buy, 100, 1).first?.accepted != nil)
        #expect(h.new(65, 2, .buy, 100, 1).first?.accepted != nil)
    }

    @Test func addSymbolRejectsDuplicateNamesInvalidConfigurationsAndSymbolsBeyondCapacity() throws {
        let engine = try Engine(configuration: EngineConfiguration(orderCapacity: 16, symbolCapacity: 2))
        let a = try engine.addSymbol(SymbolConfiguration(name: "A"))
        #expect(a == SymbolID(0))
        #expect(throws: EngineSetupError.duplicateSymbol("A")) { try engine.addSymbol(SymbolConfiguration(name: "A")) }
        let invalid: [(SymbolConfiguration, String)] = [
            (SymbolConfiguration(name: "T", tickSize: 0), "tick_size"),
            (SymbolConfiguration(name: "T", tickSize: -5), "tick_size"),
            (SymbolConfiguration(name: "T", lotSize: 0), "lot_size"),
            (SymbolConfiguration(name: "T", minQuantity: 0), "min_qty"),
            (SymbolConfiguration(name: "T", minQuantity: 10, maxQuantity: 9), "max_qty"),
            (SymbolConfiguration(name: "T", minPrice: 0), "min_price"),
            (SymbolConfiguration(name: "T", minPrice: 10, maxPrice: 9), "max_price"),
            (SymbolConfiguration(name: "T", priceDecimals: 10), "price_decimals"),
            (SymbolConfiguration(name: "T", priceDecimals: -1), "price_decimals"),
        ]
        for (config, key) in invalid {
            let error = #expect(throws: EngineSetupError.self) { try engine.addSymbol(config) }
            guard case .invalidSymbol(let name, let errors)? = error else {
                Issue.record("expected invalidSymbol for \(key), got \(String(describing: error))")
                continue
            }
            #expect(name == "T")
            #expect(errors.count == 1 && errors[0].hasPrefix(key), "\(errors)")
        }
        #expect(engine.symbolCount == 1)
        #expect(engine.symbolID(named: "T") == nil)
        let b = try engine.addSymbol(SymbolConfiguration(name: "B", tickSize: 5))
        #expect(b == SymbolID(1))
        #expect(throws: EngineSetupError.symbolCapacityExhausted(2)) {
            try engine.addSymbol(SymbolConfiguration(name: "C"))
        }
        #expect(engine.symbolCount == 2)
        #expect(engine.symbolID(named: "B") == b)
        #expect(engine.symbolConfiguration(b).tickSize == 5)
        // A rejected duplicate does not replace the original configuration.
        #expect(engine.symbolConfiguration(a) == SymbolConfiguration(name: "A"))
    }

    @Test func invalidEngineConfigurationThrowsNamingEachBadKey() throws {
        let cases: [(EngineConfiguration, [String])] = [
            (EngineConfiguration(orderCapacity: 0), ["order_capacity"]),
            (EngineConfiguration(orderCapacity: -1, usedIDBlockCapacity: 10), ["order_capacity"]),
            (EngineConfiguration(orderCapacity: 100_000_001, usedIDBlockCapacity: 10), ["order_capacity"]),
            (EngineConfiguration(symbolCapacity: 0), ["symbol_capacity"]),
            (EngineConfiguration(symbolCapacity: 1_000_001), ["symbol_capacity"]),
            (EngineConfiguration(orderCapacity: 10, usedIDBlockCapacity: 0), ["id_capacity"]),
            (EngineConfiguration(orderCapacity: 10, usedIDBlockCapacity: (1 << 30) + 1), ["id_capacity"]),
            (
                EngineConfiguration(orderCapacity: 0, symbolCapacity: 0, usedIDBlockCapacity: 0),
                ["order_capacity", "symbol_capacity", "id_capacity"]
            ),
        ]
        for (configuration, keys) in cases {
            let error = #expect(throws: EngineSetupError.self) { try Engine(configuration: configuration) }
            guard case .invalidConfiguration(let errors)? = error else {
                Issue.record("expected invalidConfiguration for \(configuration)")
                continue
            }
            #expect(errors.count == keys.count, "\(errors)")
            for (error, key) in zip(errors, keys) { #expect(error.hasPrefix(key), "\(error)") }
        }
        // The boundaries are usable.
        let smallest = try Engine(
            configuration: EngineConfiguration(
                orderCapacity: 1, symbolCapacity: 1,
                usedIDBlockCapacity: 1))
        let s = try smallest.addSymbol(SymbolConfiguration(name: "S"))
        smallest.submit(
            .new(
                NewOrder(
                    id: OrderID(1), account: AccountID(1), symbol: s, side: .buy, price: 10,
                    quantity: 5)))
        #expect(smallest.restingOrderCount == 1)
        #expect(smallest.configuration.quantityCeiling == .max)
    }
}

// MARK: - API behaviour

@Suite struct EngineAPIBehaviourTests {
    @Test func bestBidAndBestAskFollowTheTouch() throws {
        let h = try Harness()
        #expect(h.engine.bestBid(h.plain) == nil)
        #expect(h.engine.bestAsk(h.plain) == nil)
        h.new(1, 1, .buy, 100, 10)
        h.new(2, 2, .buy, 100, 5)
        h.new(3, 1, .buy, 98, 7)
        h.new(4, 2, .sell, 103, 8)
        h.new(5, 1, .sell, 105, 9)
        #expect(h.engine.bestBid(h.plain) == LevelSummary(price: 100, quantity: 15, orderCount: 2))
        #expect(h.engine.bestAsk(h.plain) == LevelSummary(price: 103, quantity: 8, orderCount: 1))
        #expect(h.engine.touch(h.plain, .buy) == h.engine.bestBid(h.plain))
        #expect(h.engine.touch(h.plain, .sell) == h.engine.bestAsk(h.plain))
        h.new(6, 3, .buy, 101, 1)  // a new best bid
        #expect(h.engine.bestBid(h.plain)?.price == 101)
        h.new(7, 4, .sell, 101, 3)  // takes it, then rests at 101
        #expect(h.engine.bestBid(h.plain) == LevelSummary(price: 100, quantity: 15, orderCount: 2))
        #expect(h.engine.bestAsk(h.plain) == LevelSummary(price: 101, quantity: 2, orderCount: 1))
        h.cancel(7, 4)
        #expect(h.engine.bestAsk(h.plain)?.price == 103)
        h.new(8, 3, .buy, 200, 8 + 9, tif: .immediateOrCancel)  // sweeps the asks
        #expect(h.engine.bestAsk(h.plain) == nil)
        #expect(h.engine.bestBid(h.grid) == nil)  // other symbol untouched
    }

    @Test func quantityAtPriceIsTheLevelTotalOrZero() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 100, 10)
        h.new(2, 2, .buy, 100, 5)
        h.new(3, 1, .buy, 97, 7)
        h.new(4, 2, .sell, 103, 8)
        #expect(h.engine.quantity(at: 100, side: .buy, symbol: h.plain) == 15)
        #expect(h.engine.quantity(at: 97, side: .buy, symbol: h.plain) == 7)
        #expect(h.engine.quantity(at: 98, side: .buy, symbol: h.plain) == 0)  // gap between levels
        #expect(h.engine.quantity(at: 101, side: .buy, symbol: h.plain) == 0)  // better than the touch
        #expect(h.engine.quantity(at: 50, side: .buy, symbol: h.plain) == 0)  // beyond the worst
        #expect(h.engine.quantity(at: 103, side: .sell, symbol: h.plain) == 8)
        #expect(h.engine.quantity(at: 100, side: .sell, symbol: h.plain) == 0)  // other side
        #expect(h.engine.quantity(at: 100, side: .buy, symbol: h.grid) == 0)  // other symbol
        h.replace(2, 2, quantity: 2)
        h.new(5, 3, .sell, 100, 4)  // partial fill of order 1
        #expect(h.engine.quantity(at: 100, side: .buy, symbol: h.plain) == 8)
    }

    @Test func snapshotListsLevelsBestFirstUpToMaxLevels() throws {
        let h = try Harness()
        for (i, price) in [100, 98, 99, 95].enumerated() { h.new(UInt64(i + 1), 1, .buy, Price(price), 10) }
        h.new(9, 2, .buy, 99, 5)
        for (i, price) in [103, 101, 107].enumerated() { h.new(UInt64(i + 20), 2, .sell, Price(price), 3) }
        let full = h.engine.snapshot(h.plain)
        #expect(full.symbol == h.plain)
        #expect(
            full.bids == [
                LevelSummary(price: 100, quantity: 10, orderCount: 1),
                LevelSummary(price: 99, quantity: 15, orderCount: 2),
                LevelSummary(price: 98, quantity: 10, orderCount: 1),
                LevelSummary(price: 95, quantity: 10, orderCount: 1),
            ])
        #expect(full.asks.map(\.price) == [101, 103, 107])
        let top2 = h.engine.snapshot(h.plain, maxLevels: 2)
        #expect(top2.bids == Array(full.bids.prefix(2)))
        #expect(top2.asks == Array(full.asks.prefix(2)))
        #expect(h.engine.snapshot(h.plain, maxLevels: 1).bids == [full.bids[0]])
        #expect(h.engine.snapshot(h.plain, maxLevels: 10) == full)
        var seen: [Price] = []
        h.engine.forEachLevel(h.plain, .buy) {
            seen.append($0.price); return seen.count < 3
        }
        #expect(seen == [100, 99, 98])
    }

    /// `snapshot(_:maxLevels:)` promises "at most `maxLevels` per side".
    @Test func snapshotWithZeroMaxLevelsIsEmpty() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 100, 10)
        h.new(2, 2, .sell, 101, 10)
        for maxLevels in [0, -1, Int.min] {
            let none = h.engine.snapshot(h.plain, maxLevels: maxLevels)
            #expect(none.bids.isEmpty, "maxLevels \(maxLevels) returned bids \(none.bids)")
            #expect(none.asks.isEmpty, "maxLevels \(maxLevels) returned asks \(none.asks)")
        }
    }

    @Test func fillsReportLeavesTradeIDsAndTheTakerSide() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 100)
        h.new(2, 3, .sell, 100, 50)
        h.new(3, 1, .sell, 101, 40)
        let seq = h.engine.nextSequence
        let events = h.new(4, 2, .buy, 101, 160)
        let expected: [EngineEvent] = [
            .accepted(
                OrderAccepted(
                    sequence: seq, id: OrderID(4), account: AccountID(2), symbol: h.plain,
                    side: .buy, type: .limit, timeInForce: .goodTillCancel, postOnly: false,
                    price: 101, quantity: 160)),
            .fill(
                Fill(
                    sequence: seq + 1, tradeID: TradeID(1), symbol: h.plain, takerID: OrderID(4),
                    makerID: OrderID(1), takerAccount: AccountID(2), makerAccount: AccountID(1), takerSide: .buy,
                    price: 100, quantity: 100, takerLeaves: 60, makerLeaves: 0)),
            .fill(
                Fill(
                    sequence: seq + 2, tradeID: TradeID(2), symbol: h.plain, takerID: OrderID(4),
                    makerID: OrderID(2), takerAccount: AccountID(2), makerAccount: AccountID(3), takerSide: .buy,
                    price: 100, quantity: 50, takerLeaves: 10, makerLeaves: 0)),
            .fill(
                Fill(
                    sequence: seq + 3, tradeID: TradeID(3), symbol: h.plain, takerID: OrderID(4),
                    makerID: OrderID(3), takerAccount: AccountID(2), makerAccount: AccountID(1), takerSide: .buy,
                    price: 101, quantity: 10, takerLeaves: 0, makerLeaves: 30)),
        ]
        #expect(events == expected)
        #expect(h.engine.restingOrder(OrderID(3))?.leavesQuantity == 30)
        #expect(h.engine.restingOrder(OrderID(4)) == nil)
        // A sell taker: takerSide sell, fills at the bid (the maker's price), not at the taker's limit.
        h.new(5, 4, .buy, 95, 20)
        let sell = h.new(6, 5, .sell, 90, 5)
        #expect(
            sell.compactMap(\.fill) == [
                Fill(
                    sequence: sell[1].sequence, tradeID: TradeID(4), symbol: h.plain, takerID: OrderID(6),
                    makerID: OrderID(5), takerAccount: AccountID(5), makerAccount: AccountID(4), takerSide: .sell,
                    price: 95, quantity: 5, takerLeaves: 0, makerLeaves: 15)
            ])
        #expect(h.engine.nextTradeID == 5)
    }

    @Test func incomingOrderWalksLevelsBestFirstAndRestsItsRemainder() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 103, 5)
        h.new(2, 1, .sell, 101, 5)
        h.new(3, 1, .sell, 106, 5)
        let events = h.new(4, 2, .buy, 105, 12)
        #expect(events.compactMap(\.fill).map(\.price) == [101, 103])
        #expect(events.count == 3)  // no cancel: the rest rests
        #expect(h.engine.bestBid(h.plain) == LevelSummary(price: 105, quantity: 2, orderCount: 1))
        #expect(h.engine.bestAsk(h.plain)?.price == 106)
    }

    @Test func replaceWithLowerQtyKeepsPriority() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 100, 10)
        h.new(2, 2, .buy, 100, 10)
        let events = h.replace(1, 1, quantity: 4)
        #expect(
            events == [
                .replaced(
                    OrderReplaced(
                        sequence: events[0].sequence, id: OrderID(1), account: AccountID(1),
                        symbol: h.plain, side: .buy, price: 100, quantity: 4,
                        keptPriority: true))
            ])
        #expect(h.engine.restingOrders(h.plain, .buy).map(\.id) == [OrderID(1), OrderID(2)])
        #expect(h.engine.bestBid(h.plain) == LevelSummary(price: 100, quantity: 14, orderCount: 2))
        let fill = h.new(3, 3, .sell, 100, 1).compactMap(\.fill)
        #expect(fill.map(\.makerID) == [OrderID(1)])
        // Naming the same price explicitly is still a decrease that keeps priority.
        #expect(h.replace(1, 1, price: 100, quantity: 2).first?.replaced?.keptPriority == true)
        #expect(h.engine.restingOrders(h.plain, .buy).first?.id == OrderID(1))
    }

    @Test func replaceWithHigherQtyLosesPriority() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 100, 10)
        h.new(2, 2, .buy, 100, 10)
        h.new(3, 3, .buy, 100, 10)
        h.new(9, 4, .sell, 100, 4)  // order 1 now has 6 open
        let events = h.replace(1, 1, quantity: 8)  // 8 > 6 open: an increase (rule 17)
        #expect(events.first?.replaced?.keptPriority == false)
        #expect(events.first?.replaced?.quantity == 8)
        #expect(h.engine.restingOrders(h.plain, .buy).map(\.id) == [OrderID(2), OrderID(3), OrderID(1)])
        #expect(h.engine.quantity(at: 100, side: .buy, symbol: h.plain) == 28)
        #expect(h.new(10, 4, .sell, 100, 1).compactMap(\.fill).map(\.makerID) == [OrderID(2)])
        // An increase of the order already at the back stays at the back.
        #expect(h.replace(1, 1, quantity: 9).first?.replaced?.keptPriority == false)
        #expect(h.engine.restingOrders(h.plain, .buy).map(\.id) == [OrderID(2), OrderID(3), OrderID(1)])
        #expect(h.engine.invariantViolations() == [])
    }

    @Test func replaceWithUnchangedPriceAndQtyIsANoOpThatAnswersReplaced() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 100, 10)
        h.new(2, 2, .buy, 100, 10)
        let before = h.fingerprint()
        let events = h.replace(1, 1, price: 100, quantity: 10)
        #expect(events.count == 1)
        #expect(events.first?.replaced?.keptPriority == true)
        #expect(h.fingerprint() == before)
        #expect(h.replace(1, 1, quantity: 10).first?.replaced?.keptPriority == true)
        #expect(h.replace(1, 1, price: 100).first?.replaced?.quantity == 10)
        #expect(h.fingerprint() == before)
    }

    @Test func replaceWithNewPriceLosesPriorityAndTradesLikeANewOrder() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 99, 10)
        h.new(2, 2, .buy, 100, 10)
        h.new(3, 3, .buy, 100, 10)
        h.new(4, 3, .sell, 102, 4)
        h.new(5, 4, .sell, 103, 4)
        // Moving to a price that already has orders: the back of that level.
        #expect(h.replace(1, 1, price: 100).first?.replaced?.keptPriority == false)
        #expect(h.engine.restingOrders(h.plain, .buy).map(\.id) == [OrderID(2), OrderID(3), OrderID(1)])
        // Moving through the asks: replaced, then fills as the taker, then the rest rests.
        let seq = h.engine.nextSequence
        let events = h.replace(2, 2, price: 103, quantity: 12)
        #expect(
            events == [
                .replaced(
                    OrderReplaced(
                        sequence: seq, id: OrderID(2), account: AccountID(2), symbol: h.plain,
                        side: .buy, price: 103, quantity: 12, keptPriority: false)),
                .fill(
                    Fill(
                        sequence: seq + 1, tradeID: TradeID(1), symbol: h.plain, takerID: OrderID(2),
                        makerID: OrderID(4), takerAccount: AccountID(2), makerAccount: AccountID(3), takerSide: .buy,
                        price: 102, quantity: 4, takerLeaves: 8, makerLeaves: 0)),
                .fill(
                    Fill(
                        sequence: seq + 2, tradeID: TradeID(2), symbol: h.plain, takerID: OrderID(2),
                        makerID: OrderID(5), takerAccount: AccountID(2), makerAccount: AccountID(4), takerSide: .buy,
                        price: 103, quantity: 4, takerLeaves: 4, makerLeaves: 0)),
            ])
        #expect(h.engine.restingOrder(OrderID(2))?.price == 103)
        #expect(h.engine.restingOrder(OrderID(2))?.leavesQuantity == 4)
        #expect(h.engine.bestAsk(h.plain) == nil)
        // A replace that fills completely leaves the book, and the id is then unknown.
        h.new(6, 5, .sell, 104, 3)
        let gone = h.replace(3, 3, price: 104, quantity: 3)
        #expect(gone.compactMap(\.fill).last?.takerLeaves == 0)
        #expect(h.engine.restingOrder(OrderID(3)) == nil)
        #expect(h.replace(3, 3, quantity: 1).first?.rejectReason == .unknownOrder)
        #expect(h.engine.invariantViolations() == [])
    }

    @Test func replaceThatReachesAnOwnOrderCancelsItsRemainderBySelfTradePrevention() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 101, 3)
        h.new(2, 2, .sell, 102, 5)
        h.new(3, 2, .buy, 95, 10)
        let events = h.replace(3, 2, price: 102)
        #expect(events.count == 3)
        #expect(events[0].replaced?.price == 102)
        #expect(events[1].fill?.makerID == OrderID(1))
        #expect(
            events[2]
                == .canceled(
                    OrderCanceled(
                        sequence: events[2].sequence, id: OrderID(3),
                        account: AccountID(2), symbol: h.plain, side: .buy,
                        quantity: 7, reason: .selfTradePrevention)))
        #expect(h.engine.restingOrder(OrderID(3)) == nil)
        #expect(h.engine.restingOrder(OrderID(2))?.leavesQuantity == 5)  // the own order stays
    }

    @Test func canceledEventsNameTheirReason() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 5)
        // IOC remainder.
        let ioc = h.new(2, 2, .buy, 100, 8, tif: .immediateOrCancel)
        #expect(
            ioc.last?.canceled
                == OrderCanceled(
                    sequence: ioc.last!.sequence, id: OrderID(2),
                    account: AccountID(2), symbol: h.plain, side: .buy,
                    quantity: 3, reason: .immediateOrCancelRemainder))
        // Market remainder, and a market order on an empty side: accepted then canceled in full.
        h.new(3, 1, .sell, 100, 5)
        let market = h.new(4, 2, .buy, 0, 9, type: .market)
        #expect(market.last?.canceled?.reason == .marketRemainder)
        #expect(market.last?.canceled?.quantity == 4)
        let empty = h.new(5, 2, .sell, 0, 9, type: .market)
        #expect(empty.count == 2)
        #expect(empty.first?.accepted != nil)
        #expect(empty.last?.canceled?.reason == .marketRemainder)
        #expect(empty.last?.canceled?.quantity == 9)
        // Self-trade prevention: fills the other account first, stops at its own order, which stays.
        h.new(6, 3, .sell, 100, 2)
        h.new(7, 2, .sell, 100, 5)
        h.new(8, 3, .sell, 100, 4)
        let stp = h.new(9, 2, .buy, 100, 10)
        #expect(stp.compactMap(\.fill).map(\.makerID) == [OrderID(6)])
        #expect(stp.last?.canceled?.reason == .selfTradePrevention)
        #expect(stp.last?.canceled?.quantity == 8)
        #expect(h.engine.restingOrders(h.plain, .sell).map(\.id) == [OrderID(7), OrderID(8)])
        #expect(h.engine.restingOrder(OrderID(9)) == nil)
        // Requested: the open quantity, after a partial fill.
        h.new(10, 4, .buy, 100, 1)
        let requested = h.cancel(7, 2)
        #expect(
            requested == [
                .canceled(
                    OrderCanceled(
                        sequence: requested[0].sequence, id: OrderID(7),
                        account: AccountID(2), symbol: h.plain, side: .sell,
                        quantity: 4, reason: .requested))
            ])
        // IOC that fills completely has no cancel event; IOC with nothing to take is canceled in full.
        #expect(h.new(11, 4, .buy, 100, 4, tif: .immediateOrCancel).last?.fill?.takerLeaves == 0)
        let nothing = h.new(12, 4, .buy, 100, 4, tif: .immediateOrCancel)
        #expect(nothing.count == 2)
        #expect(nothing.last?.canceled?.quantity == 4)
    }

    @Test func marketOrderIgnoresPriceAndTimeInForce() throws {
        let h = try Harness()
        h.new(1, 1, .sell, 100, 5)
        h.new(2, 1, .sell, 5_000, 5)
        let events = h.new(3, 2, .buy, -7, 7, type: .market, tif: .fillOrKill)
        #expect(events.first?.accepted?.price == 0)
        #expect(events.first?.accepted?.type == .market)
        #expect(events.compactMap(\.fill).map(\.price) == [100, 5_000])
        #expect(h.engine.restingOrder(OrderID(3)) == nil)
        // Grid symbol: the price is not checked, the quantity is.
        #expect(h.new(4, 2, .buy, 3, 200, symbol: h.grid, type: .market).first?.accepted != nil)
    }

    @Test func restingOrderQueriesReportPriorityOrderAndCounts() throws {
        let h = try Harness()
        h.new(1, 1, .buy, 100, 10)
        h.new(2, 2, .buy, 101, 3, postOnly: true)
        h.new(3, 3, .buy, 100, 4)
        h.new(4, 1, .sell, 1_600, 300, symbol: h.grid)
        #expect(
            h.engine.restingOrders(h.plain, .buy).map(RestingView.init) == [
                RestingView(id: 2, account: 2, price: 101, leaves: 3, postOnly: true),
                RestingView(id: 1, account: 1, price: 100, leaves: 10, postOnly: false),
                RestingView(id: 3, account: 3, price: 100, leaves: 4, postOnly: false),
            ])
        let four = try #require(h.engine.restingOrder(OrderID(4)))
        #expect(four.symbol == h.grid && four.side == .sell && four.price == 1_600 && four.leavesQuantity == 300)
        #expect(h.engine.restingOrder(OrderID(5)) == nil)
        #expect(h.engine.restingOrderCount == 4)
        #expect(h.engine.restingOrderCount(h.plain) == 3)
        #expect(h.engine.restingOrderCount(h.grid) == 1)
        #expect(h.engine.restingOrders(h.plain, .sell).isEmpty)
    }

    @Test func sequenceNumbersAreContiguousAcrossRejectionsAndResumable() throws {
        let h = try Harness()
        var all: [EngineEvent] = []
        all += h.new(1, 1, .sell, 100, 5)
        all += h.new(1, 1, .sell, 100, 5)  // rejected
        all += h.cancel(42, 1)  // rejected
        all += h.new(2, 2, .buy, 100, 8, tif: .immediateOrCancel)  // accepted, fill, canceled
        #expect(all.map(\.sequence) == Array(1...6))
        h.engine.resumeNumbering(sequence: 1_000, tradeID: 500)
        let events = h.new(3, 1, .sell, 100, 5) + h.new(4, 2, .buy, 100, 5)
        #expect(events.map(\.sequence) == [1_000, 1_001, 1_002])
        #expect(events.last?.fill?.tradeID == TradeID(500))
        #expect(h.engine.nextSequence == 1_003 && h.engine.nextTradeID == 501)
    }
}

extension RestingView {
    init(id: UInt64, account: UInt32, price: Price, leaves: Quantity, postOnly: Bool) {
        (self.id, self.account, self.price, self.leaves, self.postOnly) = (id, account, price, leaves, postOnly)
    }
}

@Suite struct SnapshotSequenceTests {
    @Test func snapshotIsStampedWithTheLastEventItReflects() throws {
        let engine = try Engine(configuration: .init(orderCapacity: 16, symbolCapacity: 1))
        let s = try engine.addSymbol(SymbolConfiguration(name: "X"))
        #expect(engine.snapshot(s).lastSequence == 0)
        engine.submit(
            .new(NewOrder(id: OrderID(1), account: AccountID(1), symbol: s, side: .buy, price: 10, quantity: 5)))
        engine.submit(
            .new(NewOrder(id: OrderID(2), account: AccountID(2), symbol: s, side: .sell, price: 10, quantity: 2)))
        // accepted(1), accepted(2), fill → three events so far.
        let snapshot = engine.snapshot(s)
        #expect(snapshot.lastSequence == 3)
        #expect(snapshot.bids == [LevelSummary(price: 10, quantity: 3, orderCount: 1)])
        #expect(snapshot.asks.isEmpty)
    }
}
