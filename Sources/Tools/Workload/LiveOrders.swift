import ChronosCore

/// The resting orders a generator may cancel or modify, as its shadow engine reports them: added,
/// removed by id and one picked at random, each in O(1) (an array with swap-remove and each id's
/// position in it).
struct LiveOrders {
    struct Order {
        var id: OrderID
        var account: AccountID
        var symbol: SymbolID
    }

    private var orders: [Order] = []
    private var position: [OrderID: Int] = [:]

    var count: Int { orders.count }
    var isEmpty: Bool { orders.isEmpty }
    func contains(_ id: OrderID) -> Bool { position[id] != nil }

    /// Adds `order` unless its id is present.
    mutating func insert(_ order: Order) {
        guard position[order.id] == nil else { return }
        position[order.id] = orders.count
        orders.append(order)
    }

    /// Removes the order with `id` and returns it; nil when it is not present.
    @discardableResult
    mutating func remove(_ id: OrderID) -> Order? {
        guard let i = position.removeValue(forKey: id) else { return nil }
        let removed = orders[i]
        let last = orders.removeLast()
        if i < orders.count {
            orders[i] = last
            position[last.id] = i
        }
        return removed
    }

    /// One order, uniformly at random (one draw of `rng`). Not empty.
    func random(_ rng: inout SplitMix64) -> Order { orders[Int(rng.next() % UInt64(orders.count))] }
}
