import ChronosCore

// Snapshots: an engine's whole state as bytes, and an engine rebuilt from them.
//
// A snapshot holds what the engine needs to go on exactly as before: the next sequence and trade
// numbers, every symbol's terms (checked on restore, so a snapshot never lands on other
// symbols), the set of used order ids, and every resting order of every book in priority order
// (best level first, oldest order first). Restoring places the orders straight into the pools —
// no matching, no validation against today's limits — so the books, their queues and the state
// hash come back identical. Layout (little-endian):
//
// ```
// "CHRNBOOK" u64 · version u32 · nextSequence u64 · nextTradeID u64
// symbolCount u32 · per symbol: nameLength u32, name, tick, lot, minQty, maxQty, minPrice, maxPrice (i64)
// usedBlocks u64 · per block: tag u64, mask u64          (UsedOrderIDs' table entries)
// per symbol, per side (buy, sell): levels u32 · per level: price i64, orders u32 ·
//     per order: id u64, account u32, leaves i64, postOnly u8
// ```

/// Why a snapshot could not be restored.
public enum SnapshotError: Error, Equatable, CustomStringConvertible {
    /// The bytes end early or hold an impossible value.
    case malformed(String)
    /// The snapshot's symbols differ from the engine's.
    case otherSymbols(String)
    /// The engine's pools are too small for the snapshot.
    case capacity(String)
    /// Restore needs a fresh engine.
    case engineNotEmpty

    public var description: String {
        switch self {
        case .malformed(let why): "malformed snapshot: \(why)"
        case .otherSymbols(let why): "the snapshot's symbols differ from the engine's: \(why)"
        case .capacity(let why): "the engine is too small for the snapshot: \(why)"
        case .engineNotEmpty: "a snapshot is restored into an engine that has processed no command"
        }
    }
}

extension Engine {
    static let snapshotMagic: UInt64 = 0x4B4F_4F42_4E52_4843  // "CHRNBOOK"
    static let snapshotVersion: UInt32 = 1

    /// The engine's state as bytes (see the layout above). Allocates; call between commands.
    /// O(resting orders + used-id blocks).
    public func snapshotBytes() -> [UInt8] {
        var out = ByteSink()
        let c = core.pointee
        out.u64(Self.snapshotMagic)
        out.u32(Self.snapshotVersion)
        out.u64(c.nextSequence)
        out.u64(c.nextTradeID)
        out.u32(UInt32(symbolCount))
        for b in 0..<symbolCount {
            let s = symbolConfiguration(SymbolID(UInt32(b)))
            let name = Array(s.name.utf8)
            out.u32(UInt32(name.count))
            out.bytes.append(contentsOf: name)
            for term in [s.tickSize, s.lotSize, s.minQuantity, s.maxQuantity, s.minPrice, s.maxPrice] { out.i64(term) }
        }
        out.u64(UInt64(c.usedIDs.blockCount))
        for i in 0...c.usedIDs.mask where c.usedIDs.entries[i].block != 0 {
            out.u64(c.usedIDs.entries[i].block)
            out.u64(c.usedIDs.entries[i].used)
        }
        for b in 0..<symbolCount {
            for side in [Side.buy, .sell] {
                let countAt = out.bytes.count
                out.u32(0)
                var levels: UInt32 = 0
                var level = c.books[b].best(side)
                while level >= 0 {
                    levels += 1
                    out.i64(c.levels[level].price)
                    out.u32(UInt32(c.levels[level].orderCount))
                    var h = c.levels[level].head
                    while h >= 0 {
                        let o = c.orders[h]
                        out.u64(o.id)
                        out.u32(o.account)
                        out.i64(o.leaves)
                        out.bytes.append(o.postOnly ? 1 : 0)
                        h = o.next
                    }
                    level = c.levels[level].worse
                }
                out.patch(u32: levels, at: countAt)
            }
        }
        return out.bytes
    }

    /// Rebuilds this engine — fresh, with the snapshot's symbols added in the same order and
    /// terms — from `bytes`. Afterwards it continues as the snapshotted engine did.
    ///
    /// Bytes that would give a state the engine never holds — a resting order whose id is not
    /// used, a crossed book, a level total beyond 64 bits — are ``SnapshotError/malformed(_:)``.
    ///
    /// - Parameter origin: the ``NewOrder/origin`` tag to give each restored order.
    public func restore(fromSnapshot bytes: [UInt8], origin: (OrderID) -> UInt16 = { _ in 0 }) throws(SnapshotError) {
        guard nextSequence == 1, restingOrderCount == 0, !core.pointee.usedIDs.hasAny else {
            throw .engineNotEmpty
        }
        var input = ByteSource(bytes)
        guard try input.u64() == Self.snapshotMagic else { throw .malformed("not an engine snapshot") }
        let version = try input.u32()
        guard version == Self.snapshotVersion else { throw .malformed("version \(version)") }
        let sequence = try input.u64()
        let tradeID = try input.u64()
        let symbols = Int(try input.u32())
        guard symbols == symbolCount else {
            throw .otherSymbols("the snapshot has \(symbols) symbols, the engine \(symbolCount)")
        }
        for b in 0..<symbols {
            let length = Int(try input.u32())
            let name = String(decoding: try input.take(length), as: UTF8.self)
            var terms: [Int64] = []
            for _ in 0..<6 { terms.append(try input.i64()) }
            let s = symbolConfiguration(SymbolID(UInt32(b)))
            guard name == s.name,
                terms == [s.tickSize, s.lotSize, s.minQuantity, s.maxQuantity, s.minPrice, s.maxPrice]
            else {
                throw .otherSymbols("symbol \(b) is \(name) \(terms) in the snapshot, \(s.name) in the engine")
            }
        }
        let blocks = try input.u64()
        guard blocks <= UInt64(core.pointee.usedIDs.maxBlocks) else {
            throw .capacity("\(blocks) used-id blocks, room for \(core.pointee.usedIDs.maxBlocks) (raise id_capacity)")
        }
        for _ in 0..<blocks {
            let tag = try input.u64()
            let mask = try input.u64()
            guard tag != 0 else { throw .malformed("an empty used-id block") }
            core.pointee.usedIDs.insertBlock(tag: tag, mask: mask)
        }
        for b in 0..<symbols {
            for side in [Side.buy, .sell] {
                let levels = try input.u32()
                var previous: Int64?
                for _ in 0..<levels {
                    let price = try input.i64()
                    if let previous, !isBetter(previous, than: price, on: side) {
                        throw .malformed("levels out of price order")
                    }
                    previous = price
                    let orders = try input.u32()
                    guard orders > 0 else { throw .malformed("an empty level") }
                    var total: Int64 = 0
                    for _ in 0..<orders {
                        let id = try input.u64()
                        let account = try input.u32()
                        let leaves = try input.i64()
                        let postOnly = try input.take(1).first != 0
                        guard leaves > 0 else { throw .malformed("order \(id) rests with \(leaves) lots") }
                        // What the engine never holds: a resting id it did not accept, a level total
                        // beyond 64 bits.
                        guard core.pointee.usedIDs.contains(id) else {
                            throw .malformed("order \(id) rests, but its id is not among the used ids")
                        }
                        let (sum, overflow) = total.addingReportingOverflow(leaves)
                        guard !overflow else { throw .malformed("the level at \(price) holds more than 2^63 lots") }
                        total = sum
                        guard core.pointee.index.find(id) < 0 else { throw .malformed("order \(id) rests twice") }
                        let h = core.pointee.orders.allocate()
                        guard h >= 0 else {
                            throw .capacity("more resting orders than order_capacity \(configuration.orderCapacity)")
                        }
                        core.pointee.orders[h] = OrderSlot(
                            id: id, price: price, leaves: leaves, account: account, book: UInt32(b), prev: -1,
                            next: -1, level: -1, side: side, postOnly: postOnly, origin: origin(OrderID(id)))
                        core.pointee.rest(h, b)
                        core.pointee.index.insert(id, handle: h)
                    }
                }
            }
            if let bid = bestBid(SymbolID(UInt32(b))), let ask = bestAsk(SymbolID(UInt32(b))), bid.price >= ask.price {
                throw .malformed("symbol \(b) is crossed: bid \(bid.price), ask \(ask.price)")
            }
        }
        guard input.isAtEnd else { throw .malformed("\(bytes.count - input.position) bytes after the books") }
        resumeNumbering(sequence: sequence, tradeID: tradeID)
    }
}

/// Little-endian appends to a byte array (snapshots only; allocates).
struct ByteSink {
    var bytes: [UInt8] = []

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func patch(u32 v: UInt32, at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
    }
}

/// Little-endian reads from a byte array that throw at its end.
struct ByteSource {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    mutating func take(_ n: Int) throws(SnapshotError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else { throw .malformed("ends early at byte \(position)") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    mutating func u64() throws(SnapshotError) -> UInt64 {
        var v: UInt64 = 0
        for (i, byte) in try take(8).enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
        return v
    }

    mutating func u32() throws(SnapshotError) -> UInt32 {
        var v: UInt32 = 0
        for (i, byte) in try take(4).enumerated() { v |= UInt32(byte) << (8 * UInt32(i)) }
        return v
    }

    mutating func i64() throws(SnapshotError) -> Int64 { Int64(bitPattern: try u64()) }
}
