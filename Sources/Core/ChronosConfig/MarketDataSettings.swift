import TOMLKit

/// The market-data service (`chronos run` in-process, docs/market-data.md): one publisher per
/// engine shard, which follows the shard's events and publishes level-2 updates, trades, the best
/// bid/offer, heartbeats and snapshots on ZeroMQ.
///
/// TOML (`[market_data]`, every key optional):
///
/// ```toml
/// [market_data]
/// enabled = true                    # `chronos run` starts the market-data service in-process
/// snapshot_interval_ms = 5000       # every symbol's snapshot on the PUB socket this often (0: never)
/// heartbeat_interval_ms = 1000      # every symbol's last sequence number on the PUB socket this often
/// send_high_water_mark = 100000     # messages queued per subscriber; beyond, ZeroMQ drops (a gap there)
/// level_capacity_per_side = 16384   # price levels per side of one symbol the book can show
/// ```
///
/// The endpoints are per shard, in its `[[shards]]` table (``ShardConfiguration``):
/// `market_data` (PUB) and `market_data_snapshots` (ROUTER). Without them they are derived from
/// the shard's `events` endpoint (``ShardConfiguration/resolvedMarketDataEndpoint``).
public struct MarketDataSettings: Sendable, Equatable {
    /// Whether `chronos run` starts the market-data service.
    public var enabled = true
    /// Period of the per-symbol snapshots on the PUB socket, in ms; 0 turns them off.
    public var snapshotIntervalMilliseconds = 5_000
    /// Period of the per-symbol heartbeats on the PUB socket, in ms (> 0).
    public var heartbeatIntervalMilliseconds = 1_000
    /// `ZMQ_SNDHWM` of the PUB socket: messages queued per subscriber before ZeroMQ drops them.
    public var sendHighWaterMark = 100_000
    /// Price levels per side of one symbol the service's book holds (more are not shown, and the
    /// symbol is marked impaired).
    public var levelCapacityPerSide = 16_384

    /// The defaults above.
    public init() {}

    /// Problems, one line each, naming the key.
    func validationErrors(source: String) -> [String] {
        var errors: [String] = []
        if snapshotIntervalMilliseconds < 0 {
            errors.append(
                "\(source): market_data.snapshot_interval_ms: must be >= 0 (got \(snapshotIntervalMilliseconds))")
        }
        if heartbeatIntervalMilliseconds < 1 {
            errors.append(
                "\(source): market_data.heartbeat_interval_ms: must be > 0 (got \(heartbeatIntervalMilliseconds))")
        }
        if sendHighWaterMark < 1 || sendHighWaterMark > Int(Int32.max) {
            errors.append(
                "\(source): market_data.send_high_water_mark: must be in 1...2147483647 (got \(sendHighWaterMark))")
        }
        if levelCapacityPerSide < 1 || levelCapacityPerSide > 1 << 24 {
            errors.append(
                "\(source): market_data.level_capacity_per_side: must be in 1...16777216 (got \(levelCapacityPerSide))")
        }
        return errors
    }
}

extension ShardConfiguration {
    /// The PUB endpoint of the shard's market data: `market_data`, or derived from `events`:
    /// `inproc://` and `ipc://` endpoints ending in `events` get `market-data` instead (any other
    /// gets `-market-data` appended); a `tcp://HOST:PORT` endpoint gives `tcp://HOST:*`, a free
    /// port the service logs (configure it explicitly for consumers in other processes).
    public var resolvedMarketDataEndpoint: String {
        marketDataEndpoint ?? Self.derive(eventsEndpoint, "market-data")
    }

    /// The ROUTER endpoint of the shard's snapshot requests: `market_data_snapshots`, or derived
    /// from `events` as ``resolvedMarketDataEndpoint`` is, with `market-data-snapshots`.
    public var resolvedMarketDataSnapshotEndpoint: String {
        marketDataSnapshotEndpoint ?? Self.derive(eventsEndpoint, "market-data-snapshots")
    }

    private static func derive(_ events: String, _ role: String) -> String {
        if events.hasPrefix("tcp://") {
            let address = events.dropFirst("tcp://".count)
            let host = address.lastIndex(of: ":").map { address[..<$0] } ?? address
            return "tcp://\(host):*"
        }
        if events.hasSuffix("events") { return String(events.dropLast("events".count)) + role }
        return events + "-" + role
    }
}

extension TableReader {
    mutating func marketData(_ table: TOMLTable) -> MarketDataSettings {
        let path = "market_data"
        rejectUnknownKeys(
            table, path: path,
            known: [
                "enabled", "snapshot_interval_ms", "heartbeat_interval_ms", "send_high_water_mark",
                "level_capacity_per_side",
            ])
        var settings = MarketDataSettings()
        if let v = bool(table, "enabled", path: path) { settings.enabled = v }
        if let v = int(table, "snapshot_interval_ms", path: path) { settings.snapshotIntervalMilliseconds = v }
        if let v = int(table, "heartbeat_interval_ms", path: path) { settings.heartbeatIntervalMilliseconds = v }
        if let v = int(table, "send_high_water_mark", path: path) { settings.sendHighWaterMark = v }
        if let v = int(table, "level_capacity_per_side", path: path) { settings.levelCapacityPerSide = v }
        errors += settings.validationErrors(source: source)
        return settings
    }
}
