import ChronosConfig
import ChronosCore

/// The tradable symbols as the gateway sees them: names ↔ engine symbol ids, and the exact
/// conversion between client decimal prices and the engine's integer price units.
public struct SymbolDirectory: Sendable {
    /// Symbol configurations indexed by engine symbol id.
    public let symbols: [SymbolConfiguration]
    private let idOfName: [String: SymbolID]

    public init(_ symbols: [SymbolConfiguration]) {
        self.symbols = symbols
        var ids: [String: SymbolID] = [:]
        for (i, symbol) in symbols.enumerated() { ids[symbol.name] = SymbolID(UInt32(i)) }
        idOfName = ids
    }

    /// The engine id of the symbol named `name`, nil when the exchange does not trade it.
    public func id(of name: String) -> SymbolID? { idOfName[name] }

    /// The configuration of symbol `id` (ids come from ``id(of:)``).
    public subscript(id: SymbolID) -> SymbolConfiguration { symbols[Int(id.rawValue)] }

    /// Formats `units` of `symbol`'s price scale as a decimal string: 15025 with 2 decimals is
    /// `"150.25"`; exact, never rounded.
    public func decimalPrice(_ units: Int64, symbol: SymbolID) -> String {
        self[symbol].decimalPrice(units)
    }

    /// `value` scaled down by 10^decimals, exactly, as a decimal string.
    public static func decimalString(_ value: Int64, decimals: Int) -> String {
        SymbolConfiguration.decimalString(value, decimals: decimals)
    }

    /// The average price of `notional` (Σ price × quantity, in price units × lots) over
    /// `quantity` lots, with `decimals + 4` decimal places, rounded half up; `"0"` when nothing traded.
    public static func averagePrice(notional: Int128, quantity: Int64, decimals: Int) -> String {
        guard quantity > 0 else { return "0" }
        let extra = 4
        var scale: Int128 = 1
        for _ in 0..<extra { scale *= 10 }
        let q = Int128(quantity)
        let scaled = (notional * scale * 2 + q) / (q * 2)
        return decimalString(Int64(clamping: scaled), decimals: decimals + extra)
    }
}

extension Int64 {
    init(clamping value: Int128) {
        if value > Int128(Int64.max) {
            self = .max
        } else if value < Int128(Int64.min) {
            self = .min
        } else {
            self = Int64(value)
        }
    }
}
