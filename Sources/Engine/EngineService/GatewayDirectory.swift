/// The gateways an engine shard has heard from: ZeroMQ routing ids ↔ small numbers.
///
/// An order remembers the number of the gateway that sent it (the engine's opaque `origin`
/// tag), so that every execution report, a maker's fills included, goes back to that gateway.
/// Registering a new gateway allocates its id once; looking one up never allocates.
///
/// After a recovery the orders rebuilt from the log need a number before their gateways have
/// said anything: ``reserve(gatewayID:)`` keeps one per gateway id (the top 16 bits of the order
/// ids a gateway hands out, `gatewayID << 48 | counter`), and the first routing id whose command
/// names an order id with those bits claims it.
struct GatewayDirectory {
    /// Most gateways one shard serves; a message from one more is answered `capacity_exhausted`.
    static let capacity = 1_024
    /// Routing ids by number - 1; an empty one is reserved and not yet claimed (ZeroMQ routing
    /// ids are 1–255 bytes, so an empty one never matches).
    private(set) var identities: [[UInt8]] = []
    private var reserved: [UInt16: UInt16] = [:]

    /// The number of the gateway with routing id `identity`, registering it when new (claiming
    /// the number reserved for `orderID`'s gateway id, if any); nil when the directory is full.
    mutating func number(for identity: UnsafeRawBufferPointer, orderID: UInt64 = 0) -> UInt16? {
        for (i, known) in identities.enumerated() where known.count == identity.count {
            if known.withUnsafeBytes({ $0.elementsEqual(identity) }) { return UInt16(i + 1) }
        }
        if !reserved.isEmpty, let number = reserved.removeValue(forKey: UInt16(truncatingIfNeeded: orderID >> 48)) {
            identities[Int(number) - 1] = Array(identity)
            return number
        }
        guard identities.count < Self.capacity else { return nil }
        identities.append(Array(identity))
        return UInt16(identities.count)
    }

    /// A number for the gateway whose order ids carry `gatewayID` in their top 16 bits, before
    /// it is heard from (recovery); nil when the directory is full.
    mutating func reserve(gatewayID: UInt16) -> UInt16? {
        if let number = reserved[gatewayID] { return number }
        guard identities.count < Self.capacity else { return nil }
        identities.append([])
        let number = UInt16(identities.count)
        reserved[gatewayID] = number
        return number
    }

    /// The routing id of gateway `number` (1-based; 0 means "no gateway"); nil when unknown or
    /// reserved and not yet claimed.
    func identity(_ number: UInt16) -> [UInt8]? {
        let i = Int(number) - 1
        return i >= 0 && i < identities.count && !identities[i].isEmpty ? identities[i] : nil
    }
}
