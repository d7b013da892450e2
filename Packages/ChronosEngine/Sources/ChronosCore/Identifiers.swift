/// A price in integer ticks of the symbol's price scale (for equities: cents).
///
/// Prices are never floating point anywhere in Chronos. A valid limit price is positive and a
/// multiple of the symbol's ``SymbolConfiguration/tickSize``.
public typealias Price = Int64

/// A quantity in integer lots (for equities: shares). Valid quantities are positive.
public typealias Quantity = Int64

/// A client order id, unique over the whole life of an engine (a shard).
///
/// Gateways map their clients' own identifiers (e.g. FIX ClOrdID strings) to these.
@frozen
public struct OrderID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw 64-bit id.
    public var rawValue: UInt64

    /// Wraps a raw id.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a raw id.
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    @inlinable public static func < (lhs: OrderID, rhs: OrderID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}

/// A trading account, interned to a dense integer at the edge (gateway session or replay reader).
@frozen
public struct AccountID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw account number.
    public var rawValue: UInt32

    /// Wraps a raw account number.
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Wraps a raw account number.
    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable public static func < (lhs: AccountID, rhs: AccountID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "account#\(rawValue)" }
}

/// A symbol (instrument) within one engine: a dense index assigned when the symbol is added.
@frozen
public struct SymbolID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The dense index of the symbol inside its engine, from 0.
    public var rawValue: UInt32

    /// Wraps a raw symbol index.
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Wraps a raw symbol index.
    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable public static func < (lhs: SymbolID, rhs: SymbolID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "symbol#\(rawValue)" }
}

/// A trade (one fill between a taker and a maker), numbered per shard from 1.
@frozen
public struct TradeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw trade number.
    public var rawValue: UInt64

    /// Wraps a raw trade number.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a raw trade number.
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    @inlinable public static func < (lhs: TradeID, rhs: TradeID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}
