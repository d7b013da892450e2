import ChronosCore

/// A shard's events as a store holds them, ready to rebuild its engine
/// (``MatchingEngine/Engine/recover(from:origin:)``).
public struct RecoveryLog: Sendable {
    /// The stored events 1…``highWaterMark``, contiguous.
    public var events: [EngineEvent]
    /// The store's high-water mark for the shard.
    public var highWaterMark: UInt64
    /// Events stored beyond the high-water mark (after a hole the persister had not filled):
    /// not part of the log, and overwritten in effect by the recovered engine's own numbering.
    public var eventsBeyondMark: Int
}

extension EventStore {
    /// The log to rebuild `shard` from: every stored event up to the high-water mark.
    ///
    /// - Throws: ``EventStoreError`` when the store recorded lost ranges within it (the books
    ///   cannot be rebuilt exactly from a log with holes), or when the stored events are not
    ///   contiguous up to the mark.
    public func recoveryLog(shard: Int) throws -> RecoveryLog {
        let mark = try highWaterMark(shard: shard)
        if let lost = try gaps(shard: shard).first(where: { $0.lowerBound <= mark }) {
            throw EventStoreError(
                "shard \(shard): events \(lost.lowerBound)–\(lost.upperBound) were lost before they were stored "
                    + "(recorded gaps); the books cannot be rebuilt exactly from this store")
        }
        let stored = try events(shard: shard)
        let log = Array(stored.prefix { $0.sequence <= mark })
        for (index, event) in log.enumerated() where event.sequence != UInt64(index + 1) {
            throw EventStoreError(
                "shard \(shard): the stored log skips from sequence \(index) to \(event.sequence) below the "
                    + "high-water mark \(mark)")
        }
        guard log.count == Int(mark) else {
            throw EventStoreError("shard \(shard): \(log.count) stored events up to the high-water mark \(mark)")
        }
        return RecoveryLog(events: log, highWaterMark: mark, eventsBeyondMark: stored.count - log.count)
    }
}
