/// Trading parameters of one symbol.
///
/// Prices are integer ticks of the symbol's price scale (``priceDecimals`` places, e.g. cents for 2);
/// ``tickSize`` is the minimum price increment in those units. Quantities are integer units with
/// ``lotSize`` as the minimum increment.
public struct SymbolConfiguration: Hashable, Sendable {
    /// The symbol's name as clients spell it, e.g. `"AAPL"`.
    public var name: String
    /// Prices must be a multiple of this (in price units), > 0.
    public var tickSize: Price
    /// Quantities must be a multiple of this, > 0.
    public var lotSize: Quantity
    /// Smallest order quantity accepted (≥ 1).
    public var minQuantity: Quantity
    /// Largest order quantity accepted.
    public var maxQuantity: Quantity
    /// Lowest limit price accepted (≥ 1).
    public var minPrice: Price
    /// Highest limit price accepted.
    public var maxPrice: Price
    /// Decimal places of one price unit for clients that send decimal prices (FIX); 0 means integer prices.
    public var priceDecimals: Int

    /// Creates a configuration; the defaults are the replay protocol's: tick 1, lot 1, no limits
    /// beyond positive price and quantity.
    public init(
        name: String, tickSize: Price = 1, lotSize: Quantity = 1, minQuantity: Quantity = 1,
        maxQuantity: Quantity = .max, minPrice: Price = 1, maxPrice: Price = .max, priceDecimals: Int = 2
    ) {
        self.name = name
        self.tickSize = tickSize
        self.lotSize = lotSize
        self.minQuantity = minQuantity
        self.maxQuantity = maxQuantity
        self.minPrice = minPrice
        self.maxPrice = maxPrice
        self.priceDecimals = priceDecimals
    }

    /// Whether `price` is a valid limit price of the symbol: positive, within min/max price and a
    /// multiple of the tick (the matching engine's rule, which keeps its own copy of these terms).
    @inlinable
    public func isValidPrice(_ price: Price) -> Bool {
        price > 0 && price >= minPrice && price <= maxPrice && price % tickSize == 0
    }

    /// Whether `quantity` is a valid order quantity of the symbol: positive, within min/max
    /// quantity and a multiple of the lot (the engine also caps it by its pool's quantity ceiling).
    @inlinable
    public func isValidQuantity(_ quantity: Quantity) -> Bool {
        quantity > 0 && quantity >= minQuantity && quantity <= maxQuantity && quantity % lotSize == 0
    }

    /// Problems that make this configuration unusable, each naming the bad key; empty when valid.
    public var validationErrors: [String] {
        var errors: [String] = []
        if tickSize <= 0 { errors.append("tick_size: must be > 0 (got \(tickSize))") }
        if lotSize <= 0 { errors.append("lot_size: must be > 0 (got \(lotSize))") }
        if minQuantity <= 0 { errors.append("min_qty: must be > 0 (got \(minQuantity))") }
        if maxQuantity < minQuantity { errors.append("max_qty: must be >= min_qty (got \(maxQuantity))") }
        if minPrice <= 0 { errors.append("min_price: must be > 0 (got \(minPrice))") }
        if maxPrice < minPrice { errors.append("max_price: must be >= min_price (got \(maxPrice))") }
        if priceDecimals < 0 || priceDecimals > 9 {
            errors.append("price_decimals: must be in 0...9 (got \(priceDecimals))")
        }
        return errors
    }
}

extension SymbolConfiguration {
    /// Formats `units` of this symbol's price scale as a decimal string: 15025 with 2 price
    /// decimals is `"150.25"`; exact, never rounded.
    public func decimalPrice(_ units: Price) -> String { Self.decimalString(units, decimals: priceDecimals) }

    /// `value` scaled down by 10^`decimals` (0...18), exactly, as a decimal string.
    public static func decimalString(_ value: Int64, decimals: Int) -> String {
        guard decimals > 0 else { return String(value) }
        let negative = value < 0
        let magnitude = value.magnitude
        var divisor: UInt64 = 1
        for _ in 0..<decimals { divisor *= 10 }
        let whole = magnitude / divisor
        let fraction = String(magnitude % divisor)
        let padded = String(repeating: "0", count: decimals - fraction.count) + fraction
        return (negative ? "-" : "") + "\(whole)." + padded
    }
}
