import ChronosCore
import MarketData

/// One-line texts of market data for terminals and logs (`chronos marketdata`): prices in
/// decimals (`decimals` places per tick, `[[symbols]] price_decimals`), quantities in lots.
public struct MarketDataText: Sendable {
    /// The symbol's name.
    public var symbol: String
    /// Decimal places of one price tick.
    public var decimals: Int

    /// Texts for `symbol`, whose prices have `decimals` decimal places per tick.
    public init(symbol: String, decimals: Int) {
        self.symbol = symbol
        self.decimals = max(decimals, 0)
    }

    /// `123.45` for 12345 ticks with 2 decimals.
    public func price(_ ticks: Price) -> String {
        guard decimals > 0 else { return String(ticks) }
        let negative = ticks < 0
        let digits = String(ticks.magnitude)
        let padded = String(repeating: "0", count: max(decimals + 1 - digits.count, 0)) + digits
        let cut = padded.index(padded.endIndex, offsetBy: -decimals)
        return (negative ? "-" : "") + padded[..<cut] + "." + padded[cut...]
    }

    /// `123.45 x 300 (2)`: price, aggregate quantity, orders; `-` for an empty side.
    public func level(_ level: LevelSummary?) -> String {
        guard let level else { return "-" }
        return "\(price(level.price)) x \(level.quantity) (\(level.orderCount))"
    }

    /// `AAPL top  bid 123.45 x 300 (2)  offer 123.50 x 100 (1)  seq 17`.
    public func top(bid: LevelSummary?, offer: LevelSummary?, sequence: UInt64) -> String {
        "\(symbol) top  bid \(level(bid))  offer \(level(offer))  seq \(sequence)"
    }

    /// `AAPL trade 123.45 x 100 buy  seq 18`.
    public func trade(_ trade: TradeUpdate) -> String {
        "\(symbol) trade \(price(trade.price)) x \(trade.quantity) \(trade.aggressorSide == .buy ? "buy" : "sell")  seq \(trade.sequence)"
    }

    /// The levels of a snapshot, offers above bids (best nearest the middle), at most `depth` per side.
    public func book(_ snapshot: MarketDataSnapshot, depth: Int) -> [String] {
        var lines = ["\(symbol) snapshot  seq \(snapshot.sequence)  engine event \(snapshot.eventSequence)"]
        for offer in snapshot.offers.prefix(depth).reversed() { lines.append("  offer  \(level(offer))") }
        lines.append("  ----")
        for bid in snapshot.bids.prefix(depth) { lines.append("  bid    \(level(bid))") }
        return lines
    }
}
