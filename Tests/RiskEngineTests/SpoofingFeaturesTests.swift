import AllocCounter
import ChronosCore
import MatchingEngine
import RiskEngine
import Testing
import Workload

#if canImport(Glibc)
    import Glibc
#endif

/// The spoofing features, driven by the real matching engine's events.
@Suite struct SpoofingFeaturesTests {
    /// An engine with one symbol (tick 1) and features following it, with a clock.
    final class Market {
        let engine: Engine
        let features = SpoofingFeatures(
            symbolCapacity: 8, accountCapacity: 256, orderCapacity: 1 << 16, levelCapacity: 1 << 14)
        let symbol: SymbolID
        var now: UInt64 = 1_000_000_000
        var nextID: UInt64 = 1
        var row = [Float](repeating: .nan, count: SpoofingFeatureSchema.count)

        init(symbols: Int = 1) throws {
            engine = try Engine()
            symbol = try engine.addSymbol(SymbolConfiguration(name: "SYM0"))
            for s in 1..<max(1, symbols) { _ = try engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
        }

        func submit(_ command: EngineCommand) {
            engine.submit(command)
            for event in engine.events { features.apply(event, now: now) }
        }

        /// Computes the features of the order (into `row`), then submits it. Returns its id.
        @discardableResult
        func order(
            _ account: UInt32, _ side: Side, _ price: Price, _ qty: Quantity, type: OrderType = .limit,
            tif: TimeInForce = .goodTillCancel
        ) -> OrderID {
            let order = NewOrder(
                id: OrderID(nextID), account: AccountID(account), symbol: symbol, side: side, type: type,
                timeInForce: tif, price: price, quantity: qty)
            nextID += 1
            row.withUnsafeMutableBufferPointer { features.compute(order, now: now, into: $0) }
            submit(.new(order))
            return order.id
        }

        func features(
            _ account: UInt32, _ side: Side, _ price: Price, _ qty: Quantity, type: OrderType = .limit
        ) -> [Float] {
            let order = NewOrder(
                id: OrderID(999_999), account: AccountID(account), symbol: symbol, side: side, type: type, price: price,
                quantity: qty)
            var f = [Float](repeating: .nan, count: SpoofingFeatureSchema.count)
            f.withUnsafeMutableBufferPointer { features.compute(order, now: now, into: $0) }
            return f
        }

        func cancel(_ id: OrderID, _ account: UInt32) {
            submit(.cancel(CancelOrder(id: id, account: AccountID(account), symbol: symbol)))
        }
    }

    static func index(_ name: String) -> Int { SpoofingFeatureSchema.names.firstIndex(of: name)! }

    @Test func schemaHasOneNamePerFeature() {
        #expect(SpoofingFeatureSchema.names.count == SpoofingFeatureSchema.count)
        #expect(Set(SpoofingFeatureSchema.names).count == SpoofingFeatureSchema.count)
    }

    /// The mirrored book (touch and every level) equals the engine's after every command of a
    /// long random flow with adds, cancels, marketable orders and replaces on three symbols.
    @Test func mirroredBookEqualsTheEngine() throws {
        var generator = try OrderFlowGenerator(
            .init(seed: 7, symbols: 3, accounts: 20, targetRestingOrders: 600, initialMid: 10_000, meanDepthTicks: 6))
        let engine = try Engine()
        for s in 0..<3 { _ = try engine.addSymbol(SymbolConfiguration(name: "SYM\(s)")) }
        let features = SpoofingFeatures(
            symbolCapacity: 4, accountCapacity: 256, orderCapacity: 1 << 14, levelCapacity: 1 << 12)
        var rng = SplitMix64(seed: 99)
        var replaces = 0
        for (n, command) in generator.generate(30_000).enumerated() {
            var command = command
            // Every 7th command: replace a resting order instead (price and/or size).
            if n % 7 == 3 {
                let symbol = SymbolID(UInt32(rng.next() % 3))
                let side: Side = rng.next() & 1 == 0 ? .buy : .sell
                let resting = engine.restingOrders(symbol, side)
                if !resting.isEmpty {
                    let victim = resting[Int(rng.next() % UInt64(resting.count))]
                    let move = Int64(rng.next() % 5) - 2
                    command = .replace(
                        ReplaceOrder(
                            id: victim.id, account: victim.account, symbol: symbol,
                            price: move == 0 ? nil : max(1, victim.price + move),
                            quantity: Int64(rng.next() % 50) + 1))
                    replaces += 1
                }
            }
            engine.submit(command)
            for event in engine.events { features.apply(event, now: UInt64(n) * 1_000) }
            if n % 97 == 0 || n > 29_900 {
                for s in 0..<3 {
                    let symbol = SymbolID(UInt32(s))
                    let touch = features.touch(symbol)
                    #expect(touch.bid == engine.bestBid(symbol)?.price, "bid after command \(n)")
                    #expect(touch.ask == engine.bestAsk(symbol)?.price, "ask after command \(n)")
                    for side in [Side.buy, .sell] {
                        engine.forEachLevel(symbol, side) { level in
                            #expect(features.depth(symbol, side, at: level.price) == level.quantity)
                            return true
                        }
                    }
                }
            }
        }
        #expect(replaces > 1_000)
        #expect(features.untrackedEvents == 0)
        #expect(features.workingOrderCount == engine.restingOrderCount)
    }

    /// The classic spoof: a small genuine buy, a large sell two ticks behind the ask, the buy
    /// fills, the sell is pulled a moment later.
    @Test func spoofEpisodeShowsInTheFeatures() throws {
        let m = try Market()
        // A market maker's two-sided book: 100 lots at 99…95 and 101…105.
        for k in 0..<5 {
            m.order(1, .buy, 99 - Int64(k), 100)
            m.order(1, .sell, 101 + Int64(k), 100)
        }
        m.now += 10_000_000
        let genuine = m.order(2, .buy, 99, 10)
        #expect(m.row[Self.index("opposite_resting_exists")] == 0)
        // The spoof: 1,000 lots at 103 (two ticks behind the ask), five times the level's depth.
        let spoof = m.order(2, .sell, 103, 1_000)
        let f = m.row
        #expect(f[Self.index("distance_from_touch_ticks")] == 2)
        #expect(abs(f[Self.index("size_vs_level_depth")] - Float(log1p(10.0))) < 1e-5)
        #expect(f[Self.index("opposite_resting_exists")] == 1)
        #expect(abs(f[Self.index("size_vs_opposite_resting")] - Float(log1p(100.0))) < 1e-5)
        #expect(f[Self.index("imbalance_shift")] > 0.5)  // pushes the near book toward the sellers
        #expect(f[Self.index("size_vs_account_average")] > 50)  // 100 × its only other order
        #expect(f[Self.index("spread_ticks")] == 2)
        // Someone sells into the genuine buy; 200 ms later the spoof is pulled.
        m.now += 50_000_000
        m.order(3, .sell, 99, 110, tif: .immediateOrCancel)
        m.now += 200_000_000
        m.cancel(spoof, 2)
        _ = genuine
        // The account's next order carries the history.
        m.now += 1_000_000
        let next = m.features(2, .sell, 104, 900)
        #expect(next[Self.index("episode_count")] > 0.99)
        #expect(next[Self.index("fast_cancel_fraction")] > 0.09)
        #expect(next[Self.index("cancel_to_order_ratio")] > 0.49)
        #expect(next[Self.index("fill_ratio")] > 0 && next[Self.index("fill_ratio")] < 0.02)
        #expect(next[Self.index("log_seconds_since_opposite_fill")] < 0.5)
        #expect(next[Self.index("log_seconds_since_same_side_cancel")] < 0.01)
        // The market maker never had an episode and canceled nothing.
        let maker = m.features(1, .sell, 104, 100)
        #expect(maker[Self.index("episode_count")] == 0)
        #expect(maker[Self.index("cancel_to_order_ratio")] == 0)
        #expect(maker[Self.index("resting_imbalance")] > -1 && maker[Self.index("resting_imbalance")] < 1)
    }

    @Test func layeredLevelsCountTheAccountsLevelsNearTheTouch() throws {
        let m = try Market()
        m.order(1, .buy, 99, 100)
        m.order(1, .sell, 101, 100)
        for k in 2...5 { m.order(4, .sell, 100 + Int64(k), 300) }  // 102…105
        m.order(4, .sell, 130, 300)  // far away: not counted
        let f = m.features(4, .sell, 106, 300)
        #expect(f[Self.index("layered_levels")] == 4)
        #expect(m.features(1, .sell, 106, 300)[Self.index("layered_levels")] == 1)
        #expect(f[Self.index("resting_imbalance")] == 1)  // only sells rest
    }

    @Test func countersDecayWithTime() throws {
        let m = try Market()
        let id = m.order(5, .buy, 90, 10)
        m.cancel(id, 5)
        let soon = m.features(5, .buy, 90, 10)
        m.now += 600_000_000_000  // ten minutes
        let later = m.features(5, .buy, 90, 10)
        #expect(soon[Self.index("log_message_rate")] > later[Self.index("log_message_rate")] * 100)
        #expect(later[Self.index("log_seconds_since_same_side_cancel")] > 6)
        // The ratio of two decayed counts does not decay.
        #expect(abs(soon[Self.index("cancel_to_order_ratio")] - later[Self.index("cancel_to_order_ratio")]) < 1e-5)
    }

    @Test func replaceFeaturesLeaveTheOrdersOwnQuantityOut() throws {
        let m = try Market()
        m.order(1, .buy, 99, 100)
        m.order(1, .sell, 101, 100)
        let mine = m.order(6, .sell, 103, 500)
        var f = [Float](repeating: .nan, count: SpoofingFeatureSchema.count)
        let known = f.withUnsafeMutableBufferPointer {
            m.features.computeReplace(
                ReplaceOrder(id: mine, account: AccountID(6), symbol: m.symbol, quantity: 600), now: m.now, into: $0)
        }
        #expect(known)
        #expect(abs(f[Self.index("size_vs_level_depth")] - Float(log1p(600.0))) < 1e-5)  // level 103 is its own
        #expect(f[Self.index("layered_levels")] == 0)
        let other = f.withUnsafeMutableBufferPointer {
            m.features.computeReplace(
                ReplaceOrder(id: mine, account: AccountID(7), symbol: m.symbol, quantity: 600), now: m.now, into: $0)
        }
        let unknown = f.withUnsafeMutableBufferPointer {
            m.features.computeReplace(
                ReplaceOrder(id: OrderID(12_345), account: AccountID(6), symbol: m.symbol, quantity: 1), now: m.now,
                into: $0)
        }
        #expect(!other && !unknown)
    }

    @Test func everyFeatureIsFiniteWhateverTheInput() throws {
        let m = try Market()
        m.order(1, .buy, 99, 100)
        let extremes: [(Side, Price, Quantity, OrderType)] = [
            (.buy, 1, .max, .limit), (.sell, .max, 1, .limit), (.buy, 0, 5, .market), (.sell, -5, 5, .limit),
            (.buy, 99, 0, .limit), (.sell, 1 << 50, 1 << 40, .limit),
        ]
        for (side, price, qty, type) in extremes {
            let f = m.features(1, side, price, qty, type: type)
            #expect(f.allSatisfy { $0.isFinite }, "\(side) \(price) \(qty) \(type): \(f)")
        }
        // An unknown symbol writes zeros, not garbage.
        var f = [Float](repeating: .nan, count: SpoofingFeatureSchema.count)
        f.withUnsafeMutableBufferPointer {
            m.features.compute(
                NewOrder(
                    id: OrderID(1), account: AccountID(1), symbol: SymbolID(100), side: .buy, price: 5, quantity: 1),
                now: 0, into: $0)
        }
        #expect(f.allSatisfy { $0 == 0 })
    }
}

/// Computing features and following events never touch the heap (debug, and release via
/// `make test-release`'s `--filter ZeroAllocationTests`).
@Suite struct SpoofingFeaturesZeroAllocationTests {
    @Test(.enabled(if: alloc_counter_available() != 0))
    func computeAndApplyAllocateNothing() throws {
        let m = try SpoofingFeaturesTests.Market()
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: SpoofingFeatureSchema.count)
        defer { buffer.deallocate() }
        // Events prepared up front (the engine itself is measured elsewhere).
        let events: [EngineEvent] = [
            .accepted(
                OrderAccepted(
                    sequence: 1, id: OrderID(1), account: AccountID(1), symbol: m.symbol, side: .buy, type: .limit,
                    timeInForce: .goodTillCancel, postOnly: false, price: 99, quantity: 100)),
            .accepted(
                OrderAccepted(
                    sequence: 2, id: OrderID(2), account: AccountID(2), symbol: m.symbol, side: .sell, type: .limit,
                    timeInForce: .goodTillCancel, postOnly: false, price: 99, quantity: 40)),
            .fill(
                Fill(
                    sequence: 3, tradeID: TradeID(1), symbol: m.symbol, takerID: OrderID(2), makerID: OrderID(1),
                    takerAccount: AccountID(2), makerAccount: AccountID(1), takerSide: .sell, price: 99, quantity: 40,
                    takerLeaves: 0, makerLeaves: 60)),
            .replaced(
                OrderReplaced(
                    sequence: 4, id: OrderID(1), account: AccountID(1), symbol: m.symbol, side: .buy, price: 98,
                    quantity: 50, keptPriority: false)),
            .canceled(
                OrderCanceled(
                    sequence: 5, id: OrderID(1), account: AccountID(1), symbol: m.symbol, side: .buy, quantity: 50,
                    reason: .requested)),
        ]
        let order = NewOrder(
            id: OrderID(3), account: AccountID(1), symbol: m.symbol, side: .buy, price: 98, quantity: 7)
        let replace = ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: m.symbol, price: 97, quantity: 5)
        let features = m.features
        var now: UInt64 = 0
        var rounds = 0
        // (No local function: calling one that captures a var allocates in debug builds.)
        while rounds < 101 {
            if rounds == 1 { alloc_counter_begin() }
            for i in 0..<events.count {
                now += 1_000_000
                features.compute(order, now: now, into: buffer)
                features.apply(events[i], now: now)
                if i == 2 { _ = features.computeReplace(replace, now: now, into: buffer) }
            }
            rounds += 1
        }
        #expect(alloc_counter_end() == 0)
        #expect(features.workingOrderCount == 0)
    }
}
