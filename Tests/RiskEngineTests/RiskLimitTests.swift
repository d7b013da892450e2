import ChronosCore
import RiskEngine
import Testing

/// Each static limit at its boundary: just under, at, just over.
@Suite struct RiskLimitTests {
    @Test func notionalLimitDefaultIsOneMillionDollarsComputedExactly() {
        let h = RiskHarness()
        // Prices in cents, 1-share lots: 100,000 cents × 1,000 shares = $1,000,000 exactly.
        #expect(h.check(1, 1, .sell, 100_000, 999).rejected == nil)
        #expect(h.check(2, 1, .sell, 100_000, 1_000).rejected == nil)
        #expect(h.check(3, 1, .sell, 100_000, 1_001).rejected == .notionalLimit)
        // One cent above the limit: 1,000,001 cents × 100 shares = $1,000,001.
        #expect(h.check(4, 2, .sell, 1_000_001, 100).rejected == .notionalLimit)
        #expect(h.check(5, 2, .sell, 1_000_000, 100).rejected == nil)
    }

    @Test func notionalLimitOneMicroDollarAboveRejects() {
        let h = RiskHarness {
            $0.tickValueMicros = 1
            $0.maxNotionalUSD = 1
            $0.priceBandBasisPoints = 0
        }
        #expect(h.check(1, 1, .sell, 1_000, 1_000).rejected == nil)  // 1,000,000 µ$ = $1
        #expect(h.check(2, 1, .sell, 1_000_001, 1).rejected == .notionalLimit)
        #expect(h.check(3, 1, .sell, 999_999, 1).rejected == nil)
    }

    @Test func notionalNeverOverflowsWithExtremePriceAndQuantity() {
        let h = RiskHarness {
            $0.maxOrderQuantity = .max
            $0.tickValueMicros = .max
        }
        #expect(h.check(1, 1, .buy, .max, .max).rejected == .notionalLimit)
    }

    @Test func maxOrderQuantityPerSymbol() {
        let h = RiskHarness { $0.maxOrderQuantity = 500 }
        var tight = h.risk.symbolLimits(SymbolID(1))!
        tight.maxOrderQuantity = 10
        h.risk.setSymbolLimits(tight, for: SymbolID(1))
        #expect(h.check(1, 1, .buy, 10, 499).rejected == nil)
        #expect(h.check(2, 1, .buy, 10, 500).rejected == nil)
        #expect(h.check(3, 1, .buy, 10, 501).rejected == .maxOrderQuantity)
        #expect(h.risk.check(RiskHarness.order(4, 1, .buy, 10, 10, symbol: 1), now: 0).rejected == nil)
        #expect(h.risk.check(RiskHarness.order(5, 1, .buy, 10, 11, symbol: 1), now: 0).rejected == .maxOrderQuantity)
    }

    @Test func priceBandAroundConfiguredReferenceInBasisPoints() {
        let h = RiskHarness { $0.priceBandBasisPoints = 1_000 }
        // No reference yet: the band cannot apply.
        #expect(h.check(1, 1, .sell, 50_000, 1).rejected == nil)
        var limits = h.risk.symbolLimits(h.symbol)!
        limits.referencePrice = 10_000
        h.risk.setSymbolLimits(limits, for: h.symbol)
        #expect(h.check(2, 1, .sell, 10_999, 1).rejected == nil)
        #expect(h.check(3, 1, .sell, 11_000, 1).rejected == nil)  // exactly +10 %
        #expect(h.check(4, 1, .sell, 11_001, 1).rejected == .priceBand)
        #expect(h.check(5, 1, .buy, 9_001, 1).rejected == nil)
        #expect(h.check(6, 1, .buy, 9_000, 1).rejected == nil)  // exactly −10 %
        #expect(h.check(7, 1, .buy, 8_999, 1).rejected == .priceBand)
    }

    @Test func lastTradePriceBecomesTheReference() {
        let h = RiskHarness { $0.priceBandBasisPoints = 100 }
        h.enter(1, 1, .sell, 20_000, 10)
        h.enter(2, 2, .buy, 20_000, 4)
        h.fill(taker: 2, 2, .buy, maker: 1, 1, price: 20_000, qty: 4, takerLeaves: 0, makerLeaves: 6)
        #expect(h.risk.referencePrice(h.symbol) == 20_000)
        #expect(h.check(3, 1, .sell, 20_200, 1).rejected == nil)
        #expect(h.check(4, 1, .sell, 20_201, 1).rejected == .priceBand)
        #expect(h.check(5, 1, .buy, 19_800, 1).rejected == nil)
        #expect(h.check(6, 1, .buy, 19_799, 1).rejected == .priceBand)
    }

    @Test func marketOrdersNeedAReferenceAndAreValuedAtIt() {
        let h = RiskHarness()
        #expect(h.check(1, 1, .buy, 0, 10, type: .market).rejected == .noReferencePrice)
        var limits = h.risk.symbolLimits(h.symbol)!
        limits.referencePrice = 100_000  // $1,000.00
        h.risk.setSymbolLimits(limits, for: h.symbol)
        #expect(h.check(2, 1, .buy, 0, 1_000, type: .market).rejected == nil)
        #expect(h.check(3, 1, .sell, 0, 1_001, type: .market).rejected == .notionalLimit)
        // The reserved market buy counts at the reference price until its events arrive.
        #expect(h.account(1).openBuyNotionalMicros == 1_000_000 * 1_000_000)
    }

    @Test func openOrdersLimitCountsRestingCapableOrdersOnly() {
        let h = RiskHarness { $0.maxOpenOrders = 2 }
        #expect(h.enter(1, 1, .buy, 100, 1).rejected == nil)
        #expect(h.account(1).openOrders == 1)
        #expect(h.enter(2, 1, .buy, 100, 1).rejected == nil)
        #expect(h.account(1).openOrders == 2)
        #expect(h.check(3, 1, .buy, 100, 1).rejected == .openOrdersLimit)
        // IOC, FOK and market orders never rest: the open-order limit does not apply to them.
        #expect(h.check(4, 1, .buy, 100, 1, tif: .immediateOrCancel).rejected == nil)
        h.canceled(4, 1, .buy, 1, reason: .immediateOrCancelRemainder)
        #expect(h.account(1).openOrders == 2)
        h.canceled(1, 1, .buy, 1)
        #expect(h.account(1).openOrders == 1)
        #expect(h.check(5, 1, .buy, 100, 1).rejected == nil)
    }

    @Test func creditLimitIsOpenBuyNotionalPlusPositionCost() {
        // $100 credit; prices in cents.
        let h = RiskHarness {
            $0.creditLimitUSD = 100
            $0.priceBandBasisPoints = 0
        }
        #expect(h.enter(1, 1, .buy, 1_000, 5).rejected == nil)  // $50 open
        #expect(h.check(2, 1, .buy, 1_000, 6).rejected == .creditLimit)  // $50 + $60
        #expect(h.check(3, 1, .buy, 1_000, 5).rejected == nil)  // $50 + $50 = $100: at the limit
        h.rejectedNew(3, 1, .postOnlyWouldCross)  // released
        #expect(h.account(1).creditUsageMicros == 50_000_000)
        // Sells never use credit.
        #expect(h.check(4, 1, .sell, 1_000, 500).rejected == nil)
        h.rejectedNew(4, 1, .fillOrKillUnfillable)
        // A fill turns open buy notional into position cost: usage unchanged.
        h.enter(5, 2, .sell, 1_000, 5)
        h.fill(taker: 5, 2, .sell, maker: 1, 1, price: 1_000, qty: 5, takerLeaves: 0, makerLeaves: 0)
        #expect(h.account(1).openBuyNotionalMicros == 0)
        #expect(h.account(1).positionCostMicros == 50_000_000)
        #expect(h.check(6, 1, .buy, 1_000, 6).rejected == .creditLimit)
        #expect(h.check(7, 1, .buy, 1_000, 5).rejected == nil)
        h.rejectedNew(7, 1, .postOnlyWouldCross)
        // Selling the position at a profit frees its cost; the short seller's cost stays at 0.
        h.enter(8, 1, .sell, 1_200, 5)
        h.enter(9, 3, .buy, 1_200, 5)
        h.fill(taker: 9, 3, .buy, maker: 8, 1, price: 1_200, qty: 5, takerLeaves: 0, makerLeaves: 0)
        #expect(h.account(1).positionCostMicros == 0)
        #expect(h.position(1).netCostMicros == -10_000_000)
        #expect(h.account(2).positionCostMicros == 0)
        #expect(h.check(10, 1, .buy, 1_000, 10).rejected == nil)
        #expect(h.check(11, 1, .buy, 1, 1).rejected == .creditLimit)
    }

    @Test func positionLimitCountsPositionAndSameSideWorkingOrders() {
        let h = RiskHarness { $0.maxPosition = 100 }
        #expect(h.enter(1, 1, .buy, 10, 60).rejected == nil)
        #expect(h.check(2, 1, .buy, 10, 41).rejected == .positionLimit)
        #expect(h.check(3, 1, .buy, 10, 40).rejected == nil)
        h.rejectedNew(3, 1, .postOnlyWouldCross)
        #expect(h.check(4, 1, .sell, 10, 100).rejected == nil)
        h.rejectedNew(4, 1, .postOnlyWouldCross)
        #expect(h.check(5, 1, .sell, 10, 101).rejected == .positionLimit)
        // Filled: the position counts instead of the working order.
        h.enter(6, 2, .sell, 10, 60)
        h.fill(taker: 6, 2, .sell, maker: 1, 1, price: 10, qty: 60, takerLeaves: 0, makerLeaves: 0)
        #expect(h.position(1).position == 60)
        #expect(h.position(2).position == -60)
        #expect(h.check(7, 1, .buy, 10, 41).rejected == .positionLimit)
        #expect(h.check(8, 1, .sell, 10, 160).rejected == nil)
        h.rejectedNew(8, 1, .postOnlyWouldCross)
        #expect(h.check(9, 1, .sell, 10, 161).rejected == .positionLimit)
        #expect(h.check(10, 2, .sell, 10, 41).rejected == .positionLimit)
        #expect(h.check(11, 2, .buy, 10, 160).rejected == nil)
    }

    @Test func tokenBucketRefillsWithTheTimePassedIn() {
        let h = RiskHarness {
            $0.maxMessagesPerSecond = 2
            $0.messageBurst = 2
        }
        let second: UInt64 = 1_000_000_000
        #expect(h.check(1, 1, .buy, 10, 1, tif: .immediateOrCancel, now: 0).rejected == nil)
        #expect(h.check(2, 1, .buy, 10, 1, tif: .immediateOrCancel, now: 0).rejected == nil)
        #expect(h.check(3, 1, .buy, 10, 1, tif: .immediateOrCancel, now: 0).rejected == .messageRate)
        #expect(h.check(4, 2, .buy, 10, 1, tif: .immediateOrCancel, now: 0).rejected == nil)  // per account
        #expect(h.check(5, 1, .buy, 10, 1, tif: .immediateOrCancel, now: second / 2 - 1).rejected == .messageRate)
        #expect(h.check(6, 1, .buy, 10, 1, tif: .immediateOrCancel, now: second / 2).rejected == nil)
        #expect(h.check(7, 1, .buy, 10, 1, tif: .immediateOrCancel, now: second / 2).rejected == .messageRate)
        // Time going backwards refills nothing.
        #expect(h.check(8, 1, .buy, 10, 1, tif: .immediateOrCancel, now: 0).rejected == .messageRate)
        // A long quiet spell refills to the burst, not beyond.
        let later = 100 * second
        #expect(h.check(9, 1, .buy, 10, 1, tif: .immediateOrCancel, now: later).rejected == nil)
        #expect(h.check(10, 1, .buy, 10, 1, tif: .immediateOrCancel, now: later).rejected == nil)
        #expect(h.check(11, 1, .buy, 10, 1, tif: .immediateOrCancel, now: later).rejected == .messageRate)
        // Replaces take tokens too; a message rejected by a later limit still took one.
        #expect(h.check(12, 1, .buy, 10, 2_000_000, now: later + second).rejected == .maxOrderQuantity)
        #expect(h.replace(99, 1, qty: 1, now: later + second).rejected == nil)
        #expect(h.check(13, 1, .buy, 10, 1, now: later + second).rejected == .messageRate)
        // Far-future times do not overflow.
        #expect(h.check(14, 1, .buy, 10, 1, tif: .immediateOrCancel, now: .max).rejected == nil)
    }

    /// `[[risk.accounts]] max_messages_per_second = 5, message_burst = 5` for an account before its
    /// first message: its bucket starts full (5 pass at once), as the same limits as the default do.
    @Test func anAccountConfiguredBeforeItsFirstMessageStartsWithItsOwnFullBurst() {
        let h = RiskHarness()  // the default: no rate limit, a burst of one
        var limits = RiskConfiguration().defaultAccountLimits
        limits.maxMessagesPerSecond = 5
        limits.messageBurst = 5
        #expect(h.risk.setAccountLimits(limits, for: AccountID(1)))
        let answers = (1...7).map { h.check(UInt64($0), 1, .buy, 10, 1, tif: .immediateOrCancel, now: 1).rejected }
        #expect(answers == [nil, nil, nil, nil, nil, .messageRate, .messageRate])
        // A known account's reload keeps what its bucket holds (here: nothing) up to the new burst.
        limits.messageBurst = 10
        #expect(h.risk.setAccountLimits(limits, for: AccountID(1)))
        #expect(h.check(8, 1, .buy, 10, 1, tif: .immediateOrCancel, now: 1).rejected == .messageRate)
        #expect(h.check(9, 1, .buy, 10, 1, tif: .immediateOrCancel, now: 1 + 200_000_000).rejected == nil)
    }

    @Test func killSwitchAtRunTimeBlocksNewAndReplaceAndListsWorkingOrders() {
        let h = RiskHarness()
        h.enter(1, 1, .buy, 100, 1)
        h.enter(2, 1, .sell, 200, 1)
        h.enter(3, 2, .sell, 200, 1)
        #expect(!h.risk.isKilled(AccountID(1)))
        #expect(h.risk.setKillSwitch(account: AccountID(1), on: true))
        #expect(h.risk.isKilled(AccountID(1)))
        #expect(h.check(4, 1, .buy, 100, 1).rejected == .killSwitch)
        #expect(h.replace(1, 1, qty: 2).rejected == .killSwitch)
        #expect(h.check(5, 2, .buy, 100, 1).rejected == nil)
        var working: [UInt64] = []
        h.risk.forEachWorkingOrder(of: AccountID(1)) { id, symbol in
            #expect(symbol == h.symbol)
            working.append(id.rawValue)
        }
        #expect(working.sorted() == [1, 2])
        h.risk.setKillSwitch(account: AccountID(1), on: false)
        #expect(h.check(6, 1, .buy, 100, 1).rejected == nil)
    }

    @Test func fullTablesRejectWithCapacityExhaustedNeverCrash() {
        let h = RiskHarness {
            $0.accountCapacity = 2
            $0.orderCapacity = 2
            $0.positionCapacity = 3
        }
        #expect(h.enter(1, 1, .buy, 10, 1).rejected == nil)
        #expect(h.enter(2, 2, .buy, 10, 1).rejected == nil)
        #expect(h.check(3, 3, .buy, 10, 1).rejected == .capacityExhausted)  // accounts full
        #expect(h.check(4, 1, .buy, 10, 1).rejected == .capacityExhausted)  // working orders full
        h.canceled(1, 1, .buy, 1)
        #expect(h.check(5, 1, .buy, 10, 1).rejected == nil)
        h.rejectedNew(5, 1, .postOnlyWouldCross)
        // Positions: (1,0) and (2,0) exist; one more fits, then the table is full.
        #expect(h.risk.check(RiskHarness.order(6, 1, .buy, 10, 1, symbol: 1), now: 0).rejected == nil)
        h.rejectedNew(6, 1, .postOnlyWouldCross)
        #expect(h.risk.check(RiskHarness.order(7, 1, .buy, 10, 1, symbol: 2), now: 0).rejected == .capacityExhausted)
        // A symbol outside the table.
        #expect(h.risk.check(RiskHarness.order(8, 1, .buy, 10, 1, symbol: 9), now: 0).rejected == .capacityExhausted)
        #expect(!h.risk.setSymbolLimits(SymbolRiskLimits(), for: SymbolID(9)))
        #expect(!h.risk.setKillSwitch(account: AccountID(3), on: true))
    }

    @Test func reasonCodesAreStableSnakeCase() {
        #expect(
            RiskReason.allCases.map(\.code) == [
                "capacity_exhausted", "kill_switch", "message_rate", "max_order_qty", "no_reference_price",
                "price_band", "notional_limit", "open_orders_limit", "position_limit", "credit_limit",
                "spoofing_model", "model_unavailable", "unavailable",
            ])
        for reason in RiskReason.allCases {
            #expect(reason.rejectCodeLiteral.description == "risk_" + reason.code)
        }
        #expect(RiskAction.allCases.map(\.description) == ["pass", "flag", "throttle", "reject"])
    }
}
