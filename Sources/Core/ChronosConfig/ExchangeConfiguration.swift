import ChronosCore
import Foundation
import Journal
import MatchingEngine
import RiskEngine
import TOMLKit

/// The exchange's configuration file (TOML), as far as the built services read it.
///
/// Keys (all optional; defaults in code):
///
/// ```toml
/// [engine]
/// order_capacity = 1000000    # resting orders per shard, preallocated
/// symbol_capacity = 1024      # symbols per shard
/// id_capacity = 1000000       # blocks of 64 used order ids per shard (≈ 1.5× fit)
/// prefault = true             # write every page of the pools at start: no page fault per command
/// huge_pages = false          # ask for transparent huge pages for the large tables
///
/// [[symbols]]                 # one table per symbol; without any, replay creates symbols on use
/// name = "AAPL"
/// tick_size = 1               # price units; prices must be multiples
/// lot_size = 1                # quantities must be multiples
/// min_qty = 1
/// max_qty = 1000000
/// min_price = 1               # price units
/// max_price = 100000000
/// price_decimals = 2          # decimal places of one price unit (FIX prices)
///
/// [metrics]                   # Prometheus text format on http://host:port/metrics
/// host = "127.0.0.1"
/// port = 9464                 # `chronos run`; `chronos engine --shard K` uses port + 1 + K
/// enabled = true
///
/// [[shards]]                  # see ShardConfiguration; default: one shard on inproc endpoints
/// id = 0
/// orders = "ipc:///tmp/chronos-0-orders"
/// events = "ipc:///tmp/chronos-0-events"
/// replay = "ipc:///tmp/chronos-0-replay"
///
/// [gateway]                   # see GatewayConfiguration (listeners, limits, sessions)
/// fix_port = 9878
///
/// [risk]                      # see RiskConfiguration (RiskEngine) and docs/risk.md: static limits
/// max_notional_usd = 1000000
///
/// [persistence]               # see PersistenceConfiguration (store, batching, retries)
/// store = "sqlite"
///
/// [journal]                   # see JournalConfiguration.swift (journal folder, durability, snapshots)
/// durability = "process"
///
/// [market_data]               # see MarketDataSettings (the market-data service; endpoints in [[shards]])
/// enabled = true
/// ```
///
/// Every unknown key and every wrong type is an error that names the key.
public struct ExchangeConfiguration: Sendable, Equatable {
    /// Capacities of each engine shard.
    public var engine: EngineConfiguration
    /// The configured symbols, in file order (empty: symbols are created on first use where allowed).
    public var symbols: [SymbolConfiguration]
    /// The engine shards (default: one shard on inproc endpoints).
    public var shards: [ShardConfiguration]
    /// Where the Prometheus metrics endpoint listens.
    public var metrics = MetricsConfiguration()
    /// The gateway's listeners, sessions and limits (`[gateway]`).
    public var gateway = GatewayConfiguration()
    /// The risk engine's static limits (`[risk]`).
    public var risk = RiskConfiguration()
    /// The persistence service's store, batching and retries (`[persistence]`).
    public var persistence = PersistenceConfiguration()
    /// Each shard's journal and snapshots (`[journal]`); by default in `[gateway] state_dir`/journal.
    public var journal = JournalSettings(root: GatewayConfiguration().stateDirectory + "/journal")
    /// The market-data service (`[market_data]`).
    public var marketData = MarketDataSettings()

    /// The embedded default: default capacities, no configured symbols, one inproc shard.
    public init(
        engine: EngineConfiguration = EngineConfiguration(), symbols: [SymbolConfiguration] = [],
        shards: [ShardConfiguration] = [.inproc(id: 0)]
    ) {
        self.engine = engine
        self.symbols = symbols
        self.shards = shards
    }

    /// The symbols the live services trade when the file configures none.
    public static let defaultLiveSymbols: [SymbolConfiguration] = ["AAPL", "MSFT", "GOOG", "AMZN"].map {
        SymbolConfiguration(name: $0, maxQuantity: 1_000_000, maxPrice: 100_000_000)
    }

    /// The symbols of the live services: the configured ones, or ``defaultLiveSymbols``.
    public var liveSymbols: [SymbolConfiguration] { symbols.isEmpty ? Self.defaultLiveSymbols : symbols }

    /// The shard map of the live services.
    public var shardMap: ShardMap { ShardMap(shards: shards, symbolNames: liveSymbols.map(\.name)) }

    /// Reads and validates a TOML file.
    public static func load(path: String) throws(ConfigurationError) -> ExchangeConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(["\(path): cannot read: \(error.localizedDescription)"])
        }
        return try parse(toml: text, source: path)
    }

    /// Parses and validates TOML text; `source` names it in errors.
    public static func parse(toml: String, source: String = "config") throws(ConfigurationError)
        -> ExchangeConfiguration
    {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: toml)
        } catch let error as TOMLParseError {
            throw ConfigurationError(["\(source):\(error.source.begin.line): \(error.description)"])
        } catch {
            throw ConfigurationError(["\(source): \(error)"])
        }
        var reader = TableReader(source: source)
        var configuration = ExchangeConfiguration()
        reader.rejectUnknownKeys(
            root, path: "",
            known: [
                "engine", "symbols", "shards", "metrics", "gateway", "risk", "persistence", "journal", "market_data",
            ])
        if let gateway = reader.table(root, "gateway", path: "") { configuration.gateway = reader.gateway(gateway) }
        if let persistence = reader.table(root, "persistence", path: "") {
            configuration.persistence = reader.persistence(persistence)
        }
        // The SQLite store lives with the rest of the exchange's local state unless placed elsewhere.
        if root["persistence"]?.table?["sqlite_path"] == nil {
            configuration.persistence.sqlitePath = PersistenceConfiguration.defaultSQLitePath(
                stateDirectory: configuration.gateway.stateDirectory)
        }
        // The journal too, unless placed elsewhere.
        configuration.journal.root = configuration.gateway.stateDirectory + "/journal"
        if let journal = reader.table(root, "journal", path: "") {
            configuration.journal = reader.journal(journal, defaults: configuration.journal)
        }
        if let marketData = reader.table(root, "market_data", path: "") {
            configuration.marketData = reader.marketData(marketData)
        }
        if let metrics = reader.table(root, "metrics", path: "") {
            reader.rejectUnknownKeys(metrics, path: "metrics", known: ["host", "port", "enabled"])
            if let host = reader.string(metrics, "host", path: "metrics") { configuration.metrics.host = host }
            if let port = reader.int(metrics, "port", path: "metrics") {
                if (0...65_535).contains(port) {
                    configuration.metrics.port = port
                } else {
                    reader.errors.append("\(source): metrics.port: must be in 0...65535 (got \(port))")
                }
            }
            if let value = metrics["enabled"] {
                if let enabled = value.bool {
                    configuration.metrics.enabled = enabled
                } else {
                    reader.errors.append("\(source): metrics.enabled: must be true or false")
                }
            }
        }
        if let engine = reader.table(root, "engine", path: "") {
            reader.rejectUnknownKeys(
                engine, path: "engine",
                known: ["order_capacity", "symbol_capacity", "id_capacity", "prefault", "huge_pages"])
            let orderCapacity =
                reader.int(engine, "order_capacity", path: "engine") ?? configuration.engine.orderCapacity
            configuration.engine = EngineConfiguration(
                orderCapacity: orderCapacity,
                symbolCapacity: reader.int(engine, "symbol_capacity", path: "engine")
                    ?? configuration.engine.symbolCapacity,
                usedIDBlockCapacity: reader.int(engine, "id_capacity", path: "engine"),
                prefault: reader.bool(engine, "prefault", path: "engine") ?? configuration.engine.prefault,
                hugePages: reader.bool(engine, "huge_pages", path: "engine") ?? configuration.engine.hugePages)
            reader.errors += configuration.engine.validationErrors.map { "\(source): engine.\($0)" }
        }
        if let symbols = root["symbols"] {
            if let array = symbols.array {
                var seen = Set<String>()
                for (i, element) in array.enumerated() {
                    let path = "symbols[\(i)]"
                    guard let table = element.table else {
                        reader.errors.append("\(source): \(path): must be a table")
                        continue
                    }
                    if let name = table["name"]?.string, !seen.insert(name).inserted {
                        reader.errors.append("\(source): \(path).name: symbol \(name) is configured twice")
                    }
                    if let symbol = reader.symbol(table, path: path) { configuration.symbols.append(symbol) }
                }
            } else {
                reader.errors.append("\(source): symbols: must be an array of tables ([[symbols]])")
            }
        }
        if let shards = root["shards"] {
            if let array = shards.array {
                configuration.shards = []
                for (i, element) in array.enumerated() {
                    guard let table = element.table else {
                        reader.errors.append("\(source): shards[\(i)]: must be a table")
                        continue
                    }
                    if let shard = reader.shard(table, path: "shards[\(i)]") { configuration.shards.append(shard) }
                }
            } else {
                reader.errors.append("\(source): shards: must be an array of tables ([[shards]])")
            }
        }
        if let risk = reader.table(root, "risk", path: "") {
            configuration.risk = reader.risk(risk, symbolNames: configuration.symbols.map(\.name))
        }
        if reader.errors.isEmpty { reader.errors += configuration.shardMap.validationErrors(source: source) }
        guard reader.errors.isEmpty else { throw ConfigurationError(reader.errors) }
        return configuration
    }
}

/// An unusable configuration: every problem found, each naming the file and key.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// One line per problem, e.g. `"chronos.toml: symbols[0].tick_size: must be > 0 (got 0)"`.
    public var problems: [String]

    public init(_ problems: [String]) { self.problems = problems }

    public var description: String { problems.joined(separator: "\n") }
}

/// Collects typed values and errors while walking TOML tables.
struct TableReader {
    let source: String
    var errors: [String] = []

    mutating func rejectUnknownKeys(_ table: TOMLTable, path: String, known: Set<String>) {
        for key in table.keys.sorted() where !known.contains(key) {
            errors.append("\(source): \(path.isEmpty ? key : "\(path).\(key)"): unknown key")
        }
    }

    mutating func table(_ table: TOMLTable, _ key: String, path: String) -> TOMLTable? {
        guard let value = table[key] else { return nil }
        guard let t = value.table else {
            errors.append("\(source): \(path.isEmpty ? key : "\(path).\(key)"): must be a table")
            return nil
        }
        return t
    }

    mutating func int(_ table: TOMLTable, _ key: String, path: String) -> Int? {
        guard let value = table[key] else { return nil }
        guard value.type == .int, let n = value.int else {
            errors.append("\(source): \(path).\(key): must be an integer")
            return nil
        }
        return n
    }

    mutating func bool(_ table: TOMLTable, _ key: String, path: String) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else {
            errors.append("\(source): \(path).\(key): must be true or false")
            return nil
        }
        return flag
    }

    mutating func string(_ table: TOMLTable, _ key: String, path: String) -> String? {
        guard let value = table[key] else { return nil }
        guard let s = value.string else {
            errors.append("\(source): \(path).\(key): must be a string")
            return nil
        }
        return s
    }

    mutating func shard(_ table: TOMLTable, path: String) -> ShardConfiguration? {
        rejectUnknownKeys(
            table, path: path,
            known: [
                "id", "orders", "events", "replay", "symbols", "cpu", "idle", "poll_timeout_us",
                "retransmission_capacity", "market_data", "market_data_snapshots",
            ])
        var missing = false
        for key in ["id", "orders", "events", "replay"] where table[key] == nil {
            errors.append("\(source): \(path).\(key): missing")
            missing = true
        }
        guard !missing, let id = int(table, "id", path: path), let orders = string(table, "orders", path: path),
            let events = string(table, "events", path: path), let replay = string(table, "replay", path: path)
        else { return nil }
        var shard = ShardConfiguration(id: id, ordersEndpoint: orders, eventsEndpoint: events, replayEndpoint: replay)
        if let value = table["symbols"] {
            if let names = value.array?.map({ $0.string }), !names.contains(where: { $0 == nil }) {
                shard.symbols = names.compactMap { $0 }
            } else {
                errors.append("\(source): \(path).symbols: must be an array of strings")
            }
        }
        shard.cpu = int(table, "cpu", path: path)
        if let idle = string(table, "idle", path: path) {
            if let value = ShardConfiguration.Idle(rawValue: idle) {
                shard.idle = value
            } else {
                errors.append("\(source): \(path).idle: must be \"spin\" or \"poll\" (got \(idle))")
            }
        }
        if let v = int(table, "poll_timeout_us", path: path) { shard.pollTimeoutMicroseconds = v }
        if let v = int(table, "retransmission_capacity", path: path) { shard.retransmissionCapacity = v }
        shard.marketDataEndpoint = string(table, "market_data", path: path)
        shard.marketDataSnapshotEndpoint = string(table, "market_data_snapshots", path: path)
        return shard
    }

    mutating func symbol(_ table: TOMLTable, path: String) -> SymbolConfiguration? {
        rejectUnknownKeys(
            table, path: path,
            known: [
                "name", "tick_size", "lot_size", "min_qty", "max_qty", "min_price", "max_price", "price_decimals",
            ])
        guard let name = string(table, "name", path: path) else {
            if table["name"] == nil { errors.append("\(source): \(path).name: missing") }
            return nil
        }
        if name.isEmpty {
            errors.append("\(source): \(path).name: must not be empty")
            return nil
        }
        var symbol = SymbolConfiguration(name: name)
        if let v = int(table, "tick_size", path: path) { symbol.tickSize = Int64(v) }
        if let v = int(table, "lot_size", path: path) { symbol.lotSize = Int64(v) }
        if let v = int(table, "min_qty", path: path) { symbol.minQuantity = Int64(v) }
        if let v = int(table, "max_qty", path: path) { symbol.maxQuantity = Int64(v) }
        if let v = int(table, "min_price", path: path) { symbol.minPrice = Int64(v) }
        if let v = int(table, "max_price", path: path) { symbol.maxPrice = Int64(v) }
        if let v = int(table, "price_decimals", path: path) { symbol.priceDecimals = v }
        let problems = symbol.validationErrors
        errors += problems.map { "\(source): \(path).\($0)" }
        return problems.isEmpty ? symbol : nil
    }
}

/// The metrics endpoint of the services.
public struct MetricsConfiguration: Sendable, Equatable {
    /// Address to listen on (loopback by default).
    public var host = "127.0.0.1"
    /// Port of `chronos run`; `chronos engine --shard K` listens on `port + 1 + K`. 0 picks a free port.
    public var port = 9_464
    /// Whether to serve metrics at all.
    public var enabled = true

    public init() {}
}
