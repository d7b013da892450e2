import ChronosCore

extension JournalReader {
    /// The price of each symbol's last fill in this journal at or before `sequence`: read backwards
    /// from `sequence` until every symbol of `symbols` has one, the journal's oldest kept record,
    /// a missing or damaged record, or `maxRecords` records read. O(records read).
    ///
    /// The engine recovers books and numbering from its snapshot and journal, not the prices it
    /// traded at; a restarted risk engine seeds its reference prices from here (docs/journal.md).
    /// A symbol whose last fill lies beyond what was read (pruned segments, or more than
    /// `maxRecords` ago) is absent from the answer.
    public func lastTradePrices(
        atOrBefore sequence: UInt64, symbols: Set<SymbolID>, maxRecords: Int = 10_000_000
    ) throws(JournalError) -> [SymbolID: Price] {
        var prices: [SymbolID: Price] = [:]
        guard sequence > 0, !symbols.isEmpty, let first = firstSequence else { return prices }
        var current = sequence
        var read = 0
        while current >= first, read < maxRecords, prices.count < symbols.count {
            guard let frame = try frame(current) else { break }
            if case .success(let wire) = WireFrame.decode(frame), case .event(.fill(let fill), _) = wire.message,
                symbols.contains(fill.symbol), prices[fill.symbol] == nil
            {
                prices[fill.symbol] = fill.price
            }
            read += 1
            guard current > first else { break }
            current -= 1
        }
        return prices
    }
}
