import ChronosCore
import MarketData
import MatchingEngine
import Testing
import Workload

/// Follows one engine: every event goes to a market-data book, every update to a replica of its
/// symbol — except the ones it drops on purpose. A replica that reports the gap gets a snapshot
/// from the book, delivered a few updates late (so the updates after the snapshot are kept and
/// applied too). ``check()`` compares the book and every live replica with the engine's own book.
final class FeedChecker {
    let engine: Engine
    let book: MarketDataBook
    let replicas: [MarketDataReplica]
    private var sink = MarketDataUpdateBuffer()
    private var rng: SplitMix64
    private let dropOneIn: UInt64
    /// Per symbol: a snapshot on its way to the replica and how many more updates come first.
    private var inFlight: [(snapshot: MarketDataSnapshot, updatesBefore: Int)?]

    private(set) var events = 0
    private(set) var updates = 0
    private(set) var dropped = 0
    private(set) var gaps = 0
    private(set) var recoveries = 0
    private(set) var checks = 0
    /// Gaps found by a heartbeat at a check: the symbol's last updates were dropped.
    private(set) var tailGaps = 0
    /// Replica comparisons skipped because the replica was recovering at a check.
    private(set) var recoveringAtCheck = 0
    /// The first problems met (book outcomes other than `.applied`, replica surprises, mismatches).
    private(set) var problems: [String] = []

    init(engine: Engine, book: MarketDataBook, seed: UInt64, dropOneIn: UInt64) throws {
        self.engine = engine
        self.book = book
        replicas = try (0..<engine.symbolCount).map {
            try MarketDataReplica(symbol: SymbolID(UInt32($0)), levelCapacityPerSide: 65_536)
        }
        rng = SplitMix64(seed: seed)
        self.dropOneIn = dropOneIn
        inFlight = Array(repeating: nil, count: engine.symbolCount)
    }

    /// Feeds the events of the engine's last command.
    func afterCommand() {
        for event in engine.events {
            events += 1
            sink.clear()
            let outcome = book.apply(event, into: &sink)
            if outcome != .applied { note("event \(event.sequence): \(outcome)") }
            for update in sink.updates { deliver(update) }
        }
    }

    private func deliver(_ update: MarketDataUpdate) {
        updates += 1
        let s = Int(update.symbol.rawValue)
        if rng.next() % dropOneIn == 0 {
            dropped += 1
        } else {
            switch replicas[s].apply(update) {
            // A duplicate: the snapshot that ended a gap already included it.
            case .applied, .buffered, .duplicate: break
            case .gap: gapDetected(s)
            case let other: note("update \(update.sequence) of symbol \(s): \(other)")
            }
        }
        if let flight = inFlight[s] {
            if flight.updatesBefore > 0 {
                inFlight[s] = (flight.snapshot, flight.updatesBefore - 1)
            } else {
                inFlight[s] = nil
                let snapshot = flight.snapshot
                switch replicas[s].apply(snapshot) {
                case .applied: recoveries += 1
                case .gap: gapDetected(s)  // an update after the snapshot was dropped too
                case let other: note("snapshot \(snapshot.sequence) of symbol \(s): \(other)")
                }
            }
        }
    }

    private func gapDetected(_ s: Int) {
        gaps += 1
        guard inFlight[s] == nil, let snapshot = book.snapshot(SymbolID(UInt32(s))) else { return }
        inFlight[s] = (snapshot, Int(rng.next() % 40))
    }

    /// The book's levels equal the engine's for every symbol, and so do the live replicas'.
    func check() {
        checks += 1
        for s in 0..<engine.symbolCount {
            let symbol = SymbolID(UInt32(s))
            let expected = engine.snapshot(symbol)
            guard let actual = book.snapshot(symbol) else { return note("no snapshot of \(symbol)") }
            if actual.bids != expected.bids || actual.offers != expected.asks {
                note("after event \(book.lastEventSequence): book of \(symbol) differs from the engine's")
            }
            if book.bestBid(symbol) != engine.bestBid(symbol) || book.bestOffer(symbol) != engine.bestAsk(symbol) {
                note("after event \(book.lastEventSequence): top of \(symbol) differs from the engine's")
            }
            let replica = replicas[s]
            // A heartbeat with the symbol's last sequence reveals a lost tail.
            if case .gap = replica.applyHeartbeat(lastSequence: book.sequence(symbol)) {
                tailGaps += 1
                gapDetected(s)
            }
            guard replica.isLive else {
                recoveringAtCheck += 1
                continue
            }
            if replica.levels(.buy) != expected.bids || replica.levels(.sell) != expected.asks {
                note("after event \(book.lastEventSequence): replica of \(symbol) differs from the engine's")
            }
        }
    }

    /// Delivers the snapshots still on their way (then a fresh one to any replica still
    /// recovering), and checks everything one last time.
    func finish() {
        for s in 0..<engine.symbolCount {
            let replica = replicas[s]
            if let snapshot = inFlight[s]?.snapshot {
                inFlight[s] = nil
                if replica.apply(snapshot) == .applied { recoveries += 1 }
            }
            if !replica.isLive, let snapshot = book.snapshot(SymbolID(UInt32(s))) {
                if replica.apply(snapshot) == .applied { recoveries += 1 }
            }
            if !replica.isLive { note("replica of symbol \(s) did not recover") }
        }
        let invariants = book.invariantViolations()
        if !invariants.isEmpty { note("book invariants: \(invariants.prefix(3))") }
        check()
    }

    private func note(_ problem: String) {
        if problems.count < 10 { problems.append(problem) }
    }

    /// One line for the test log.
    var summary: String {
        "\(events) events, \(updates) updates, \(dropped) dropped, \(gaps) gaps (\(tailGaps) at a heartbeat), "
            + "\(recoveries) recoveries, "
            + "\(checks) checks (\(recoveringAtCheck) replica comparisons skipped while recovering)"
    }
}
