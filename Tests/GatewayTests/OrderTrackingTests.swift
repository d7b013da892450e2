import ChronosCore
import Testing

@testable import Gateway

/// The session-side order book-keeping, driven by engine events as the shard sends them.
@Suite struct OrderTrackingTests {
    let symbol = SymbolID(0)

    func order(_ key: String, id: UInt64, side: Side = .buy, quantity: Int64 = 100, price: Int64 = 1_000)
        -> TrackedOrder<String>
    {
        TrackedOrder(
            key: key, engineID: OrderID(id), account: AccountID(1), symbol: symbol, side: side, type: .limit,
            timeInForce: .goodTillCancel, price: price, orderQuantity: quantity, leavesQuantity: quantity)
    }

    func accepted(_ id: UInt64, quantity: Int64 = 100, sequence: UInt64 = 1) -> EngineEvent {
        .accepted(
            OrderAccepted(
                sequence: sequence, id: OrderID(id), account: AccountID(1), symbol: symbol, side: .buy, type: .limit,
                timeInForce: .goodTillCancel, postOnly: false, price: 1_000, quantity: quantity))
    }

    func fill(taker: UInt64, maker: UInt64, quantity: Int64, price: Int64, takerLeaves: Int64, makerLeaves: Int64)
        -> EngineEvent
    {
        .fill(
            Fill(
                sequence: 9, tradeID: TradeID(1), symbol: symbol, takerID: OrderID(taker), makerID: OrderID(maker),
                takerAccount: AccountID(1), makerAccount: AccountID(2), takerSide: .sell, price: price,
                quantity: quantity, takerLeaves: takerLeaves, makerLeaves: makerLeaves))
    }

    @Test func fillsAccumulateQuantityAndAveragePrice() throws {
        var table = OrderTable<String>()
        table.add(order("A", id: 1))
        guard case .accepted(let a)? = table.apply(accepted(1), to: OrderID(1)) else { Issue.record("no ack"); return }
        #expect(a.acknowledged && a.leavesQuantity == 100)
        _ = table.apply(
            fill(taker: 7, maker: 1, quantity: 30, price: 1_000, takerLeaves: 0, makerLeaves: 70), to: OrderID(1))
        guard
            case .filled(let f, _, _, _)? = table.apply(
                fill(taker: 8, maker: 1, quantity: 70, price: 1_003, takerLeaves: 0, makerLeaves: 0), to: OrderID(1))
        else { Issue.record("no fill"); return }
        #expect(f.cumulativeQuantity == 100 && f.leavesQuantity == 0 && f.isDone)
        #expect(SymbolDirectory.averagePrice(notional: f.notional, quantity: 100, decimals: 2) == "10.021000")
        #expect(!table.isTracked(OrderID(1)), "a filled order with nothing pending is forgotten")
        #expect(table.isKnown("A"), "its client id stays known, so it cannot be reused")
        #expect(table.liveOrder("A") == nil)
    }

    @Test func theLastFinishedOrdersAreKeptForStatusRequests() {
        var table = OrderTable<String>(finishedCapacity: 2)
        for id in UInt64(1)...3 {
            table.add(order("K\(id)", id: id))
            _ = table.apply(accepted(id), to: OrderID(id))
            _ = table.apply(
                fill(taker: 99, maker: id, quantity: 100, price: 1_000, takerLeaves: 0, makerLeaves: 0), to: OrderID(id)
            )
            #expect(!table.isTracked(OrderID(id)))
        }
        #expect(table.status(of: OrderID(1)) == nil, "beyond the capacity the oldest is forgotten")
        let kept = table.status(of: OrderID(3))
        #expect(kept?.isDone == true && kept?.cumulativeQuantity == 100 && kept?.leavesQuantity == 0)
        #expect(table.status(of: OrderID(2))?.key == "K2")
        #expect(table.isKnown("K1"), "its client id stays known all the same")
        // A live order is its own status; without a capacity nothing finished is kept.
        table.add(order("L", id: 4))
        #expect(table.status(of: OrderID(4))?.key == "L")
        var plain = OrderTable<String>()
        plain.add(order("A", id: 1))
        _ = plain.apply(
            fill(taker: 99, maker: 1, quantity: 100, price: 1_000, takerLeaves: 0, makerLeaves: 0), to: OrderID(1))
        #expect(plain.status(of: OrderID(1)) == nil)
    }

    @Test func cancelAnswersTheRequestKeyAndEndsTheOrder() {
        var table = OrderTable<String>()
        table.add(order("A", id: 1))
        _ = table.apply(accepted(1), to: OrderID(1))
        table.beginChange(
            .init(kind: .cancel, requestKey: "C"), on: OrderID(1), at: 5)
        #expect(table.isKnown("C"))
        let event = EngineEvent.canceled(
            OrderCanceled(
                sequence: 3, id: OrderID(1), account: AccountID(1), symbol: symbol, side: .buy, quantity: 100,
                reason: .requested))
        guard case .canceled(let o, let key, _)? = table.apply(event, to: OrderID(1)) else {
            Issue.record("no cancel")
            return
        }
        #expect(key == "C" && o.key == "A" && o.isDone && o.leavesQuantity == 0)
        #expect(!table.isTracked(OrderID(1)))
    }

    @Test func replaceMovesTheKeyAndKeepsCumulativeQuantity() {
        var table = OrderTable<String>()
        table.add(order("A", id: 1))
        _ = table.apply(accepted(1), to: OrderID(1))
        _ = table.apply(
            fill(taker: 7, maker: 1, quantity: 40, price: 1_000, takerLeaves: 0, makerLeaves: 60), to: OrderID(1))
        table.beginChange(
            .init(kind: .replace, requestKey: "B"), on: OrderID(1), at: 5)
        let event = EngineEvent.replaced(
            OrderReplaced(
                sequence: 4, id: OrderID(1), account: AccountID(1), symbol: symbol, side: .buy, price: 1_010,
                quantity: 50, keptPriority: false))
        guard case .replaced(let o, let key, let previous)? = table.apply(event, to: OrderID(1)) else {
            Issue.record("no replace")
            return
        }
        #expect(key == "B" && previous == "A" && o.key == "B")
        #expect(o.price == 1_010 && o.leavesQuantity == 50 && o.orderQuantity == 90 && o.cumulativeQuantity == 40)
        #expect(table.liveOrder("B")?.engineID == OrderID(1))
        #expect(table.liveOrder("A")?.engineID == OrderID(1), "earlier ids of the chain still name the order")
    }

    @Test func aCancelRacingTheLastFillIsAnsweredTooLate() {
        var table = OrderTable<String>()
        table.add(order("A", id: 1))
        _ = table.apply(accepted(1), to: OrderID(1))
        table.beginChange(
            .init(kind: .cancel, requestKey: "C"), on: OrderID(1), at: 5)
        _ = table.apply(
            fill(taker: 7, maker: 1, quantity: 100, price: 1_000, takerLeaves: 0, makerLeaves: 0), to: OrderID(1))
        #expect(table.isTracked(OrderID(1)), "kept until the pending cancel is answered")
        #expect(table.liveOrder("A") == nil)
        let reject = EngineEvent.rejected(
            OrderRejected(
                sequence: 11, id: OrderID(1), account: AccountID(1), symbol: symbol, command: .cancel,
                reason: .unknownOrder))
        guard case .changeRejected(let o, let change, let reason)? = table.apply(reject, to: OrderID(1)) else {
            Issue.record("no cancel reject")
            return
        }
        #expect(o.isDone && change.requestKey == "C" && reason == .unknownOrder)
        #expect(!table.isTracked(OrderID(1)))
    }

    @Test func engineRejectOfANewOrderEndsIt() {
        var table = OrderTable<String>()
        table.add(order("A", id: 1))
        let reject = EngineEvent.rejected(
            OrderRejected(
                sequence: 1, id: OrderID(1), account: AccountID(1), symbol: symbol, command: .new,
                reason: .invalidPrice))
        guard case .rejected(_, let reason)? = table.apply(reject, to: OrderID(1)) else {
            Issue.record("no reject")
            return
        }
        #expect(reason == .invalidPrice && !table.isTracked(OrderID(1)) && table.isKnown("A"))
    }

    @Test func eventsForUntrackedOrdersAreIgnored() {
        var table = OrderTable<String>()
        #expect(table.apply(accepted(42), to: OrderID(42)) == nil)
    }

    @Test func oldKeysAreForgottenBeyondCapacityButLiveOnesStay() {
        var table = OrderTable<UInt64>(keyCapacity: 10)
        var live = TrackedOrder<UInt64>(
            key: 0, engineID: OrderID(100), account: AccountID(1), symbol: symbol, side: .buy, type: .limit,
            timeInForce: .goodTillCancel, price: 1, orderQuantity: 1, leavesQuantity: 1)
        table.add(live)
        for i in 1...50 {
            live = TrackedOrder<UInt64>(
                key: UInt64(i), engineID: OrderID(UInt64(100 + i)), account: AccountID(1), symbol: symbol, side: .buy,
                type: .limit, timeInForce: .goodTillCancel, price: 1, orderQuantity: 1, leavesQuantity: 1)
            table.add(live)
            _ = table.drop(OrderID(UInt64(100 + i)))
        }
        #expect(table.isKnown(0), "a live order's key is never forgotten")
        #expect(!table.isKnown(1))
        #expect(table.isKnown(50))
    }
}
