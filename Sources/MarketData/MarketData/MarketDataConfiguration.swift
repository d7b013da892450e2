/// The capacities of a ``MarketDataBook``: everything is allocated once, from these, when the
/// book is created, and never grows.
///
/// Keys (the market-data service fills them: `symbolCapacity` from the configured symbols,
/// `orderCapacity` from `[engine] order_capacity`, `levelCapacityPerSide` from
/// `[market_data] level_capacity_per_side`):
/// - `symbolCapacity`: symbols, i.e. the highest `SymbolID` + 1 the book tracks (default 64).
/// - `orderCapacity`: resting orders tracked at once, across symbols (default 1,000,000, the
///   engine's default). Give at least the engine's `orderCapacity`: the book then never fills
///   before the engine does, which rejects orders `capacity_exhausted` itself.
/// - `levelCapacityPerSide`: price levels per side of one symbol (default 16,384). Memory for
///   `symbolCapacity × 2 × levelCapacityPerSide` levels (24 bytes each) is reserved; the kernel
///   only backs the pages a book really uses.
///
/// What happens when a capacity is reached is a reported condition, never a crash: see
/// ``MarketDataFault/orderCapacityExhausted(_:)`` and
/// ``MarketDataFault/levelCapacityExhausted(_:_:_:)``.
public struct MarketDataConfiguration: Hashable, Sendable {
    /// Symbols the book tracks: `SymbolID`s `0..<symbolCapacity`.
    public var symbolCapacity: Int
    /// Resting orders tracked at once, across all symbols.
    public var orderCapacity: Int
    /// Price levels per side of one symbol.
    public var levelCapacityPerSide: Int

    /// A configuration; the defaults suit an engine with default capacities.
    public init(symbolCapacity: Int = 64, orderCapacity: Int = 1_000_000, levelCapacityPerSide: Int = 16_384) {
        self.symbolCapacity = symbolCapacity
        self.orderCapacity = orderCapacity
        self.levelCapacityPerSide = levelCapacityPerSide
    }

    /// What is wrong with the configuration, one sentence per problem; empty when it is valid.
    public var validationErrors: [String] {
        var errors: [String] = []
        if symbolCapacity < 1 || symbolCapacity > 1 << 20 {
            errors.append("symbolCapacity must be in 1...1048576, is \(symbolCapacity)")
        }
        if orderCapacity < 1 || orderCapacity > 1 << 30 {
            errors.append("orderCapacity must be in 1...1073741824, is \(orderCapacity)")
        }
        if levelCapacityPerSide < 1 || levelCapacityPerSide > 1 << 24 {
            errors.append("levelCapacityPerSide must be in 1...16777216, is \(levelCapacityPerSide)")
        }
        if errors.isEmpty, symbolCapacity.multipliedReportingOverflow(by: 2 * levelCapacityPerSide).overflow {
            errors.append("symbolCapacity × 2 × levelCapacityPerSide is too large")
        }
        return errors
    }
}

/// A ``MarketDataBook`` or ``MarketDataReplica`` could not be created.
public enum MarketDataSetupError: Error, Hashable, Sendable {
    /// The configuration's ``MarketDataConfiguration/validationErrors``.
    case invalidConfiguration([String])
}
