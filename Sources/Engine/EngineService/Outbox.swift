// Outbox: reports and publications held until the journal is on the device.
//
// With `machine` durability an event may be sent only once an `fdatasync` covered it. The engine
// thread puts each event's frame here with where it goes (the gateway of the command, the
// maker's gateway of a fill) and releases entries, oldest first, once the journal's synced mark
// reaches their sequence.
//
// Invariants:
// - `frames` holds `capacity × frameSize` bytes and `entries` `capacity` entries, allocated once.
// - Entries `head ..< head + count` (modulo capacity) are live, in sequence order.
// Safe because slots are indexed modulo `capacity`, copies are `frameSize` bytes and a frame is
// only pushed when it is at most `frameSize` bytes long (checked).

/// A preallocated FIFO of event frames waiting for the journal to be synced.
struct Outbox: ~Copyable {
    struct Entry {
        var sequence: UInt64
        var length: Int32
        /// Gateway numbers (0: none) the frame goes to, besides the PUB socket.
        var taker: UInt16
        var maker: UInt16
    }

    let capacity: Int
    let frameSize: Int
    private let frames: UnsafeMutableRawPointer
    private let entries: UnsafeMutablePointer<Entry>
    private var head = 0
    private(set) var count = 0

    init(capacity: Int, frameSize: Int) {
        precondition(capacity > 0 && frameSize > 0, "outbox sizes must be positive")
        self.capacity = capacity
        self.frameSize = frameSize
        frames = .allocate(byteCount: capacity * frameSize, alignment: 16)
        entries = .allocate(capacity: capacity)
    }

    deinit {
        frames.deallocate()
        entries.deallocate()
    }

    var isFull: Bool { count == capacity }
    var isEmpty: Bool { count == 0 }

    /// Holds `frame` (of `sequence`) for `taker` and `maker`; false when full or too long.
    mutating func push(_ frame: UnsafeRawBufferPointer, sequence: UInt64, taker: UInt16, maker: UInt16) -> Bool {
        guard count < capacity, frame.count <= frameSize else { return false }
        let slot = (head + count) % capacity
        (frames + slot * frameSize).copyMemory(from: frame.baseAddress!, byteCount: frame.count)
        entries[slot] = Entry(sequence: sequence, length: Int32(frame.count), taker: taker, maker: maker)
        count += 1
        return true
    }

    /// The oldest entry and its frame, when its sequence is at most `synced`.
    func first(upTo synced: UInt64) -> (entry: Entry, frame: UnsafeRawBufferPointer)? {
        guard count > 0, entries[head].sequence <= synced else { return nil }
        let entry = entries[head]
        return (entry, UnsafeRawBufferPointer(start: frames + head * frameSize, count: Int(entry.length)))
    }

    /// Drops the oldest entry.
    mutating func removeFirst() {
        precondition(count > 0, "removeFirst on an empty outbox")
        head = (head + 1) % capacity
        count -= 1
    }
}
