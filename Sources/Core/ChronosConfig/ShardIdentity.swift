import ChronosCore

/// What makes a shard's event stream mean what it means: its id, the exchange's symbols in
/// `SymbolID` order with the terms that decide matching and validation (tick, lot, quantity and
/// price limits), and which of them the shard trades.
///
/// The engine's journal and snapshots and the persister's store record it; a shard started with a
/// configuration whose identity differs (symbols swapped, renamed, re-ordered, other ticks) refuses
/// them with an error naming both descriptions, instead of rebuilding AAPL's book under MSFT's name.
/// Capacities are left out on purpose: raising `order_capacity` between two runs is an ordinary
/// operation, and a journal tail that no longer replays identically is caught by recovery's
/// event-by-event comparison anyway.
public struct ShardIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The canonical text, e.g. `shard=0 symbols=AAPL/1/1/1/1000000/1/100000000,MSFT/… trades=AAPL`.
    public let canonical: String
    /// 64-bit FNV-1a of ``canonical`` (recorded in every journal segment and snapshot header).
    public let fingerprint: UInt64

    /// The identity of shard `shard` among `symbols` (the exchange's, in `SymbolID` order) with
    /// `shardOfSymbol` from the shard map.
    public init(shard: Int, symbols: [SymbolConfiguration], shardOfSymbol: [Int]) {
        let terms = symbols.map {
            "\($0.name)/\($0.tickSize)/\($0.lotSize)/\($0.minQuantity)/\($0.maxQuantity)/\($0.minPrice)/\($0.maxPrice)"
        }
        let traded = symbols.indices.filter { $0 < shardOfSymbol.count && shardOfSymbol[$0] == shard }.map {
            symbols[$0].name
        }
        canonical =
            "shard=\(shard) symbols=\(terms.joined(separator: ",")) trades=\(traded.joined(separator: ","))"
        fingerprint = Self.fnv1a(canonical)
    }

    /// An identity read back from a journal or a store.
    public init(canonical: String) {
        self.canonical = canonical
        fingerprint = Self.fnv1a(canonical)
    }

    public var description: String { "\(canonical) (fingerprint \(Self.hex(fingerprint)))" }

    /// `0x` and 16 hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}

extension ExchangeConfiguration {
    /// The identity of shard `id` in this configuration (its live symbols and shard map).
    public func shardIdentity(_ id: Int) -> ShardIdentity {
        ShardIdentity(shard: id, symbols: liveSymbols, shardOfSymbol: shardMap.shardOfSymbol)
    }
}
