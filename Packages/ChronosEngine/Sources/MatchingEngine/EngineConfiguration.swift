import ChronosCore

/// Capacities of one engine (one shard), fixed at start. The engine never grows afterwards:
/// when a pool is full the command is rejected `capacity_exhausted`.
public struct EngineConfiguration: Hashable, Sendable {
    /// Maximum number of resting orders across all symbols (default 1,000,000).
    public var orderCapacity: Int
    /// Maximum number of symbols (default 1,024).
    public var symbolCapacity: Int
    /// Blocks of 64 ids that the used-id set must hold at least (default `orderCapacity`;
    /// the table rounds up, so about 1.5 × this fits): dense ids use one block per 64 ids
    /// (≈ 96 million ids by default), scattered ids one block each (≈ 1.5 million).
    public var usedIDBlockCapacity: Int
    /// Write every page of the pools and tables when the engine is created (default true), so
    /// that no command takes a page fault; false leaves the pages to be faulted in as they are
    /// first used (quicker to create, e.g. many short-lived engines in tests).
    public var prefault: Bool
    /// Ask the kernel for transparent huge pages for the large tables (default false): fewer
    /// TLB misses when order ids are scattered.
    public var hugePages: Bool

    /// Creates a configuration; every capacity must be ≥ 1.
    public init(
        orderCapacity: Int = 1_000_000, symbolCapacity: Int = 1_024, usedIDBlockCapacity: Int? = nil,
        prefault: Bool = true, hugePages: Bool = false
    ) {
        self.orderCapacity = orderCapacity
        self.symbolCapacity = symbolCapacity
        self.usedIDBlockCapacity = usedIDBlockCapacity ?? max(orderCapacity, 1_024)
        self.prefault = prefault
        self.hugePages = hugePages
    }

    /// The largest order quantity the engine accepts: no price level total can overflow
    /// 64 bits, whatever orders rest. ⌊(2^63 − 1) / orderCapacity⌋.
    public var quantityCeiling: Quantity { Quantity.max / Quantity(orderCapacity) }

    /// Problems that make this configuration unusable, each naming the bad key; empty when valid.
    public var validationErrors: [String] {
        var errors: [String] = []
        if orderCapacity < 1 || orderCapacity > 100_000_000 {
            errors.append("order_capacity: must be in 1...100000000 (got \(orderCapacity))")
        }
        if symbolCapacity < 1 || symbolCapacity > 1_000_000 {
            errors.append("symbol_capacity: must be in 1...1000000 (got \(symbolCapacity))")
        }
        if usedIDBlockCapacity < 1 || usedIDBlockCapacity > 1 << 30 {
            errors.append("id_capacity: must be in 1...\(1 << 30) (got \(usedIDBlockCapacity))")
        }
        return errors
    }
}

/// A setup error of the engine (never raised while processing commands).
public enum EngineSetupError: Error, Equatable, CustomStringConvertible {
    /// The configuration is unusable; each string names a bad key.
    case invalidConfiguration([String])
    /// The symbol's configuration is unusable; each string names a bad key.
    case invalidSymbol(String, [String])
    /// A symbol with this name exists already.
    case duplicateSymbol(String)
    /// `symbolCapacity` symbols exist already.
    case symbolCapacityExhausted(Int)

    public var description: String {
        switch self {
        case .invalidConfiguration(let errors): "invalid engine configuration: " + errors.joined(separator: "; ")
        case .invalidSymbol(let name, let errors): "invalid symbol \(name): " + errors.joined(separator: "; ")
        case .duplicateSymbol(let name): "symbol \(name) is configured twice"
        case .symbolCapacityExhausted(let n): "symbol capacity of \(n) exhausted"
        }
    }
}
