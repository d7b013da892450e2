/// Where a ``MarketDataBook`` puts the updates an event produces: a publisher's encoder, a
/// replica, or a ``MarketDataUpdateBuffer``.
///
/// The book calls ``publish(_:)`` synchronously, in sequence order, while it applies an event.
/// A sink on the hot path should neither allocate nor block.
public protocol MarketDataSink {
    /// Receives one update.
    mutating func publish(_ update: MarketDataUpdate)
}

/// A reusable buffer of updates: ``clear()`` it before an event, read ``updates`` after.
///
/// Its storage is reserved once; as long as no event produces more updates than the reserved
/// capacity, appending never allocates. One event of a consistent stream produces at most 4 (a
/// fill: the trade, the maker's level, the taker's remainder resting, the best bid/offer); a
/// fault can add a few (an incoming order rested late, a second symbol's top). The default
/// capacity, 16, covers both.
public struct MarketDataUpdateBuffer: MarketDataSink {
    /// The updates published since the last ``clear()``, in order.
    public private(set) var updates: [MarketDataUpdate] = []

    /// An empty buffer with room for `capacity` updates.
    public init(capacity: Int = 16) { updates.reserveCapacity(max(capacity, 1)) }

    /// Appends `update`.
    public mutating func publish(_ update: MarketDataUpdate) { updates.append(update) }

    /// Forgets the updates, keeping the storage.
    public mutating func clear() { updates.removeAll(keepingCapacity: true) }
}
