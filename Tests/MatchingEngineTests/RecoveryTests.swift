import ChronosCore
import MatchingEngine
import Testing

/// `Engine.recover(from:origin:)`: an engine rebuilt from its own event log is the engine that
/// wrote it — same books, ids, numbering — and goes on producing the same events.
@Suite struct RecoveryTests {
    /// One engine driven by the adversarial stream (every command kind, outcome and bad value),
    /// with its whole event log and, per command, the log position after it and the state hash.
    struct LoggedRun {
        let configuration: EngineConfiguration
        let engine: Engine
        let reference: ReferenceExchange
        var stream: AdversarialStream
        var log: [EngineEvent] = []
        /// `log.count` after each command.
        var ends: [Int] = []
        var hashes: [UInt64] = []

        init(seed: UInt64, orderCapacity: Int, accounts: UInt32 = 3, maxResting: Int = 300) throws {
            configuration = EngineConfiguration(orderCapacity: orderCapacity, symbolCapacity: 8)
            engine = try RecoveryTests.engine(configuration)
            reference = ReferenceExchange(configuration: configuration, symbols: adversarialSymbols)
            stream = AdversarialStream(
                seed: seed, accounts: accounts, maxResting: maxResting, ceiling: configuration.quantityCeiling)
        }

        /// Runs `count` more commands; `hashing` records the state hash after each.
        mutating func run(_ count: Int, hashing: Bool = false) {
            for _ in 0..<count {
                let command = stream.next(shadow: reference)
                _ = reference.process(command)
                engine.submit(command)
                log += engine.events
                ends.append(log.count)
                if hashing { hashes.append(engine.stateHash()) }
            }
        }
    }

    static func engine(_ configuration: EngineConfiguration) throws -> Engine {
        let engine = try Engine(configuration: configuration)
        for symbol in adversarialSymbols { try engine.addSymbol(symbol) }
        return engine
    }

    @Test(arguments: [(UInt64(21), 100_000), (22, 64), (23, 5_000)])
    func aRecoveredEngineEqualsTheOriginalAndGoesOnIdentically(seed: UInt64, orderCapacity: Int) throws {
        var run = try LoggedRun(seed: seed, orderCapacity: orderCapacity)
        run.run(12_000)
        let recovered = try Self.engine(run.configuration)
        let summary = try recovered.recover(from: run.log)

        #expect(summary.lastSequence == run.engine.nextSequence - 1)
        #expect(summary.events == run.log.count)
        #expect(summary.unpublishedTail.isEmpty)
        #expect(summary.commands > 4_000)  // rejected commands are skipped, not replayed
        #expect(recovered.stateHash() == run.engine.stateHash())
        #expect(recovered.nextTradeID == run.engine.nextTradeID)
        #expect(recovered.invariantViolations() == [])
        for s in 0..<adversarialSymbols.count {
            for side in Side.allCases {
                let symbol = SymbolID(UInt32(s))
                #expect(recovered.restingOrders(symbol, side) == run.engine.restingOrders(symbol, side))
            }
        }
        // The same next commands give the same events on both: ids used before stay used (a
        // duplicate id is rejected on both), numbering continues.
        for _ in 0..<5_000 {
            let command = run.stream.next(shadow: run.reference)
            _ = run.reference.process(command)
            run.engine.submit(command)
            let expected = Array(run.engine.events)
            recovered.submit(command)
            #expect(Array(recovered.events) == expected, "after recovery: \(command)")
            if Array(recovered.events) != expected { break }
        }
        #expect(recovered.stateHash() == run.engine.stateHash())
    }

    @Test func aLogEndingInsideACommandsEventsRebuildsTheWholeCommandAndReturnsTheRest() throws {
        var run = try LoggedRun(seed: 31, orderCapacity: 1_000)
        run.run(3_000, hashing: true)
        // Commands whose answer is followed by fills (or remainder cancels): cut after the answer
        // and after the first fill.
        var checked = 0
        for (index, end) in run.ends.enumerated() where index > 0 && end - run.ends[index - 1] >= 3 {
            let start = run.ends[index - 1]
            for cut in [start + 1, start + 2] {
                let recovered = try Self.engine(run.configuration)
                let summary = try recovered.recover(from: run.log[0..<cut])
                #expect(summary.unpublishedTail == Array(run.log[cut..<end]))
                #expect(summary.lastSequence == UInt64(cut))
                #expect(recovered.stateHash() == run.hashes[index])
                #expect(recovered.nextSequence == UInt64(end + 1))
            }
            checked += 1
            if checked == 25 { break }
        }
        #expect(checked == 25)
    }

    @Test func recoveredOrdersCarryTheOriginTheServiceGives() throws {
        let configuration = EngineConfiguration(orderCapacity: 100)
        let engine = try Engine(configuration: configuration)
        let symbol = try engine.addSymbol(SymbolConfiguration(name: "X"))
        let maker = OrderID(7 << 48 | 1)
        engine.submit(
            .new(NewOrder(id: maker, account: AccountID(1), symbol: symbol, side: .sell, price: 100, quantity: 5)))
        let log = Array(engine.events)

        let recovered = try Engine(configuration: configuration)
        _ = try recovered.addSymbol(SymbolConfiguration(name: "X"))
        _ = try recovered.recover(from: log) { id in UInt16(id.rawValue >> 48) + 100 }
        recovered.submit(
            .new(NewOrder(id: OrderID(2), account: AccountID(2), symbol: symbol, side: .buy, price: 100, quantity: 5)))
        guard case .fill(let fill) = recovered.events.last else {
            Issue.record("no fill: \(Array(recovered.events))")
            return
        }
        #expect(fill.makerID == maker)
        #expect(fill.makerOrigin == 107)
    }

    @Test func aLogThatDoesNotDescribeThisEngineIsAnErrorNamingTheFirstDifference() throws {
        var run = try LoggedRun(seed: 41, orderCapacity: 1_000)
        run.run(2_000)
        let firstFill = try #require(run.log.firstIndex { if case .fill = $0 { true } else { false } })

        // A fill whose quantity was altered.
        var altered = run.log
        guard case .fill(var fill) = altered[firstFill] else { return }
        fill.quantity += 1
        altered[firstFill] = .fill(fill)
        #expect(throws: RecoveryError.diverged(stored: altered[firstFill], rebuilt: run.log[firstFill])) {
            try Self.engine(run.configuration).recover(from: altered)
        }

        // A missing event.
        var holed = run.log
        holed.remove(at: 100)
        #expect(throws: RecoveryError.sequenceGap(expected: 101, found: 102)) {
            try Self.engine(run.configuration).recover(from: holed)
        }

        // A log that starts in the middle of a command's events.
        #expect(throws: RecoveryError.sequenceGap(expected: 1, found: run.log[firstFill].sequence)) {
            try Self.engine(run.configuration).recover(from: run.log[firstFill...])
        }
        guard case .fill(var orphan) = run.log[firstFill] else { return }
        orphan.sequence = 1
        #expect(throws: RecoveryError.unexplainedEvent(.fill(orphan))) {
            try Self.engine(run.configuration).recover(from: [EngineEvent.fill(orphan)])
        }

        // Another engine configuration: the symbols in another order, so orders meet other limits.
        let other = try Engine(configuration: run.configuration)
        for symbol in adversarialSymbols.reversed() { try other.addSymbol(symbol) }
        #expect(throws: RecoveryError.self) { try other.recover(from: run.log) }

        // An engine that already traded.
        let used = try Self.engine(run.configuration)
        _ = try used.recover(from: run.log)
        #expect(throws: RecoveryError.engineNotEmpty) { try used.recover(from: run.log) }
    }

    @Test func anEmptyLogLeavesAFreshEngine() throws {
        let engine = try Self.engine(EngineConfiguration(orderCapacity: 100))
        let summary = try engine.recover(from: [])
        #expect(summary == RecoverySummary())
        #expect(engine.nextSequence == 1)
    }
}
