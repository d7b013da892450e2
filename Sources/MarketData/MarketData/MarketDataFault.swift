import ChronosCore

/// Something wrong with an engine event, or with the book's room for it. Never a crash: the book
/// returns it in an ``EventOutcome`` and carries on.
@frozen
public enum MarketDataFault: Error, Hashable, Sendable {
    /// The event's sequence number is not above the last one applied: a duplicate, or a stream
    /// that went backwards. The event was ignored.
    case sequenceNotIncreasing(last: UInt64, received: UInt64)
    /// Events between the last one applied and this one are missing. This one was applied, but
    /// the book may no longer match the engine's: every symbol is marked impaired.
    case eventsMissing(expected: UInt64, received: UInt64)
    /// The event names a symbol beyond ``MarketDataConfiguration/symbolCapacity``. Ignored.
    case unknownSymbol(SymbolID)
    /// A cancel, replace or fill names an order the book does not hold resting.
    case unknownOrder(OrderID)
    /// An order was accepted with an id the book already holds resting.
    case duplicateOrder(OrderID)
    /// The event disagrees with the book: a quantity, price, side or symbol that does not match
    /// the resting order, a fill or remainder cancel for an order that is not the incoming one,
    /// or an incoming order whose events ended while the book still showed it crossing.
    case contradiction(OrderID)
    /// ``MarketDataConfiguration/orderCapacity`` orders rest already: this order is not tracked
    /// and does not appear in the levels.
    case orderCapacityExhausted(OrderID)
    /// ``MarketDataConfiguration/levelCapacityPerSide`` levels exist on that side already: the
    /// new level at that price is not shown, and orders resting there are not tracked.
    case levelCapacityExhausted(SymbolID, Side, Price)
}

/// What applying one engine event did.
@frozen
public enum EventOutcome: Hashable, Sendable {
    /// The event was applied; its updates were published.
    case applied
    /// The event was not applied and changed nothing (a stale sequence, an unknown symbol).
    case ignored(MarketDataFault)
    /// The event was applied as far as possible, but the symbol's book (every symbol's, for
    /// ``MarketDataFault/eventsMissing(expected:received:)``) may now differ from the engine's:
    /// it is marked impaired (``MarketDataBook/isImpaired(_:)``) until the book is rebuilt.
    case impaired(MarketDataFault)

    /// The fault, if any.
    @inlinable public var fault: MarketDataFault? {
        switch self {
        case .applied: nil
        case .ignored(let fault), .impaired(let fault): fault
        }
    }
}
