import ChronosCore
import MatchingEngine
import Testing
import Workload

/// `Engine.snapshotBytes()` and `restore(fromSnapshot:origin:)`: a restored engine is the
/// snapshotted one — books and queues, used ids, numbering — and goes on producing the same
/// events; bytes that are not such a snapshot are refused, never trusted into a broken book.
/// Also `EngineLogReplay`, the incremental replay that continues a restored snapshot.
@Suite struct SnapshotTests {
    // MARK: Helpers

    static func engine(
        _ symbols: [SymbolConfiguration] = adversarialSymbols, orderCapacity: Int = 4_096,
        usedIDBlockCapacity: Int? = nil
    ) throws -> Engine {
        let engine = try Engine(
            configuration: EngineConfiguration(
                orderCapacity: orderCapacity, symbolCapacity: 8, usedIDBlockCapacity: usedIDBlockCapacity))
        for symbol in symbols { try engine.addSymbol(symbol) }
        return engine
    }

    /// A fresh engine like `original` (same capacities and symbols) restored from its snapshot.
    static func restored(_ original: Engine) throws -> Engine {
        let copy = try Engine(configuration: original.configuration)
        for s in 0..<original.symbolCount { try copy.addSymbol(original.symbolConfiguration(SymbolID(UInt32(s)))) }
        try copy.restore(fromSnapshot: original.snapshotBytes())
        return copy
    }

    /// Everything a query can see is equal, and the restored engine is sound.
    static func expectIdentical(
        _ restored: Engine, _ original: Engine, ids: some Sequence<UInt64>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(restored.stateHash() == original.stateHash(), sourceLocation: sourceLocation)
        #expect(restored.nextSequence == original.nextSequence, sourceLocation: sourceLocation)
        #expect(restored.nextTradeID == original.nextTradeID, sourceLocation: sourceLocation)
        #expect(restored.restingOrderCount == original.restingOrderCount, sourceLocation: sourceLocation)
        for s in 0..<original.symbolCount {
            let symbol = SymbolID(UInt32(s))
            for side in Side.allCases {
                #expect(
                    restored.restingOrders(symbol, side) == original.restingOrders(symbol, side),
                    sourceLocation: sourceLocation)
            }
            #expect(restored.snapshot(symbol) == original.snapshot(symbol), sourceLocation: sourceLocation)
            #expect(restored.bookHash(symbol) == original.bookHash(symbol), sourceLocation: sourceLocation)
        }
        var differing: [UInt64] = []
        for id in ids where restored.isUsed(OrderID(id)) != original.isUsed(OrderID(id)) { differing.append(id) }
        #expect(differing.isEmpty, "isUsed differs for \(differing.prefix(10))", sourceLocation: sourceLocation)
        #expect(restored.invariantViolations() == [], sourceLocation: sourceLocation)
    }

    /// Both engines process `commands`: every event equal, and the same state at the end.
    static func expectSameFuture(
        _ a: Engine, _ b: Engine, _ commands: some Sequence<EngineCommand>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var count = 0
        for command in commands {
            a.submit(command)
            b.submit(command)
            guard Array(a.events) == Array(b.events) else {
                Issue.record(
                    "command \(count) \(command): \(Array(a.events)) vs \(Array(b.events))",
                    sourceLocation: sourceLocation)
                return
            }
            count += 1
        }
        #expect(a.stateHash() == b.stateHash(), sourceLocation: sourceLocation)
        #expect(b.invariantViolations() == [], sourceLocation: sourceLocation)
    }

    /// Ids around the ones a run named: each one and its neighbours, and far away ones.
    static func probeIDs(_ named: [UInt64], seed: UInt64) -> [UInt64] {
        var rng = SplitMix64(seed: seed)
        var ids = Set<UInt64>([0, 1, 63, 64, 65, .max, .max - 1])
        for id in named { ids.formUnion([id, id &+ 1, id &- 1, id ^ 64]) }
        for _ in 0..<2_000 { ids.insert(rng.next()) }
        return Array(ids)
    }

    // MARK: Seeded flows

    /// The adversarial stream (every command kind and outcome, replaces up, down and equal):
    /// snapshots taken along the way restore to the same engine, which then answers the rest of
    /// the stream exactly as the original does. The restored engine is snapshotted in turn.
    @Test(arguments: [UInt64(101), 102, 103])
    func adversarialFlowsRestoreIdenticallyAndGoOnIdentically(seed: UInt64) throws {
        var run = try RecoveryTests.LoggedRun(seed: seed, orderCapacity: 2_000)
        var follower: Engine?
        for _ in 0..<4 {
            // The original and the follower (restored at the previous checkpoint) go on together.
            var commands: [EngineCommand] = []
            for _ in 0..<1_500 {
                let command = run.stream.next(shadow: run.reference)
                _ = run.reference.process(command)
                commands.append(command)
            }
            if let follower {
                Self.expectSameFuture(run.engine, follower, commands)
            } else {
                for command in commands { run.engine.submit(command) }
            }
            let source = follower ?? run.engine
            let restored = try Self.restored(source)
            let ids = Self.probeIDs(run.stream.issued, seed: seed)
            #expect(ids.contains { run.engine.isUsed(OrderID($0)) })
            #expect(ids.contains { !run.engine.isUsed(OrderID($0)) })
            Self.expectIdentical(restored, run.engine, ids: ids)
            follower = restored
        }
        #expect(run.engine.restingOrderCount > 50)
    }

    /// Realistic flow (`OrderFlowGenerator`): a deep book restored mid-stream continues identically.
    @Test(arguments: [UInt64(7), 8])
    func realisticFlowsRestoreIdenticallyAndGoOnIdentically(seed: UInt64) throws {
        var generator = try OrderFlowGenerator(.init(seed: seed, symbols: 3, targetRestingOrders: 3_000))
        let symbols = (0..<3).map { SymbolConfiguration(name: "SYM\($0)") }
        let original = try Self.engine(symbols, orderCapacity: 16_384)
        for command in generator.generate(20_000) { original.submit(command) }
        let restored = try Self.restored(original)
        Self.expectIdentical(restored, original, ids: Self.probeIDs(Array(1...25_000), seed: seed))
        Self.expectSameFuture(original, restored, generator.generate(15_000))
        #expect(original.restingOrderCount > 2_000)
    }

    // MARK: Hand-made books

    static func new(
        _ id: UInt64, _ side: Side, _ price: Int64, _ quantity: Int64, account: UInt32 = 1, symbol: UInt32 = 0,
        postOnly: Bool = false
    ) -> EngineCommand {
        .new(
            NewOrder(
                id: OrderID(id), account: AccountID(account), symbol: SymbolID(symbol), side: side, price: price,
                quantity: quantity, postOnly: postOnly))
    }

    static func market(_ id: UInt64, _ side: Side, _ quantity: Int64, account: UInt32 = 9, symbol: UInt32 = 0)
        -> EngineCommand
    {
        .new(
            NewOrder(
                id: OrderID(id), account: AccountID(account), symbol: SymbolID(symbol), side: side, type: .market,
                quantity: quantity))
    }

    /// Commands that exercise a restored book: every resting id again (duplicates), a cancel of
    /// each resting order after sweeps from both sides, and new orders.
    static func probeFuture(_ engine: Engine, ids: [UInt64]) -> [EngineCommand] {
        var commands: [EngineCommand] = []
        for s in 0..<engine.symbolCount {
            let symbol = UInt32(s)
            let config = engine.symbolConfiguration(SymbolID(symbol))
            let lot = config.lotSize
            commands.append(market(1 << 62 + UInt64(s) * 4, .buy, lot * 7, symbol: symbol))
            commands.append(market(1 << 62 + UInt64(s) * 4 + 1, .sell, lot * 13, symbol: symbol))
            for side in Side.allCases {
                for order in engine.restingOrders(SymbolID(symbol), side) {
                    commands.append(.cancel(CancelOrder(id: order.id, account: order.account, symbol: order.symbol)))
                }
            }
        }
        for id in ids.prefix(200) { commands.append(new(id, .buy, 100, 1)) }
        return commands
    }

    static func expectRoundTrip(
        _ engine: Engine, ids: [UInt64], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let restored = try Self.restored(engine)
        Self.expectIdentical(restored, engine, ids: Self.probeIDs(ids, seed: 1), sourceLocation: sourceLocation)
        Self.expectSameFuture(engine, restored, Self.probeFuture(engine, ids: ids), sourceLocation: sourceLocation)
    }

    @Test func anEmptyEngineRestoresAsAnEmptyEngine() throws {
        let engine = try Self.engine()
        let restored = try Self.restored(engine)
        #expect(restored.nextSequence == 1)
        #expect(restored.stateHash() == engine.stateHash())
        try Self.expectRoundTrip(engine, ids: [])
    }

    @Test func anEngineThatOnlyRejectedKeepsItsNumbering() throws {
        let engine = try Self.engine()
        engine.submit(Self.new(1, .buy, -5, 1))  // invalid price
        engine.submit(.cancel(CancelOrder(id: OrderID(9), account: AccountID(1), symbol: SymbolID(0))))
        #expect(engine.nextSequence == 3)
        try Self.expectRoundTrip(engine, ids: [1, 9])
    }

    @Test func oneSidedBooksAndAnEmptySymbolRestore() throws {
        let engine = try Self.engine()
        var id: UInt64 = 1
        for price in stride(from: Int64(900), through: 990, by: 10) {
            engine.submit(Self.new(id, .buy, price, 5, account: UInt32(id % 3)))
            id += 1
        }
        for price in stride(from: Int64(600), through: 800, by: 25) {
            engine.submit(Self.new(id, .sell, price, 300, account: 2, symbol: 1))
            id += 1
        }
        #expect(engine.bestAsk(SymbolID(0)) == nil && engine.bestBid(SymbolID(1)) == nil)
        try Self.expectRoundTrip(engine, ids: Array(1..<id))
    }

    @Test func manyLevelsWithSeveralOrdersEachRestoreInPriorityOrder() throws {
        let engine = try Self.engine(orderCapacity: 8_192)
        var id: UInt64 = 1
        for level in 0..<600 {
            for k in 0..<3 {
                engine.submit(Self.new(id, .buy, 2_000 - Int64(level), Int64(1 + k), account: UInt32(k)))
                engine.submit(Self.new(id + 1, .sell, 2_001 + Int64(level), Int64(3 - k), account: UInt32(k)))
                id += 2
            }
        }
        #expect(engine.restingOrderCount == 3_600)
        try Self.expectRoundTrip(engine, ids: Array(1..<id))
    }

    @Test func partialFillsAndReplacesKeepTheirQueuePositions() throws {
        let engine = try Self.engine()
        // One level, five orders; the head partly filled; a reduced order keeps its place, an
        // increased one goes to the back, a repriced one moves to another level's back.
        for id in UInt64(1)...5 { engine.submit(Self.new(id, .sell, 1_010, 10, account: UInt32(id))) }
        engine.submit(Self.new(6, .sell, 1_020, 10, account: 6))
        engine.submit(Self.market(100, .buy, 4))
        let replaces: [ReplaceOrder] = [
            ReplaceOrder(id: OrderID(3), account: AccountID(3), symbol: SymbolID(0), quantity: 4),
            ReplaceOrder(id: OrderID(2), account: AccountID(2), symbol: SymbolID(0), quantity: 15),
            ReplaceOrder(id: OrderID(4), account: AccountID(4), symbol: SymbolID(0), price: 1_020),
            ReplaceOrder(id: OrderID(5), account: AccountID(5), symbol: SymbolID(0), price: 1_010, quantity: 10),
        ]
        for replace in replaces { engine.submit(.replace(replace)) }
        let asks = engine.restingOrders(SymbolID(0), .sell)
        #expect(asks.map(\.id.rawValue) == [1, 3, 5, 2, 6, 4])
        #expect(asks.first?.leavesQuantity == 6)
        // Post-only orders rest too.
        engine.submit(Self.new(7, .buy, 1_000, 10, account: 7, postOnly: true))
        try Self.expectRoundTrip(engine, ids: Array(1...7) + [100])
    }

    @Test func idsScatteredOverTheWhole64BitSpaceRestore() throws {
        let engine = try Self.engine(orderCapacity: 4_096, usedIDBlockCapacity: 8_192)
        var rng = SplitMix64(seed: 77)
        var ids: [UInt64] = [0, 1, 63, 64, .max, .max - 1, 1 << 63, (1 << 63) - 1]
        for _ in 0..<3_000 { ids.append(rng.next()) }
        for (n, id) in ids.enumerated() {
            let side: Side = n % 2 == 0 ? .buy : .sell
            engine.submit(Self.new(id, side, side == .buy ? 900 + Int64(n % 50) : 1_000 + Int64(n % 50), 5))
            if n % 3 == 0 {  // canceled: used, not resting
                engine.submit(.cancel(CancelOrder(id: OrderID(id), account: AccountID(1), symbol: SymbolID(0))))
            }
        }
        #expect(ids.allSatisfy { engine.isUsed(OrderID($0)) })
        #expect(engine.restingOrderCount == 2_005)
        try Self.expectRoundTrip(engine, ids: ids)
    }

    @Test func theOriginClosureTagsRestoredOrders() throws {
        let engine = try Self.engine()
        engine.submit(Self.new(5 << 48 | 1, .sell, 1_000, 10))
        let restored = try Self.engine()
        try restored.restore(fromSnapshot: engine.snapshotBytes()) { id in UInt16(id.rawValue >> 48) + 1 }
        restored.submit(Self.market(2, .buy, 10))
        guard case .fill(let fill)? = restored.events.last else {
            Issue.record("\(Array(restored.events))")
            return
        }
        #expect(fill.makerOrigin == 6)
    }

    // MARK: Refusals

    static func sampleEngine() throws -> Engine {
        var run = try RecoveryTests.LoggedRun(seed: 5, orderCapacity: 1_000)
        run.run(800)
        #expect(run.engine.restingOrderCount > 20)
        return run.engine
    }

    static func expectRefused(
        _ bytes: [UInt8], into engine: Engine, _ expected: (SnapshotError) -> Bool, _ comment: Comment,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            try engine.restore(fromSnapshot: bytes)
            Issue.record("restored: \(comment)", sourceLocation: sourceLocation)
        } catch {
            #expect(expected(error), "\(comment): \(error)", sourceLocation: sourceLocation)
        }
    }

    static func isOtherSymbols(_ e: SnapshotError) -> Bool { if case .otherSymbols = e { true } else { false } }
    static func isCapacity(_ e: SnapshotError) -> Bool { if case .capacity = e { true } else { false } }
    static func isMalformed(_ e: SnapshotError) -> Bool { if case .malformed = e { true } else { false } }

    @Test func otherSymbolsAreRefused() throws {
        let bytes = try Self.sampleEngine().snapshotBytes()
        var variants: [(String, [SymbolConfiguration])] = [
            ("one more", adversarialSymbols + [SymbolConfiguration(name: "MORE")]),
            ("one fewer", Array(adversarialSymbols.dropLast())),
            ("reordered", [adversarialSymbols[1], adversarialSymbols[0], adversarialSymbols[2]]),
        ]
        let base = adversarialSymbols[1]
        func with(_ change: (inout SymbolConfiguration) -> Void) -> [SymbolConfiguration] {
            var symbol = base
            change(&symbol)
            return [adversarialSymbols[0], symbol, adversarialSymbols[2]]
        }
        variants += [
            ("name", with { $0.name = "GRIDS" }), ("tick", with { $0.tickSize = 10 }),
            ("lot", with { $0.lotSize = 50 }), ("min quantity", with { $0.minQuantity = 200 }),
            ("max quantity", with { $0.maxQuantity = 40_000 }), ("min price", with { $0.minPrice = 505 }),
            ("max price", with { $0.maxPrice = 1_495 }),
        ]
        for (name, symbols) in variants {
            Self.expectRefused(bytes, into: try Self.engine(symbols), Self.isOtherSymbols, "\(name)")
        }
    }

    @Test func anEngineTooSmallIsRefused() throws {
        let original = try Self.sampleEngine()
        let bytes = original.snapshotBytes()
        let small = try Self.engine(orderCapacity: original.restingOrderCount - 1)
        Self.expectRefused(bytes, into: small, Self.isCapacity, "order capacity")
        // Exactly enough room restores.
        let exact = try Self.engine(orderCapacity: original.restingOrderCount)
        try exact.restore(fromSnapshot: bytes)
        #expect(exact.stateHash() == original.stateHash())

        // Scattered ids need one used-id block each.
        let scattered = try Self.engine(orderCapacity: 100, usedIDBlockCapacity: 2_000)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<600 {
            let id = rng.next()
            scattered.submit(Self.new(id, .buy, 100, 1))
            scattered.submit(.cancel(CancelOrder(id: OrderID(id), account: AccountID(1), symbol: SymbolID(0))))
        }
        let few = try Self.engine(orderCapacity: 100, usedIDBlockCapacity: 100)
        Self.expectRefused(scattered.snapshotBytes(), into: few, Self.isCapacity, "used-id blocks")
    }

    @Test func onlyAFreshEngineTakesASnapshot() throws {
        let bytes = try Self.sampleEngine().snapshotBytes()
        let rejectedOnly = try Self.engine()
        rejectedOnly.submit(Self.new(1, .buy, -1, 1))
        let canceled = try Self.engine()
        canceled.submit(Self.new(1, .buy, 100, 1))
        canceled.submit(.cancel(CancelOrder(id: OrderID(1), account: AccountID(1), symbol: SymbolID(0))))
        let resting = try Self.engine()
        resting.submit(Self.new(1, .buy, 100, 1))
        let restoredOnce = try Self.engine()
        try restoredOnce.restore(fromSnapshot: bytes)
        for (name, engine) in [
            ("rejected only", rejectedOnly), ("canceled", canceled), ("resting", resting),
            ("restored", restoredOnce),
        ] {
            let before = engine.stateHash()
            Self.expectRefused(bytes, into: engine, { $0 == .engineNotEmpty }, "\(name)")
            #expect(engine.stateHash() == before, "\(name)")
        }
    }

    // MARK: Bytes that are not a snapshot

    static func smallEngine() throws -> Engine {
        let engine = try Self.engine()
        engine.submit(Self.new(1, .buy, 990, 3, account: 1))
        engine.submit(Self.new(2, .buy, 990, 4, account: 2))
        engine.submit(Self.new(3, .buy, 980, 5, account: 1, postOnly: true))
        engine.submit(Self.new(4, .sell, 1_010, 6, account: 3))
        engine.submit(Self.new(5, .sell, 1_020, 7, account: 3))
        engine.submit(Self.new(6, .buy, 1_010, 2, account: 4))  // partly fills 4
        engine.submit(Self.new(7, .sell, 1_000, 100, account: 1, symbol: 1))
        engine.submit(Self.new(1 << 40, .buy, 100, 2, account: 5, symbol: 2))
        return engine
    }

    @Test func everyTruncationIsMalformed() throws {
        let bytes = try Self.smallEngine().snapshotBytes()
        for length in 0..<bytes.count {
            Self.expectRefused(Array(bytes[0..<length]), into: try Self.engine(), Self.isMalformed, "\(length) bytes")
        }
    }

    @Test func trailingBytesAreMalformed() throws {
        let bytes = try Self.smallEngine().snapshotBytes()
        for extra: [UInt8] in [[0], [1, 2, 3], [UInt8](repeating: 0, count: 16)] {
            Self.expectRefused(bytes + extra, into: try Self.engine(), Self.isMalformed, "\(extra.count) extra")
        }
    }

    /// Any byte changed, any way: the restore throws, or it builds a sound engine that keeps
    /// working. Never a trap, never a broken book.
    @Test func anyChangedByteIsRefusedOrGivesASoundEngine() throws {
        let original = try Self.smallEngine()
        let bytes = original.snapshotBytes()
        var restoredCount = 0
        for offset in 0..<bytes.count {
            for mask: UInt8 in [0x01, 0x02, 0x10, 0x80, 0xFF] {
                var changed = bytes
                changed[offset] ^= mask
                let engine = try Self.engine()
                do {
                    try engine.restore(fromSnapshot: changed)
                } catch {
                    continue
                }
                restoredCount += 1
                let problems = engine.invariantViolations()
                #expect(problems == [], "byte \(offset) ^ \(mask): \(problems)")
                guard problems.isEmpty else { continue }
                for command in Self.probeFuture(engine, ids: [1, 2, 3, 4, 5, 6, 7]) { engine.submit(command) }
                #expect(engine.invariantViolations() == [], "byte \(offset) ^ \(mask), after commands")
            }
        }
        #expect(restoredCount > 0)  // prices, quantities, accounts, numbering: other valid engines
    }

    /// A snapshot written by hand after the layout in `Engine+Snapshot.swift`.
    struct HandMadeSnapshot {
        struct Order {
            var id: UInt64
            var account: UInt32 = 1
            var leaves: Int64 = 1
            var postOnly = false
        }

        var nextSequence: UInt64 = 100
        var nextTradeID: UInt64 = 7
        var symbols = adversarialSymbols
        /// Used ids (turned into blocks in this order).
        var used: [UInt64] = []
        /// Per symbol, per side (buy, sell): levels of (price, orders).
        var books: [[[(price: Int64, orders: [Order])]]] = Array(
            repeating: [[], []], count: adversarialSymbols.count)

        var bytes: [UInt8] {
            var out: [UInt8] = []
            func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            u64(0x4B4F_4F42_4E52_4843)
            u32(1)
            u64(nextSequence)
            u64(nextTradeID)
            u32(UInt32(symbols.count))
            for s in symbols {
                u32(UInt32(s.name.utf8.count))
                out += Array(s.name.utf8)
                for term in [s.tickSize, s.lotSize, s.minQuantity, s.maxQuantity, s.minPrice, s.maxPrice] {
                    u64(UInt64(bitPattern: term))
                }
            }
            var blocks: [(tag: UInt64, mask: UInt64)] = []
            for id in used {
                let tag = (id >> 6) + 1
                if let i = blocks.firstIndex(where: { $0.tag == tag }) {
                    blocks[i].mask |= 1 << (id & 63)
                } else {
                    blocks.append((tag, 1 << (id & 63)))
                }
            }
            u64(UInt64(blocks.count))
            for block in blocks {
                u64(block.tag)
                u64(block.mask)
            }
            for book in books {
                for side in book {
                    u32(UInt32(side.count))
                    for level in side {
                        u64(UInt64(bitPattern: level.price))
                        u32(UInt32(level.orders.count))
                        for order in level.orders {
                            u64(order.id)
                            u32(order.account)
                            u64(UInt64(bitPattern: order.leaves))
                            out.append(order.postOnly ? 1 : 0)
                        }
                    }
                }
            }
            return out
        }
    }

    @Test func theHandMadeLayoutMatchesTheEnginesSnapshot() throws {
        let engine = try Self.engine()
        engine.submit(Self.new(3, .buy, 990, 5, account: 2))
        engine.submit(Self.new(70, .sell, 1_000, 6, account: 4, postOnly: true))
        var snapshot = HandMadeSnapshot()
        snapshot.nextSequence = 3
        snapshot.nextTradeID = 1
        snapshot.used = [3, 70]
        snapshot.books[0] = [
            [(990, [.init(id: 3, account: 2, leaves: 5)])],
            [(1_000, [.init(id: 70, account: 4, leaves: 6, postOnly: true)])],
        ]
        let restored = try Self.engine()
        try restored.restore(fromSnapshot: snapshot.bytes)
        Self.expectIdentical(restored, engine, ids: Self.probeIDs([3, 70], seed: 2))
    }

    /// Impossible states written in a well-formed layout are `.malformed`: restoring them would
    /// give a book that breaks the engine's invariants.
    @Test func impossibleBooksAreMalformed() throws {
        var valid = HandMadeSnapshot()
        valid.used = [1, 2, 3]
        valid.books[0] = [[(990, [.init(id: 1), .init(id: 2)])], [(1_000, [.init(id: 3)])]]
        try Self.engine().restore(fromSnapshot: valid.bytes)

        var cases: [(String, HandMadeSnapshot)] = []
        var s = valid
        s.used = [1, 2]  // order 3 rests, but its id was never accepted
        cases.append(("a resting id not marked used", s))
        s = valid
        s.books[0][1] = [(990, [.init(id: 3)])]  // the ask at the bid's price
        cases.append(("a crossed book", s))
        s = valid
        s.books[0][1] = [(980, [.init(id: 3)])]
        cases.append(("a book crossed through", s))
        s = valid
        s.books[0][0] = [(990, [.init(id: 1, leaves: .max / 2 + 1), .init(id: 2, leaves: .max / 2 + 1)])]
        cases.append(("a level total beyond 64 bits", s))
        s = valid
        s.books[0][0] = [(990, [.init(id: 1), .init(id: 1)])]
        cases.append(("an order twice", s))
        s = valid
        s.books[2][0] = [(100, [.init(id: 1)])]
        cases.append(("an order in two books", s))
        s = valid
        s.books[0][0] = [(990, [.init(id: 1, leaves: 0), .init(id: 2)])]
        cases.append(("no quantity", s))
        s = valid
        s.books[0][0] = [(990, [.init(id: 1, leaves: -5), .init(id: 2)])]
        cases.append(("negative quantity", s))
        s = valid
        s.books[0][0] = [(990, [.init(id: 1)]), (990, [.init(id: 2)])]
        cases.append(("a price twice", s))
        s = valid
        s.books[0][0] = [(980, [.init(id: 1)]), (990, [.init(id: 2)])]
        cases.append(("levels worst first", s))
        s = valid
        s.books[0][0] = [(990, [.init(id: 1), .init(id: 2)]), (980, [])]
        cases.append(("an empty level", s))
        for (name, snapshot) in cases {
            let engine = try Self.engine()
            Self.expectRefused(snapshot.bytes, into: engine, Self.isMalformed, "\(name)")
        }
        var bytes = valid.bytes
        bytes[0] ^= 1
        Self.expectRefused(bytes, into: try Self.engine(), Self.isMalformed, "magic")
        bytes = valid.bytes
        bytes[8] = 2
        Self.expectRefused(bytes, into: try Self.engine(), Self.isMalformed, "version")
        var zeroTag = valid.bytes
        // The first used-id block's tag (after the header and the symbols) set to 0.
        let blocksAt = 8 + 4 + 8 + 8 + 4 + adversarialSymbols.reduce(0) { $0 + 4 + $1.name.utf8.count + 48 } + 8
        for i in 0..<8 { zeroTag[blocksAt + i] = 0 }
        Self.expectRefused(zeroTag, into: try Self.engine(), Self.isMalformed, "block tag 0")
    }

    // MARK: EngineLogReplay

    @Test(arguments: [UInt64(201), 202])
    func replayingTheLogEventByEventEqualsRecoverAndTheOriginal(seed: UInt64) throws {
        var run = try RecoveryTests.LoggedRun(seed: seed, orderCapacity: 1_000)
        run.run(4_000)
        let boundaries = Set(run.ends)
        let incremental = try RecoveryTests.engine(run.configuration)
        var replay = EngineLogReplay(incremental)
        #expect(replay.atCommandBoundary)
        var wrongBoundaries: [Int] = []
        for (index, event) in run.log.enumerated() {
            try replay.apply(event)
            if replay.atCommandBoundary != boundaries.contains(index + 1) { wrongBoundaries.append(index + 1) }
        }
        #expect(wrongBoundaries.isEmpty, "atCommandBoundary wrong after \(wrongBoundaries.prefix(10))")
        let summary = replay.finish()
        let whole = try RecoveryTests.engine(run.configuration)
        let recovered = try whole.recover(from: run.log)
        #expect(summary == recovered)
        #expect(summary.lastSequence == UInt64(run.log.count))
        #expect(incremental.stateHash() == run.engine.stateHash())
        #expect(whole.stateHash() == run.engine.stateHash())
    }

    /// What a snapshot writer does: follow the log, snapshot the follower at command boundaries;
    /// recovery restores one and replays the rest of the log.
    @Test(arguments: [UInt64(211), 212])
    func aSnapshotAtACommandBoundaryPlusTheRestOfTheLogIsTheOriginal(seed: UInt64) throws {
        var run = try RecoveryTests.LoggedRun(seed: seed, orderCapacity: 1_000)
        run.run(3_000, hashing: true)
        let follower = try RecoveryTests.engine(run.configuration)
        var following = EngineLogReplay(follower)
        var checked = 0
        for (index, event) in run.log.enumerated() {
            try following.apply(event)
            guard following.atCommandBoundary, index % 97 == 0 || index + 1 == run.log.count else { continue }
            let snapshot = follower.snapshotBytes()
            let start = index + 1
            let restored = try RecoveryTests.engine(run.configuration)
            try restored.restore(fromSnapshot: snapshot)
            #expect(restored.nextSequence == UInt64(start + 1))
            var rest = EngineLogReplay(restored)
            for stored in run.log[start...] { try rest.apply(stored) }
            let summary = rest.finish()
            #expect(summary.unpublishedTail.isEmpty)
            #expect(summary.lastSequence == UInt64(run.log.count))
            #expect(summary.events == run.log.count - start)
            #expect(restored.stateHash() == run.engine.stateHash(), "snapshot after event \(start)")
            checked += 1
        }
        #expect(checked > 10)
    }

    @Test func aLogCutInsideACommandAfterASnapshotGivesThatCommandsMissingEvents() throws {
        var run = try RecoveryTests.LoggedRun(seed: 221, orderCapacity: 1_000)
        run.run(2_000, hashing: true)
        let snapshotCommand = 500
        let start = run.ends[snapshotCommand]
        let follower = try RecoveryTests.engine(run.configuration)
        _ = try follower.recover(from: run.log[0..<start])
        let snapshot = follower.snapshotBytes()
        var checked = 0
        for (index, end) in run.ends.enumerated() where index > snapshotCommand + 1 {
            let begin = run.ends[index - 1]
            guard end - begin >= 3 else { continue }
            for cut in [begin + 1, begin + 2, end - 1] {
                let restored = try RecoveryTests.engine(run.configuration)
                try restored.restore(fromSnapshot: snapshot)
                var replay = EngineLogReplay(restored)
                for event in run.log[start..<cut] { try replay.apply(event) }
                #expect(!replay.atCommandBoundary)
                let summary = replay.finish()
                #expect(summary.unpublishedTail == Array(run.log[cut..<end]))
                #expect(summary.lastSequence == UInt64(cut))
                #expect(restored.stateHash() == run.hashes[index])
            }
            checked += 1
            if checked == 20 { break }
        }
        #expect(checked == 20)
    }

    @Test func aLogThatDoesNotContinueTheSnapshotIsRefused() throws {
        var run = try RecoveryTests.LoggedRun(seed: 231, orderCapacity: 1_000)
        run.run(600)
        let start = run.ends[299]
        let follower = try RecoveryTests.engine(run.configuration)
        _ = try follower.recover(from: run.log[0..<start])
        let restored = try RecoveryTests.engine(run.configuration)
        try restored.restore(fromSnapshot: follower.snapshotBytes())
        var replay = EngineLogReplay(restored)
        // The event after next: a gap.
        #expect(throws: RecoveryError.sequenceGap(expected: UInt64(start + 1), found: UInt64(start + 2))) {
            try replay.apply(run.log[start + 1])
        }
    }
}
