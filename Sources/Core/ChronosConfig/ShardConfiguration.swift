/// One matching-engine shard: where it listens and which symbols it trades.
///
/// TOML (`[[shards]]`, in shard-id order):
///
/// ```toml
/// [[shards]]
/// id = 0                                   # 0, 1, 2 … in order
/// orders = "tcp://127.0.0.1:7100"          # ROUTER: gateways connect and send orders
/// events = "tcp://127.0.0.1:7101"          # PUB: every event with its sequence number
/// replay = "tcp://127.0.0.1:7102"          # ROUTER: retransmission requests by sequence range
/// symbols = ["AAPL", "MSFT"]               # optional; every symbol in exactly one shard
/// cpu = 1                                  # optional: pin the engine thread to this core
/// idle = "poll"                            # "poll" (wait on the sockets) or "spin" (busy-poll)
/// poll_timeout_us = 1000                   # with "poll": the longest wait before housekeeping
/// retransmission_capacity = 1048576        # ignored: replays are served from the shard's journal
/// market_data = "tcp://127.0.0.1:7103"     # optional; PUB: the market-data service's updates
/// market_data_snapshots = "tcp://127.0.0.1:7104"  # optional; ROUTER: snapshot requests
/// ```
///
/// Without `market_data` / `market_data_snapshots`, both are derived from `events` (see
/// ``resolvedMarketDataEndpoint``).
public struct ShardConfiguration: Sendable, Equatable {
    /// How the engine thread waits for work.
    public enum Idle: String, Sendable, Equatable {
        /// Busy-poll the input sockets: lowest latency, burns a core (only with a core to spare).
        case spin
        /// Block in `zmq_poll` up to `pollTimeoutMicroseconds`.
        case poll
    }

    /// Shard number, 0-based and contiguous.
    public var id: Int
    /// ROUTER endpoint the engine binds for orders.
    public var ordersEndpoint: String
    /// PUB endpoint the engine binds for its event stream.
    public var eventsEndpoint: String
    /// ROUTER endpoint the engine binds for retransmission requests.
    public var replayEndpoint: String
    /// Names of the symbols this shard trades.
    public var symbols: [String]
    /// Core to pin the engine thread to, if any.
    public var cpu: Int?
    public var idle: Idle
    /// Longest wait in `zmq_poll` with ``Idle/poll``, in µs (rounded up to ms by ZeroMQ).
    public var pollTimeoutMicroseconds: Int
    /// Ignored since replays are served from the shard's journal (`[journal]`); still read so that
    /// older configuration files load.
    public var retransmissionCapacity: Int
    /// PUB endpoint the market-data service binds for this shard's updates (`market_data`); nil:
    /// derived (``resolvedMarketDataEndpoint``).
    public var marketDataEndpoint: String?
    /// ROUTER endpoint the market-data service binds for this shard's snapshot requests
    /// (`market_data_snapshots`); nil: derived (``resolvedMarketDataSnapshotEndpoint``).
    public var marketDataSnapshotEndpoint: String?

    public init(
        id: Int, ordersEndpoint: String, eventsEndpoint: String, replayEndpoint: String, symbols: [String] = [],
        cpu: Int? = nil, idle: Idle = .poll, pollTimeoutMicroseconds: Int = 1_000,
        retransmissionCapacity: Int = 1 << 20
    ) {
        self.id = id
        self.ordersEndpoint = ordersEndpoint
        self.eventsEndpoint = eventsEndpoint
        self.replayEndpoint = replayEndpoint
        self.symbols = symbols
        self.cpu = cpu
        self.idle = idle
        self.pollTimeoutMicroseconds = pollTimeoutMicroseconds
        self.retransmissionCapacity = retransmissionCapacity
    }

    /// The in-process endpoints of shard `id` (the embedded default).
    public static func inproc(id: Int, symbols: [String] = []) -> ShardConfiguration {
        ShardConfiguration(
            id: id, ordersEndpoint: "inproc://chronos-shard-\(id)-orders",
            eventsEndpoint: "inproc://chronos-shard-\(id)-events",
            replayEndpoint: "inproc://chronos-shard-\(id)-replay", symbols: symbols)
    }
}

/// Where each symbol trades: the shard map every gateway and engine derive from one configuration.
public struct ShardMap: Sendable, Equatable {
    /// The shards, indexed by id.
    public var shards: [ShardConfiguration]
    /// The exchange's symbols in configuration order; a symbol's index is its `SymbolID` in
    /// every engine (each engine knows every symbol and trades only its own).
    public var symbolNames: [String]
    /// Shard of each symbol, by `SymbolID`.
    public var shardOfSymbol: [Int]
    private var symbolIndex: [String: Int]

    /// Builds the map: symbols listed by a shard go there; when no shard lists any, symbol `i`
    /// goes to shard `i % shardCount`.
    init(shards: [ShardConfiguration], symbolNames: [String]) {
        self.shards = shards
        self.symbolNames = symbolNames
        symbolIndex = Dictionary(uniqueKeysWithValues: symbolNames.enumerated().map { ($1, $0) })
        var owner = Array(repeating: -1, count: symbolNames.count)
        let anyListed = shards.contains { !$0.symbols.isEmpty }
        for (i, _) in symbolNames.enumerated() where !anyListed { owner[i] = i % max(shards.count, 1) }
        for shard in shards {
            for name in shard.symbols { if let i = symbolIndex[name] { owner[i] = shard.id } }
        }
        shardOfSymbol = owner
    }

    /// The `SymbolID` raw value and shard of a symbol name, if it exists.
    public func route(_ symbol: String) -> (symbol: UInt32, shard: Int)? {
        guard let i = symbolIndex[symbol] else { return nil }
        return (UInt32(i), shardOfSymbol[i])
    }

    /// Problems, each naming the key: ids not 0…n−1, symbols in no shard or in two, unknown names.
    func validationErrors(source: String) -> [String] {
        var errors: [String] = []
        if shards.isEmpty { errors.append("\(source): shards: at least one shard is needed") }
        for (i, shard) in shards.enumerated() {
            if shard.id != i { errors.append("\(source): shards[\(i)].id: must be \(i) (shards in id order, from 0)") }
            if shard.retransmissionCapacity < 1 {
                errors.append("\(source): shards[\(i)].retransmission_capacity: must be > 0")
            }
            if shard.pollTimeoutMicroseconds < 0 {
                errors.append("\(source): shards[\(i)].poll_timeout_us: must be >= 0")
            }
            if let cpu = shard.cpu, cpu < 0 { errors.append("\(source): shards[\(i)].cpu: must be >= 0") }
            for name in shard.symbols where symbolIndex[name] == nil {
                errors.append("\(source): shards[\(i)].symbols: unknown symbol \(name)")
            }
        }
        var listedIn: [String: Int] = [:]
        for (i, shard) in shards.enumerated() {
            for name in shard.symbols {
                if let other = listedIn[name] {
                    errors.append("\(source): shards[\(i)].symbols: \(name) is already in shards[\(other)]")
                }
                listedIn[name] = i
            }
        }
        if shards.contains(where: { !$0.symbols.isEmpty }) {
            for name in symbolNames where listedIn[name] == nil {
                errors.append("\(source): shards: symbol \(name) is in no shard's symbols list")
            }
        }
        var endpoints: [String: String] = [:]
        for (i, shard) in shards.enumerated() {
            for (key, endpoint) in [
                ("orders", shard.ordersEndpoint), ("events", shard.eventsEndpoint), ("replay", shard.replayEndpoint),
                ("market_data", shard.resolvedMarketDataEndpoint),
                ("market_data_snapshots", shard.resolvedMarketDataSnapshotEndpoint),
            ] {
                let path = "shards[\(i)].\(key)"
                if !["inproc://", "ipc://", "tcp://"].contains(where: endpoint.hasPrefix) {
                    errors.append("\(source): \(path): must start with inproc://, ipc:// or tcp:// (got \(endpoint))")
                }
                // A derived free tcp port (`tcp://HOST:*`) is a different port for each socket.
                let freePort = key.hasPrefix("market_data") && endpoint.hasSuffix(":*")
                if let other = endpoints[endpoint], !freePort {
                    errors.append("\(source): \(path): \(endpoint) is also \(other)")
                }
                endpoints[endpoint] = path
            }
        }
        return errors
    }
}
