import ChronosCore
import RiskEngine
import Testing

/// The risk state follows the matching engine's events: accepted, fills on both sides,
/// cancels, replaces and rejections.
@Suite struct RiskStateTests {
    @Test func passedOrderIsReservedUntilTheEngineAnswers() {
        let h = RiskHarness()
        #expect(h.check(1, 1, .buy, 100, 10).rejected == nil)
        #expect(h.account(1).openOrders == 1)
        #expect(h.position(1).openBuyQuantity == 10)
        #expect(h.account(1).openBuyNotionalMicros == 100 * 10 * 10_000)
        // The engine refuses it: the reservation is released.
        h.rejectedNew(1, 1, .postOnlyWouldCross)
        #expect(h.account(1).openOrders == 0)
        #expect(h.position(1).openBuyQuantity == 0)
        #expect(h.account(1).openBuyNotionalMicros == 0)
        #expect(h.risk.workingOrderCount == 0)
    }

    @Test func duplicateIdPassesWithoutTouchingTheLiveOrder() {
        let h = RiskHarness()
        h.enter(1, 1, .buy, 100, 10)
        #expect(h.check(1, 2, .sell, 100, 5).rejected == nil)
        h.rejectedNew(1, 2, .duplicateID)
        #expect(h.account(1).openOrders == 1)
        #expect(h.position(1).openBuyQuantity == 10)
        #expect(h.risk.accountState(AccountID(2))?.workingOrders == 0)
    }

    @Test func fillsMoveBothSidesPositionsAndReleaseOpenQuantity() {
        let h = RiskHarness()
        h.enter(1, 1, .sell, 100, 10)
        h.enter(2, 1, .sell, 101, 10)
        #expect(h.position(1).openSellQuantity == 20)
        // Account 2 buys 15 with a GTC limit: fills 10 @100 and 5 @101, nothing rests.
        h.enter(3, 2, .buy, 101, 15)
        h.fill(taker: 3, 2, .buy, maker: 1, 1, price: 100, qty: 10, takerLeaves: 5, makerLeaves: 0)
        h.fill(taker: 3, 2, .buy, maker: 2, 1, price: 101, qty: 5, takerLeaves: 0, makerLeaves: 5)
        #expect(
            h.position(1)
                == PositionRiskState(
                    position: -15, openBuyQuantity: 0, openSellQuantity: 5, netCostMicros: -(1_000 + 505) * 10_000))
        #expect(
            h.position(2)
                == PositionRiskState(
                    position: 15, openBuyQuantity: 0, openSellQuantity: 0, netCostMicros: (1_000 + 505) * 10_000))
        #expect(h.account(1).openOrders == 1)
        #expect(h.account(2).openOrders == 0)
        #expect(h.account(2).openBuyNotionalMicros == 0)
        #expect(h.account(2).positionCostMicros == 1_505 * 10_000)
        #expect(h.risk.workingOrderCount == 1)
    }

    @Test func restingRemainderStaysOpenAndCancelReleasesIt() {
        let h = RiskHarness()
        h.enter(1, 1, .sell, 100, 4)
        h.enter(2, 2, .buy, 100, 10)
        h.fill(taker: 2, 2, .buy, maker: 1, 1, price: 100, qty: 4, takerLeaves: 6, makerLeaves: 0)
        #expect(h.account(2).openOrders == 1)
        #expect(h.position(2).openBuyQuantity == 6)
        #expect(h.account(2).openBuyNotionalMicros == 6 * 100 * 10_000)
        h.canceled(2, 2, .buy, 6)
        #expect(h.account(2).openOrders == 0)
        #expect(h.position(2).openBuyQuantity == 0)
        #expect(h.account(2).openBuyNotionalMicros == 0)
        #expect(h.position(2).position == 4)
    }

    @Test func iocAndMarketRemaindersAndSelfTradeCancelsRelease() {
        let h = RiskHarness()
        var limits = h.risk.symbolLimits(h.symbol)!
        limits.referencePrice = 100
        h.risk.setSymbolLimits(limits, for: h.symbol)
        h.enter(1, 1, .buy, 100, 5, tif: .immediateOrCancel)
        #expect(h.account(1).workingOrders == 1)
        #expect(h.account(1).openOrders == 0)
        h.canceled(1, 1, .buy, 5, reason: .immediateOrCancelRemainder)
        h.enter(2, 1, .buy, 0, 5, type: .market)
        h.canceled(2, 1, .buy, 5, reason: .marketRemainder)
        h.enter(3, 1, .buy, 100, 5)
        h.canceled(3, 1, .buy, 5, reason: .selfTradePrevention)
        #expect(h.account(1).workingOrders == 0)
        #expect(h.account(1).openOrders == 0)
        #expect(h.account(1).openBuyNotionalMicros == 0)
        #expect(h.position(1).openBuyQuantity == 0)
    }

    @Test func replaceChecksNewQuantityAndPriceAndReplacedResizes() {
        let h = RiskHarness {
            $0.maxPosition = 100
            $0.creditLimitUSD = 10
            $0.priceBandBasisPoints = 1_000
        }
        var limits = h.risk.symbolLimits(h.symbol)!
        limits.referencePrice = 100
        h.risk.setSymbolLimits(limits, for: h.symbol)
        h.enter(1, 1, .buy, 100, 5)  // $5 of $10 credit
        #expect(h.replace(1, 1, qty: 10).rejected == nil)  // $10: at the limit
        #expect(h.replace(1, 1, qty: 11).rejected == .creditLimit)
        #expect(h.replace(1, 1, price: 111).rejected == .priceBand)
        #expect(h.replace(1, 1, price: 91, qty: 5).rejected == nil)
        h.replaced(1, 1, .buy, price: 91, qty: 5)
        #expect(h.account(1).openBuyNotionalMicros == 91 * 5 * 10_000)
        #expect(h.position(1).openBuyQuantity == 5)
        // A quantity-only change is not checked against the band, even after the market moved.
        h.enter(2, 2, .sell, 109, 1)
        h.enter(3, 3, .buy, 109, 1)
        h.fill(taker: 3, 3, .buy, maker: 2, 2, price: 109, qty: 1, takerLeaves: 0, makerLeaves: 0)
        // The order sits at 91, outside the new band 98.1…119.9 around 109.
        #expect(h.replace(1, 1, qty: 4).rejected == nil)
        #expect(h.replace(1, 1, price: 98).rejected == .priceBand)
        #expect(h.replace(1, 1, price: 99).rejected == nil)
        // Position: a sell order of account 1 replaced up to 100 passes, 101 does not.
        h.enter(4, 1, .sell, 109, 10)
        #expect(h.replace(4, 1, qty: 100).rejected == nil)
        #expect(h.replace(4, 1, qty: 101).rejected == .positionLimit)
        // Orders the engine will refuse pass unchanged: unknown id, another account, qty <= 0.
        #expect(h.replace(99, 1, qty: 1_000).rejected == nil)
        #expect(h.replace(1, 2, qty: 1_000).rejected == nil)
        #expect(h.replace(1, 1, qty: 0).rejected == nil)
        h.canceled(1, 1, .buy, 5)
        #expect(h.account(1).openBuyNotionalMicros == 0)
        #expect(h.position(1).openBuyQuantity == 0)
    }

    @Test func replaceThatCrossesFillsAsTaker() {
        let h = RiskHarness()
        h.enter(1, 1, .sell, 105, 3)
        h.enter(2, 2, .buy, 100, 5)
        h.replaced(2, 2, .buy, price: 105, qty: 5)
        h.fill(taker: 2, 2, .buy, maker: 1, 1, price: 105, qty: 3, takerLeaves: 2, makerLeaves: 0)
        #expect(h.position(2).position == 3)
        #expect(h.position(2).openBuyQuantity == 2)
        #expect(h.account(2).openBuyNotionalMicros == 2 * 105 * 10_000)
        #expect(h.account(1).openOrders == 0)
    }

    @Test func ordersNeverCheckedAreTrackedFromTheirEvents() {
        let h = RiskHarness()
        h.accepted(1, 1, .buy, 100, 10)
        #expect(h.account(1).openOrders == 1)
        h.fill(taker: 2, 2, .sell, maker: 1, 1, price: 100, qty: 10, takerLeaves: 0, makerLeaves: 0)
        #expect(h.position(1).position == 10)
        #expect(h.position(2).position == -10)
        #expect(h.account(1).openOrders == 0)
        #expect(h.risk.untrackedEvents == 0)
    }

    @Test func randomFlowBalancesToZeroWhenEverythingIsCanceled() {
        // Seeded stream of orders, partial fills and cancels; at the end every order is canceled
        // or filled, so open counters return to zero and positions sum to zero per symbol.
        let h = RiskHarness {
            $0.orderCapacity = 4_096
            $0.priceBandBasisPoints = 0
        }
        var rng = SplitMix(seed: 7)
        var open: [(id: UInt64, account: UInt32, side: Side, price: Price, leaves: Quantity)] = []
        for id in UInt64(1)...2_000 {
            let account = UInt32(rng.next() % 5)
            let side: Side = rng.next() % 2 == 0 ? .buy : .sell
            let price = Price(90 + rng.next() % 20)
            let qty = Quantity(1 + rng.next() % 50)
            guard h.enter(id, account, side, price, qty).action == .pass else { continue }
            var leaves = qty
            if let i = open.firstIndex(where: {
                $0.side != side && (side == .buy ? $0.price <= price : $0.price >= price) && $0.account != account
            }) {
                let traded = min(leaves, open[i].leaves)
                leaves -= traded
                open[i].leaves -= traded
                h.fill(
                    taker: id, account, side, maker: open[i].id, open[i].account, price: open[i].price, qty: traded,
                    takerLeaves: leaves, makerLeaves: open[i].leaves)
                if open[i].leaves == 0 { open.remove(at: i) }
            }
            if leaves > 0 { open.append((id, account, side, price, leaves)) }
            if rng.next() % 4 == 0, !open.isEmpty {
                let o = open.remove(at: Int(rng.next() % UInt64(open.count)))
                h.canceled(o.id, o.account, o.side, o.leaves)
            }
        }
        for o in open { h.canceled(o.id, o.account, o.side, o.leaves) }
        var total: Int64 = 0
        for account in UInt32(0)..<5 {
            let state = h.account(account)
            #expect(state.openOrders == 0 && state.workingOrders == 0 && state.openBuyNotionalMicros == 0)
            #expect(h.position(account).openBuyQuantity == 0 && h.position(account).openSellQuantity == 0)
            total += h.position(account).position
        }
        #expect(total == 0)
        #expect(h.risk.workingOrderCount == 0)
    }
}

/// A small deterministic generator for seeded test streams.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
