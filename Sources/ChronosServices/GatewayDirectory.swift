/// The gateways an engine shard has heard from: ZeroMQ routing ids ↔ small numbers.
///
/// An order remembers the number of the gateway that sent it (the engine's opaque `origin`
/// tag), so that every execution report, a maker's fills included, goes back to that gateway.
/// Registering a new gateway allocates its id once; looking one up never allocates.
struct GatewayDirectory {
    /// Most gateways one shard serves; a message from one more is answered `capacity_exhausted`.
    static let capacity = 1_024
    private(set) var identities: [[UInt8]] = []

    /// The number of the gateway with routing id `identity`, registering it when new;
    /// nil when the directory is full.
    mutating func number(for identity: UnsafeRawBufferPointer) -> UInt16? {
        for (i, known) in identities.enumerated() where known.count == identity.count {
            if known.withUnsafeBytes({ $0.elementsEqual(identity) }) { return UInt16(i + 1) }
        }
        guard identities.count < Self.capacity else { return nil }
        identities.append(Array(identity))
        return UInt16(identities.count)
    }

    /// The routing id of gateway `number` (1-based; 0 means "no gateway").
    func identity(_ number: UInt16) -> [UInt8]? {
        let i = Int(number) - 1
        return i >= 0 && i < identities.count ? identities[i] : nil
    }
}
