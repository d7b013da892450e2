import ChronosCore
import MarketData
import MatchingEngine
import Testing

/// The consumer side: updates in sequence rebuild the book; a skipped number is a gap, noticed at
/// once; a snapshot plus the updates after it bring the replica back.
@Suite struct MarketDataReplicaTests {
    /// A few orders on both sides of AAPL, their updates collected in order.
    private func flow(_ h: Harness) -> [MarketDataUpdate] {
        var updates: [MarketDataUpdate] = []
        for i in 0..<10 {
            updates += h.new(.buy, 10 + Quantity(i), at: 90 + Price(i % 4))
            updates += h.new(.sell, 10 + Quantity(i), at: 110 - Price(i % 5), account: 2)
        }
        updates += h.new(.buy, 35, at: 107, account: 3)  // trades through two offer levels
        updates += h.submit(.cancel(CancelOrder(id: OrderID(1), account: AccountID(1), symbol: h.aapl)))
        return updates
    }

    private func expectEqualsEngine(
        _ replica: MarketDataReplica, _ h: Harness, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let engineBook = h.engine.snapshot(replica.symbol)
        #expect(replica.levels(.buy) == engineBook.bids, sourceLocation: sourceLocation)
        #expect(replica.levels(.sell) == engineBook.asks, sourceLocation: sourceLocation)
        #expect(replica.bestBid == engineBook.bids.first, sourceLocation: sourceLocation)
        #expect(replica.bestOffer == engineBook.asks.first, sourceLocation: sourceLocation)
    }

    @Test func updatesInSequenceRebuildTheBook() throws {
        let h = try Harness()
        let replica = try MarketDataReplica(symbol: h.aapl)
        for update in flow(h) { #expect(replica.apply(update) == .applied) }
        #expect(replica.isLive)
        #expect(replica.sequence == h.book.sequence(h.aapl))
        #expect(replica.lastTrade != nil)
        expectEqualsEngine(replica, h)
    }

    @Test func duplicatesAndOtherSymbolsAreIgnored() throws {
        let h = try Harness()
        let replica = try MarketDataReplica(symbol: h.aapl)
        let updates = h.new(.buy, 10, at: 100) + h.new(.sell, 10, at: 200, symbol: h.msft)
        #expect(replica.apply(updates[0]) == .applied)
        #expect(replica.apply(updates[0]) == .duplicate)
        #expect(replica.apply(updates[2]) == .otherSymbol)
        #expect(replica.apply(updates[1]) == .applied)
        #expect(replica.isLive)
    }

    @Test func droppedUpdateIsAGapAndASnapshotPlusLaterUpdatesRecover() throws {
        let h = try Harness()
        let replica = try MarketDataReplica(symbol: h.aapl)
        let updates = flow(h)
        let dropped = 7
        for update in updates[..<dropped] { #expect(replica.apply(update) == .applied) }
        // Update 8 is lost: 9 reveals the gap, and the replica waits for a snapshot.
        #expect(replica.apply(updates[dropped + 1]) == .gap(expected: 8, received: 9))
        #expect(!replica.isLive)
        for update in updates[(dropped + 2)...] { #expect(replica.apply(update) == .buffered) }
        // The snapshot was taken when the book was at sequence 20 but arrives after everything:
        // kept updates up to 20 are dropped, the ones after it applied.
        let snapshot = try #require(snapshotAt(sequence: 20, of: updates, symbol: h.aapl))
        #expect(replica.apply(snapshot) == .applied)
        #expect(replica.isLive)
        #expect(replica.sequence == h.book.sequence(h.aapl))
        #expect(replica.gapCount == 1 && replica.snapshotCount == 1)
        expectEqualsEngine(replica, h)
    }

    @Test func lateJoinerStartsFromASnapshot() throws {
        let h = try Harness()
        let updates = flow(h)
        let replica = try MarketDataReplica(symbol: h.aapl)
        #expect(replica.apply(updates[30]) == .gap(expected: 1, received: 31))
        #expect(replica.apply(try #require(h.book.snapshot(h.aapl))) == .applied)
        expectEqualsEngine(replica, h)
        let more = h.new(.sell, 5, at: 120, account: 2)
        for update in more { #expect(replica.apply(update) == .applied) }
        expectEqualsEngine(replica, h)
    }

    @Test func snapshotThatIsTooOldKeepsTheReplicaWaiting() throws {
        let h = try Harness()
        let updates = flow(h)
        let replica = try MarketDataReplica(symbol: h.aapl)
        for update in updates[..<10] { replica.apply(update) }
        let old = try #require(snapshotAt(sequence: 12, of: updates, symbol: h.aapl))
        #expect(replica.apply(updates[15]) == .gap(expected: 11, received: 16))
        for update in updates[16...] { replica.apply(update) }
        // The snapshot is newer than the replica but older than the kept updates: 13…15 are lost.
        #expect(replica.apply(old) == .gap(expected: 13, received: 16))
        #expect(!replica.isLive)
        #expect(replica.apply(try #require(h.book.snapshot(h.aapl))) == .applied)
        expectEqualsEngine(replica, h)
    }

    @Test func staleOrPartialSnapshotsAreNotUsed() throws {
        let h = try Harness()
        let updates = flow(h)
        let replica = try MarketDataReplica(symbol: h.aapl)
        for update in updates { replica.apply(update) }
        let old = try #require(snapshotAt(sequence: 5, of: updates, symbol: h.aapl))
        #expect(replica.apply(old) == .unusableSnapshot)
        #expect(replica.apply(try #require(h.book.snapshot(h.aapl, depth: 1))) == .unusableSnapshot)
        #expect(replica.isLive)
        expectEqualsEngine(replica, h)
    }

    @Test func updateThatContradictsTheBookStartsRecovery() throws {
        let h = try Harness()
        let replica = try MarketDataReplica(symbol: h.aapl)
        let bogus = MarketDataUpdate.level(
            LevelUpdate(
                symbol: h.aapl, sequence: 1, eventSequence: 1, action: .change, side: .buy, price: 100, quantity: 5,
                orderCount: 1))
        #expect(replica.apply(bogus) == .inconsistent(sequence: 1))
        #expect(!replica.isLive)
        for update in flow(h) { replica.apply(update) }
        #expect(replica.apply(try #require(h.book.snapshot(h.aapl))) == .applied)
        expectEqualsEngine(replica, h)
    }

    @Test func fullBufferDropsTheOldestKeptUpdates() throws {
        let h = try Harness()
        let updates = flow(h)
        let replica = try MarketDataReplica(symbol: h.aapl, bufferCapacity: 4)
        replica.apply(updates[0])
        #expect(replica.apply(updates[2]) == .gap(expected: 2, received: 3))
        for update in updates[3..<13] { #expect(replica.apply(update) == .buffered) }
        #expect(replica.bufferedCount == 4)
        #expect(replica.droppedUpdates == 7)
        // A snapshot just before the four kept updates still recovers.
        let snapshot = try #require(snapshotAt(sequence: 9, of: updates, symbol: h.aapl))
        #expect(replica.apply(snapshot) == .applied)
        #expect(replica.sequence == 13)
    }

    @Test func invalidCapacitiesAreRefused() {
        #expect(throws: MarketDataSetupError.self) { try MarketDataReplica(symbol: SymbolID(0), bufferCapacity: 0) }
    }

    /// The snapshot a publisher would have taken right after update `sequence`: replayed from
    /// the updates themselves by a fresh replica.
    private func snapshotAt(sequence: UInt64, of updates: [MarketDataUpdate], symbol: SymbolID) -> MarketDataSnapshot? {
        guard let replica = try? MarketDataReplica(symbol: symbol) else { return nil }
        for update in updates where update.sequence <= sequence { replica.apply(update) }
        guard replica.isLive, replica.sequence == sequence else { return nil }
        return MarketDataSnapshot(
            symbol: symbol, sequence: sequence, eventSequence: 0, bids: replica.levels(.buy),
            offers: replica.levels(.sell))
    }
}
