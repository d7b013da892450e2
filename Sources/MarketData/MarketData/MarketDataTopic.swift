import ChronosCore

/// The topic part that starts every message on the market-data PUB socket, so that a ZeroMQ
/// subscriber filters by symbol (`ZMQ_SUBSCRIBE` with a symbol's topic; the empty prefix takes
/// every symbol).
///
/// A topic is the symbol's name in UTF-8 followed by one 0 byte: the terminator keeps `AAPL` from
/// matching `AAPLX` (ZeroMQ matches prefixes).
public enum MarketDataTopic {
    /// The topic of the symbol named `name`.
    public static func bytes(_ name: String) -> [UInt8] { Array(name.utf8) + [0] }

    /// The symbol name a topic part carries, or nil when it is not a topic (no terminator, or
    /// not UTF-8).
    public static func name(_ topic: UnsafeRawBufferPointer) -> String? {
        guard let last = topic.last, last == 0 else { return nil }
        return String(validating: topic.dropLast(), as: UTF8.self)
    }
}

extension MarketDataSnapshot {
    /// The snapshot a ``SnapshotHeader`` with status ``SnapshotStatus/ok`` and its level frames
    /// describe: `levels` are the `bidCount` bids then the `offerCount` offers. Nil when the
    /// levels do not match the header (another symbol, another sequence, a count or a side that
    /// differs, not `new`).
    public init?(_ header: SnapshotHeader, levels: [LevelUpdate]) {
        let bidCount = Int(header.bidCount)
        guard header.status == .ok, levels.count == bidCount + Int(header.offerCount) else { return nil }
        for (i, level) in levels.enumerated() {
            guard level.symbol == header.symbol, level.sequence == header.sequence, level.action == .new,
                level.side == (i < bidCount ? .buy : .sell)
            else { return nil }
        }
        let summary = { (level: LevelUpdate) in
            LevelSummary(price: level.price, quantity: level.quantity, orderCount: level.orderCount)
        }
        self.init(
            symbol: header.symbol, sequence: header.sequence, eventSequence: header.eventSequence,
            bids: levels[..<bidCount].map(summary), offers: levels[bidCount...].map(summary),
            isComplete: header.isComplete)
    }
}
