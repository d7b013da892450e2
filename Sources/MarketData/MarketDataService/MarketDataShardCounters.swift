import Synchronization

/// What one shard's market-data publisher did so far, readable from any thread (tests, metrics,
/// logs). Written by the shard's market-data thread only.
public final class MarketDataShardCounters: Sendable {
    /// Engine events applied to the book (during the catch-up too).
    public let eventsApplied = Atomic<Int>(0)
    /// Updates (level, trade, best bid/offer) published on the PUB socket.
    public let updatesPublished = Atomic<Int>(0)
    /// Heartbeats published (one per symbol per period).
    public let heartbeatsPublished = Atomic<Int>(0)
    /// Periodic snapshots published on the PUB socket.
    public let snapshotsPublished = Atomic<Int>(0)
    /// Snapshot requests answered with a snapshot.
    public let snapshotsServed = Atomic<Int>(0)
    /// Snapshot requests for a symbol that is not the shard's.
    public let unknownSymbolRequests = Atomic<Int>(0)
    /// Snapshot requests that were not a valid request frame.
    public let badRequests = Atomic<Int>(0)
    /// Messages the publisher or the responder could not send (refused, failed). ZeroMQ's drops at
    /// a subscriber's high-water mark are not among them: libzmq does not report those.
    public let failedSends = Atomic<Int>(0)
    /// Events the book reported a fault for (``MarketData/EventOutcome``).
    public let faults = Atomic<Int>(0)
    /// Events the shard's journal could no longer replay (the book is then impaired).
    public let lostEvents = Atomic<Int>(0)
    /// Symbols of the shard whose book may differ from the engine's.
    public let impairedSymbols = Atomic<Int>(0)
    /// The sequence of the last engine event applied.
    public let lastEventSequence = Atomic<UInt64>(0)
    /// The last sequence the engine announced (an event's or a heartbeat's), as last read.
    public let engineSequence = Atomic<UInt64>(0)
    /// The engine's last sequence when the publisher started: events up to it are rebuilt without
    /// being published.
    public let catchUpTarget = Atomic<UInt64>(0)
    /// True once the book reached ``catchUpTarget``: updates are published from then on.
    public let live = Atomic<Bool>(false)

    /// All zero.
    public init() {}
}
