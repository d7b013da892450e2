import ChronosCore

/// One batch of ``StoreItem``s made ready for the stores' write paths: each event as the columns
/// of its `events` row (unsigned ids and sequences as their `Int64` bit pattern), its re-encoded
/// wire frame in one contiguous buffer, the gaps, and the shards the batch touches. Built once
/// per transaction, with no per-event allocation but the rows' array itself.
struct StoreBatch {
    /// The `events` rows in batch order.
    var rows: [EventRow] = []
    /// The events, parallel to ``rows`` (their effects on `orders` and `trades`).
    var events: [EngineEvent] = []
    /// Every row's frame, back to back; row `i`'s is `frames[frameStarts[i]..<frameStarts[i + 1]]`.
    var frames: [UInt8] = []
    var frameStarts: [Int] = [0]
    /// The lost ranges, in batch order.
    var gaps: [Gap] = []
    /// The shards with an event or a gap in the batch, ascending.
    var shards: [Int] = []

    struct Gap {
        var shard: Int
        var from: UInt64
        var to: UInt64
    }

    /// - Parameter now: `recorded_at_ns` of events the persister did not time (Unix epoch, ns).
    init(_ items: [StoreItem], now: UInt64) throws {
        rows.reserveCapacity(items.count)
        events.reserveCapacity(items.count)
        frames.reserveCapacity(items.count * WireFormat.maxFrameSize)
        frameStarts.reserveCapacity(items.count + 1)
        var shardSet = Set<Int>()
        for item in items {
            switch item {
            case .event(let shard, let event, let timestamp, let recorded):
                rows.append(EventRow(shard: shard, event, timestamp: timestamp, recorded: recorded ?? now))
                events.append(event)
                try Self.appendFrame(shard: shard, event, timestamp: timestamp, to: &frames)
                frameStarts.append(frames.count)
                shardSet.insert(shard)
            case .gap(let shard, let from, let to):
                gaps.append(Gap(shard: shard, from: from, to: to))
                shardSet.insert(shard)
            }
        }
        shards = shardSet.sorted()
    }

    /// Row `index`'s wire frame.
    func frame(_ index: Int) -> ArraySlice<UInt8> { frames[frameStarts[index]..<frameStarts[index + 1]] }

    /// The event's wire frame (96 bytes), as the engine published it, appended to `frames`.
    static func appendFrame(shard: Int, _ event: EngineEvent, timestamp: UInt64, to frames: inout [UInt8]) throws {
        let frame = WireFrame(
            shard: UInt16(truncatingIfNeeded: shard), message: .event(event, clientTimestampNanos: timestamp))
        let start = frames.count
        frames.append(contentsOf: repeatElement(0, count: WireFormat.maxFrameSize))
        let result = frames.withUnsafeMutableBytes {
            frame.encode(into: UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
        }
        guard case .success(let length) = result else {
            throw EventStoreError("shard \(shard) sequence \(event.sequence): the event does not encode")
        }
        frames.removeLast(WireFormat.maxFrameSize - length)
    }

    /// The high-water mark of `shard` after this batch, counting only the batch's events and gaps:
    /// from `mark`, over every sequence that is the next one or inside a gap that covers the next
    /// one. The store may hold more beyond it (``SQLWriter`` looks).
    func walk(shard: Int, from start: UInt64) -> UInt64 {
        var sequences: [UInt64] = []
        for row in rows where row.shard == Int64(shard) { sequences.append(UInt64(bitPattern: row.sequence)) }
        sequences.sort()
        let shardGaps = gaps.filter { $0.shard == shard }
        var mark = start
        var next = 0
        while mark < UInt64.max {
            while next < sequences.count && sequences[next] <= mark { next += 1 }
            if next < sequences.count && sequences[next] == mark + 1 {
                mark += 1
            } else if let gap = shardGaps.first(where: { $0.from <= mark + 1 && $0.to >= mark + 1 }) {
                mark = gap.to
            } else {
                break
            }
        }
        return mark
    }
}

/// The `events` columns of one event but its frame, in the table's column order (``SQLDialect/schema``).
/// Unsigned values are their `Int64` bit pattern; nil is NULL.
struct EventRow {
    var shard: Int64
    var sequence: Int64
    var kind: Kind
    var orderID: Int64
    var account: Int64
    var symbol: Int64
    var side: Int64?
    var price: Int64?
    var quantity: Int64?
    var leavesQuantity: Int64?
    var counterOrderID: Int64?
    var counterAccount: Int64?
    var counterLeavesQuantity: Int64?
    var tradeID: Int64?
    var reason: Int64?
    var clientTimestamp: Int64
    var recordedAt: Int64

    /// The `kind` column.
    enum Kind {
        case accepted, rejected, fill, canceled, replaced

        /// The column's text: a constant, which binds and `COPY` read in place.
        var name: StaticString {
            switch self {
            case .accepted: "accepted"
            case .rejected: "rejected"
            case .fill: "fill"
            case .canceled: "canceled"
            case .replaced: "replaced"
            }
        }
    }

    init(shard: Int, _ event: EngineEvent, timestamp: UInt64, recorded: UInt64) {
        self.shard = Int64(shard)
        sequence = Int64(bitPattern: event.sequence)
        clientTimestamp = Int64(bitPattern: timestamp)
        recordedAt = Int64(bitPattern: recorded)
        switch event {
        case .accepted(let e):
            kind = .accepted
            orderID = Int64(bitPattern: e.id.rawValue)
            account = Int64(e.account.rawValue)
            symbol = Int64(e.symbol.rawValue)
            side = Int64(e.side.rawValue)
            price = e.price
            quantity = e.quantity
            leavesQuantity = e.quantity
        case .rejected(let e):
            kind = .rejected
            orderID = Int64(bitPattern: e.id.rawValue)
            account = Int64(e.account.rawValue)
            symbol = Int64(e.symbol.rawValue)
            reason = Int64(e.reason.rawValue)
        case .fill(let e):
            kind = .fill
            orderID = Int64(bitPattern: e.takerID.rawValue)
            account = Int64(e.takerAccount.rawValue)
            symbol = Int64(e.symbol.rawValue)
            side = Int64(e.takerSide.rawValue)
            price = e.price
            quantity = e.quantity
            leavesQuantity = e.takerLeaves
            counterOrderID = Int64(bitPattern: e.makerID.rawValue)
            counterAccount = Int64(e.makerAccount.rawValue)
            counterLeavesQuantity = e.makerLeaves
            tradeID = Int64(bitPattern: e.tradeID.rawValue)
        case .canceled(let e):
            kind = .canceled
            orderID = Int64(bitPattern: e.id.rawValue)
            account = Int64(e.account.rawValue)
            symbol = Int64(e.symbol.rawValue)
            side = Int64(e.side.rawValue)
            quantity = e.quantity
            reason = Int64(e.reason.rawValue)
        case .replaced(let e):
            kind = .replaced
            orderID = Int64(bitPattern: e.id.rawValue)
            account = Int64(e.account.rawValue)
            symbol = Int64(e.symbol.rawValue)
            side = Int64(e.side.rawValue)
            price = e.price
            quantity = e.quantity
            leavesQuantity = e.quantity
        }
    }
}
