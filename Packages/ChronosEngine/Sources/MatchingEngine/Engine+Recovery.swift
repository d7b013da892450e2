import ChronosCore

// Recovery: an engine rebuilt from its own event log.
//
// The engine is deterministic, and every command leaves its terms in the event that answers it:
// `accepted` holds a new order's terms, `replaced` a replace's new price and open quantity, and
// `canceled` with reason `requested` a cancel. Replaying those commands in sequence order on an
// empty engine produces the same events again — fills, self-trade and remainder cancels included —
// and so the same books, id set and numbering. Each rebuilt event is compared with the stored one,
// so a log that does not describe this engine (another configuration, a damaged store) is an
// error naming the first difference, never a silently different book. A `rejected` event changed
// nothing but the numbering: it is skipped and its sequence number kept.

/// Why an engine could not be rebuilt from a log.
public enum RecoveryError: Error, Equatable, CustomStringConvertible {
    /// Recovery needs a fresh engine (no event yet).
    case engineNotEmpty
    /// The log is not contiguous: `expected` was due, `found` came.
    case sequenceGap(expected: UInt64, found: UInt64)
    /// An event that no command answers (a fill, or an automatic cancel) where a command's answer
    /// was due: the log does not start a command's block here.
    case unexplainedEvent(EngineEvent)
    /// Replaying the log's command produced `rebuilt` where the log holds `stored`.
    case diverged(stored: EngineEvent, rebuilt: EngineEvent)

    public var description: String {
        switch self {
        case .engineNotEmpty: "recovery needs an engine that has not processed any command"
        case .sequenceGap(let expected, let found): "the log skips from sequence \(expected) to \(found)"
        case .unexplainedEvent(let event):
            "sequence \(event.sequence): \(event) answers no command (the log does not match this engine)"
        case .diverged(let stored, let rebuilt):
            "sequence \(stored.sequence): the log holds \(stored) but replaying it gives \(rebuilt) "
                + "(another engine configuration, or a damaged store)"
        }
    }
}

/// What a recovery rebuilt.
public struct RecoverySummary: Hashable, Sendable {
    /// Commands replayed (new orders, cancels and replaces).
    public var commands = 0
    /// Stored events read, rejected ones included.
    public var events = 0
    /// The last sequence the log held (0: empty log).
    public var lastSequence: UInt64 = 0
    /// Events the last command produced beyond the end of the log: the engine had not published
    /// them all when it stopped (a crash between two events of one command). They are part of the
    /// rebuilt state; the service publishes them before taking new commands.
    public var unpublishedTail: [EngineEvent] = []

    /// An empty summary: nothing recovered yet.
    public init() {}
}

extension Engine {
    /// Rebuilds this (fresh) engine from `log`, the events it published from sequence 1 on, and
    /// leaves it ready to continue with the next sequence and trade numbers.
    ///
    /// - Parameters:
    ///   - log: events in sequence order, contiguous from 1.
    ///   - origin: the ``NewOrder/origin`` tag to give each recovered order (the service's number
    ///     for the gateway that sent it); not part of matching.
    /// - Returns: counts, the last sequence, and the events of a command the log holds only
    ///   partly.
    /// - Throws: ``RecoveryError`` at the first event the replay cannot reproduce; the engine is
    ///   then unusable for recovery (build a new one).
    public func recover(
        from log: some Sequence<EngineEvent>, origin: (OrderID) -> UInt16 = { _ in 0 }
    ) throws(RecoveryError) -> RecoverySummary {
        guard nextSequence == 1, restingOrderCount == 0 else { throw .engineNotEmpty }
        // The replay lives only for this call: `origin` does not escape it.
        return try withoutActuallyEscaping(origin) { origin throws(RecoveryError) in
            var replay = EngineLogReplay(self, origin: origin)
            for event in log { try replay.apply(event) }
            return replay.finish()
        }
    }
}

/// Rebuilds an engine from its event log one stored event at a time: the incremental form of
/// ``Engine/recover(from:origin:)``, for a log read from a journal after a snapshot, or followed
/// live by a snapshot writer.
///
/// Each command's answer (`accepted`, `replaced`, `canceled` by request) is replayed as that
/// command, and every stored event after it is compared with the rebuilt one.
public struct EngineLogReplay {
    /// The engine being rebuilt (restored from a snapshot, or fresh).
    public let engine: Engine
    private let origin: (OrderID) -> UInt16
    /// Index in `engine.events` of the next rebuilt event a stored one must match.
    private var pending = 0
    private var replayedCommand = false
    /// What was replayed so far.
    public private(set) var summary = RecoverySummary()

    /// A replay onto `engine`, whose next event the log must continue (sequence
    /// `engine.nextSequence`).
    public init(_ engine: Engine, origin: @escaping (OrderID) -> UInt16 = { _ in 0 }) {
        self.engine = engine
        self.origin = origin
        summary.lastSequence = engine.nextSequence - 1
    }

    /// True when every event of the last replayed command was matched by a stored one: the log
    /// read so far ends at a command boundary (a snapshot may be taken).
    public var atCommandBoundary: Bool { !replayedCommand || pending == engine.events.count }

    /// Applies the next stored event.
    public mutating func apply(_ stored: EngineEvent) throws(RecoveryError) {
        if replayedCommand && pending < engine.events.count {
            let rebuilt = engine.events[pending]
            guard stored == rebuilt.withoutOrigin else { throw .diverged(stored: stored, rebuilt: rebuilt) }
            pending += 1
            summary.events += 1
            summary.lastSequence = stored.sequence
            return
        }
        guard stored.sequence == engine.nextSequence else {
            throw .sequenceGap(expected: engine.nextSequence, found: stored.sequence)
        }
        let command: EngineCommand
        switch stored {
        case .accepted(let e):
            command = .new(
                NewOrder(
                    id: e.id, account: e.account, symbol: e.symbol, side: e.side, type: e.type,
                    timeInForce: e.timeInForce, price: e.price, quantity: e.quantity, postOnly: e.postOnly,
                    origin: origin(e.id)))
        case .canceled(let e) where e.reason == .requested:
            command = .cancel(CancelOrder(id: e.id, account: e.account, symbol: e.symbol))
        case .replaced(let e):
            command = .replace(engine.replaceReproducing(e))
        case .rejected:
            engine.resumeNumbering(sequence: engine.nextSequence + 1, tradeID: engine.nextTradeID)
            replayedCommand = false
            summary.events += 1
            summary.lastSequence = stored.sequence
            return
        case .fill, .canceled:
            throw .unexplainedEvent(stored)
        }
        engine.submit(command)
        replayedCommand = true
        summary.commands += 1
        pending = 0
        try apply(stored)
    }

    /// Ends the replay: the events of the last command that the log lacks become
    /// ``RecoverySummary/unpublishedTail``.
    public mutating func finish() -> RecoverySummary {
        if replayedCommand {
            while pending < engine.events.count {
                summary.unpublishedTail.append(engine.events[pending])
                pending += 1
            }
        }
        return summary
    }
}

extension Engine {
    /// A replace command that gives `replaced` on this engine: a term the order already has is
    /// left out, as the original command most likely did (a quantity given explicitly is checked
    /// against the symbol's minimum, an unchanged one is not).
    func replaceReproducing(_ replaced: OrderReplaced) -> ReplaceOrder {
        var command = ReplaceOrder(id: replaced.id, account: replaced.account, symbol: replaced.symbol)
        let current = restingOrder(replaced.id)
        if current?.price != replaced.price { command.price = replaced.price }
        if current?.leavesQuantity != replaced.quantity { command.quantity = replaced.quantity }
        if command.price == nil && command.quantity == nil { command.price = replaced.price }
        return command
    }
}

extension EngineEvent {
    /// The event as it travels and is stored: a fill's ``Fill/makerOrigin`` is engine-side only.
    var withoutOrigin: EngineEvent {
        guard case .fill(var fill) = self, fill.makerOrigin != 0 else { return self }
        fill.makerOrigin = 0
        return .fill(fill)
    }
}
