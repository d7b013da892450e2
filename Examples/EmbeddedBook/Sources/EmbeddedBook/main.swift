// A book embedded in an application: orders in, events out, no services around it.
import ChronosCore
import MatchingEngine

#if canImport(Glibc)
    import Glibc
#endif

/// Stops the program with a message when the engine did not do what the example expects.
func check(_ condition: Bool, _ message: String) {
    if !condition {
        print("EmbeddedBook: FAILED: \(message)")
        exit(1)
    }
}

let engine = try Engine(configuration: EngineConfiguration(orderCapacity: 10_000, symbolCapacity: 4, prefault: false))
let aapl = try engine.addSymbol(SymbolConfiguration(name: "AAPL"))

// Two sellers rest at 100.50 and 100.60 (prices in cents).
engine.submit(
    .new(NewOrder(id: OrderID(1), account: AccountID(7), symbol: aapl, side: .sell, price: 10_050, quantity: 100)))
engine.submit(
    .new(NewOrder(id: OrderID(2), account: AccountID(8), symbol: aapl, side: .sell, price: 10_060, quantity: 50)))
check(engine.bestAsk(aapl)?.price == 10_050, "best ask 100.50")

// A buyer takes 120 up to 100.60: 100 at 100.50, then 20 at 100.60.
engine.submit(
    .new(NewOrder(id: OrderID(3), account: AccountID(9), symbol: aapl, side: .buy, price: 10_060, quantity: 120)))
var fills: [(price: Price, quantity: Quantity)] = []
for event in engine.events {
    print(event)
    if case .fill(let fill) = event { fills.append((fill.price, fill.quantity)) }
}
check(fills.count == 2 && fills[0] == (10_050, 100) && fills[1] == (10_060, 20), "two fills: 100 @ 10050, 20 @ 10060")

// The rest of the second seller's order is canceled by its id alone.
engine.cancel(OrderID(2))
guard case .canceled(let canceled) = engine.events.first else {
    check(false, "a canceled event")
    fatalError()
}
check(canceled.quantity == 30 && canceled.account == AccountID(8), "30 canceled for account 8")
check(engine.restingOrderCount == 0 && engine.invariantViolations().isEmpty, "an empty, sound book")
print("EmbeddedBook: ok (\(fills.count) fills, book empty, state hash \(engine.stateHash()))")
