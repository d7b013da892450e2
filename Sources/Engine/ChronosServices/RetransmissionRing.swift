// RetransmissionRing: the last `capacity` published event frames, addressable by sequence.
//
// Invariants:
// - `storage` holds `capacity × frameSize` bytes, allocated once; the ring never grows.
// - Frames are appended with strictly consecutive sequence numbers (the engine's per-shard
//   numbering); frame `s` lives at slot `(s − 1) % capacity`.
// - After `append` of sequence `last`, the frames `max(1, last − capacity + 1) … last` are
//   available; older ones were overwritten.
// Safe because every slot index is reduced modulo `capacity` and every copy is `frameSize` bytes.

/// A bounded, preallocated store of the most recent event frames for gap recovery.
public struct RetransmissionRing: ~Copyable {
    private let storage: UnsafeMutableRawPointer
    /// Frames kept.
    public let capacity: Int
    /// Bytes per frame.
    public let frameSize: Int
    /// Sequence of the newest frame (0: empty).
    public private(set) var lastSequence: UInt64 = 0

    /// A ring for `capacity` frames of `frameSize` bytes.
    public init(capacity: Int, frameSize: Int) {
        precondition(capacity > 0 && frameSize > 0, "ring sizes must be positive")
        self.capacity = capacity
        self.frameSize = frameSize
        storage = .allocate(byteCount: capacity * frameSize, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Oldest sequence still available (0 when empty).
    public var firstSequence: UInt64 {
        guard lastSequence > 0 else { return 0 }
        return lastSequence >= UInt64(capacity) ? lastSequence - UInt64(capacity) + 1 : 1
    }

    /// Stores the frame of `sequence`, which must be `lastSequence + 1` (or the first append).
    /// Returns false, storing nothing, when the sequence is not the next one.
    @discardableResult
    public mutating func append(sequence: UInt64, frame: UnsafeRawBufferPointer) -> Bool {
        guard frame.count == frameSize, lastSequence == 0 || sequence == lastSequence &+ 1, sequence > 0 else {
            return false
        }
        let slot = Int((sequence - 1) % UInt64(capacity))
        (storage + slot * frameSize).copyMemory(from: frame.baseAddress!, byteCount: frameSize)
        lastSequence = sequence
        return true
    }

    /// Continues numbering after a restart: the next append must be `sequence + 1`; older frames
    /// are forgotten.
    public mutating func reset(after sequence: UInt64) {
        lastSequence = sequence
        forgottenBelow = sequence + 1
    }

    /// Sequences below this were never stored in this process (after ``reset(after:)``).
    private var forgottenBelow: UInt64 = 1

    /// The stored frame of `sequence`, if still available.
    public func frame(_ sequence: UInt64) -> UnsafeRawBufferPointer? {
        guard sequence >= max(firstSequence, forgottenBelow), sequence <= lastSequence, sequence > 0 else {
            return nil
        }
        let slot = Int((sequence - 1) % UInt64(capacity))
        return UnsafeRawBufferPointer(start: storage + slot * frameSize, count: frameSize)
    }

    /// The available range, `nil` when empty.
    public var available: ClosedRange<UInt64>? {
        let first = max(firstSequence, forgottenBelow)
        return lastSequence >= first && lastSequence > 0 ? first...lastSequence : nil
    }
}
