import ChronosCore
import Foundation
import Journal
import MatchingEngine
import Testing
import Workload

#if canImport(Glibc)
    import Glibc
#endif

// Shared helpers of the journal tests: temporary folders, raw file surgery (to tear, flip and
// truncate what the journal wrote), frames as the engine service encodes them, and a seeded
// engine run with its whole event log.

/// Runs `body` with a new, empty folder under the temporary directory, removed afterwards.
@discardableResult
func withTemporaryFolder<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "chronos-journal-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// The names in `folder`, sorted.
func fileNames(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

/// The whole file.
func readFile(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Replaces the whole file's content (same inode).
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Overwrites `bytes` at `offset` in place (the file keeps its inode, so mappings see it).
func patchFile(_ path: String, at offset: Int, _ bytes: [UInt8]) {
    let fd = open(path, O_RDWR)
    precondition(fd >= 0, "open \(path)")
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    precondition(written == bytes.count, "pwrite \(path)")
}

/// XORs one byte of a file in place.
func flipByte(_ path: String, at offset: Int, with mask: UInt8 = 0xFF) {
    let fd = open(path, O_RDWR)
    precondition(fd >= 0, "open \(path)")
    defer { close(fd) }
    var byte: UInt8 = 0
    precondition(pread(fd, &byte, 1, off_t(offset)) == 1, "pread \(path)")
    byte ^= mask
    precondition(pwrite(fd, &byte, 1, off_t(offset)) == 1, "pwrite \(path)")
}

/// Deletes a file (which must exist).
func removeFile(_ path: String) {
    precondition(unlink(path) == 0, "unlink \(path)")
}

/// Cuts a file to `size` bytes.
func truncateFile(_ path: String, to size: Int) {
    precondition(truncate(path, off_t(size)) == 0, "truncate \(path)")
}

/// True when `error` is `JournalError.corrupt` naming `path`.
func isCorrupt(_ error: any Error, path: String) -> Bool {
    guard case .corrupt(let named, _)? = error as? JournalError else { return false }
    return named == path
}

// MARK: Frames

/// The frame of `event` exactly as the engine service publishes and journals it.
func eventFrame(_ event: EngineEvent, shard: UInt16 = 0, timestamp: UInt64 = 0) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: WireFormat.maxFrameSize)
    let size = buffer.withUnsafeMutableBytes { raw -> Int in
        switch WireFrame(shard: shard, message: .event(event, clientTimestampNanos: timestamp)).encode(into: raw) {
        case .success(let n): return n
        case .failure(let error): preconditionFailure("encode: \(error)")
        }
    }
    return Array(buffer[0..<size])
}

/// A frame of `count` bytes whose content depends on `seed` (for record-level tests).
func patternFrame(count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

// MARK: The shard under test

/// The identity and engine of the shard the journal tests recover.
enum TestShard {
    static let identity = "shard=0 symbols=AAA/1/1/1/max/1/max,BBB/5/10/10/100000/100/20000 trades=AAA,BBB"
    static let fingerprint: UInt64 = 0x5EED_0F1D_E471_7E55
    static let symbols = [
        SymbolConfiguration(name: "AAA"),
        SymbolConfiguration(
            name: "BBB", tickSize: 5, lotSize: 10, minQuantity: 10, maxQuantity: 100_000, minPrice: 100,
            maxPrice: 20_000),
    ]

    static func engine(orderCapacity: Int = 4_096) throws -> Engine {
        let engine = try Engine(configuration: EngineConfiguration(orderCapacity: orderCapacity, symbolCapacity: 4))
        for symbol in symbols { try engine.addSymbol(symbol) }
        return engine
    }

    static func settings(_ directory: String, slotsPerSegment: Int = 64) -> JournalSettings {
        JournalSettings(root: directory, slotsPerSegment: slotsPerSegment)
    }

    /// Recovers a fresh engine from `directory`.
    static func recover(
        _ directory: String, slotsPerSegment: Int = 64, identity: String = identity,
        fingerprint: UInt64 = fingerprint
    ) throws -> (engine: Engine, recovery: JournalRecovery, writer: JournalWriter) {
        let engine = try Self.engine()
        let (recovery, writer) = try ShardJournal.recover(
            directory: directory, shard: 0, identityText: identity, fingerprint: fingerprint,
            settings: settings(directory, slotsPerSegment: slotsPerSegment), engine: engine)
        return (engine, recovery, writer)
    }
}

/// Appends `events` through `writer` (frames as the service encodes them), committing each.
func journal(_ events: some Collection<EngineEvent>, to writer: JournalWriter) {
    for event in events {
        let frame = eventFrame(event)
        let ok = frame.withUnsafeBytes { writer.append(sequence: event.sequence, frame: $0) }
        precondition(ok, "append \(event.sequence)")
        writer.commit()
    }
}

/// The slot of `sequence` in the journal folder: the segment file's path and the slot's offset.
func slotLocation(_ directory: String, sequence: UInt64) throws -> (path: String, offset: Int)? {
    for file in try JournalDirectory.segments(directory).reversed() where file.first <= sequence {
        let segment = try JournalSegment.open(path: file.path, writable: false)
        guard segment.contains(sequence) else { return nil }
        return (file.path, JournalSegment.headerSize + Int(sequence - file.first) * JournalRecord.slotSize)
    }
    return nil
}

// MARK: A recorded engine run

/// A seeded command flow over ``TestShard``'s symbols: adds, cancels, replaces (price and
/// quantity, up and down), marketable and IOC orders, and a few bad commands. It reads the engine
/// it drives to aim cancels and replaces at resting orders, so the same seed gives the same run.
struct CommandFlow {
    var rng: SplitMix64
    var nextID: UInt64 = 1

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func next(_ engine: Engine) -> EngineCommand {
        let s = Int(rng.next() % 2)
        let symbol = SymbolID(UInt32(s))
        let config = TestShard.symbols[s]
        let tick = config.tickSize
        let lot = config.lotSize
        let mid: Int64 = s == 0 ? 1_000 : 5_000
        let account = AccountID(UInt32(rng.next() % 4))
        let side: Side = rng.next() & 1 == 0 ? .buy : .sell
        let roll = rng.unit()
        let resting = engine.restingOrderCount(symbol)
        if roll < 0.5 || resting == 0 {
            let depth = Int64(rng.next() % 12) - 2  // a few cross the touch
            let price = side == .buy ? mid - depth * tick : mid + depth * tick
            let kind = rng.next() % 10
            defer { nextID += 1 }
            return .new(
                NewOrder(
                    id: OrderID(nextID), account: account, symbol: symbol, side: side,
                    type: kind == 0 ? .market : .limit, timeInForce: kind == 1 ? .immediateOrCancel : .goodTillCancel,
                    price: kind == 0 ? 0 : price, quantity: lot * Int64(1 + rng.next() % 20), postOnly: kind == 2))
        }
        let orders = engine.restingOrders(symbol, .buy) + engine.restingOrders(symbol, .sell)
        let target = orders[Int(rng.next() % UInt64(orders.count))]
        if roll < 0.75 {
            // Now and then the wrong owner (rejected `not_owner`).
            let who = rng.next() % 20 == 0 ? AccountID(9) : target.account
            return .cancel(CancelOrder(id: target.id, account: who, symbol: symbol))
        }
        var replace = ReplaceOrder(id: target.id, account: target.account, symbol: symbol)
        switch rng.next() % 4 {
        case 0: replace.quantity = max(lot, target.leavesQuantity - lot)  // down: keeps priority
        case 1: replace.quantity = target.leavesQuantity + lot * Int64(1 + rng.next() % 5)  // up: loses it
        case 2: replace.price = target.price + (target.side == .buy ? 1 : -1) * tick * Int64(rng.next() % 4)
        default:
            replace.price = target.price - tick
            replace.quantity = target.leavesQuantity
        }
        return .replace(replace)
    }
}

/// An engine driven by ``CommandFlow``, with its whole event log, and after each command the
/// log's length and the state hash.
struct RecordedRun {
    let engine: Engine
    var flow: CommandFlow
    var log: [EngineEvent] = []
    /// `log.count` after each command.
    var ends: [Int] = []
    /// `engine.stateHash()` after each command.
    var hashes: [UInt64] = []

    init(seed: UInt64) throws {
        engine = try TestShard.engine()
        flow = CommandFlow(seed: seed)
    }

    mutating func run(_ commands: Int) {
        for _ in 0..<commands {
            engine.submit(flow.next(engine))
            log += engine.events
            ends.append(log.count)
            hashes.append(engine.stateHash())
        }
    }

    /// The index of the command whose events include log index `index`.
    func command(containing index: Int) -> Int {
        ends.firstIndex { $0 > index }!
    }

    /// The state hash after the events `log[0..<count]` when `count` ends a command, or after the
    /// whole command that `count` cuts (what recovery rebuilds); the empty engine's for 0.
    func hash(rebuiltFrom count: Int, empty: UInt64) -> UInt64 {
        count == 0 ? empty : hashes[command(containing: count - 1)]
    }
}
