import Foundation
import TOMLKit

/// The persistence service (`chronos persist`, and `chronos run` in-process): which store it
/// writes the engine's events to, and how it batches, buffers and retries.
///
/// TOML (`[persistence]`, every key optional):
///
/// ```toml
/// [persistence]
/// enabled = true                              # `chronos run` starts the persister in-process and recovers from it
/// store = "sqlite"                            # or "postgresql"
/// sqlite_path = ".chronos-state/chronos.sqlite"    # default: chronos.sqlite in [gateway] state_dir
/// postgresql_url = "postgresql://chronos@127.0.0.1:5432/chronos"   # or the four keys below
/// postgresql_host = "127.0.0.1"
/// postgresql_port = 5432
/// postgresql_user = "chronos"
/// postgresql_database = "chronos"
/// postgresql_password_file = "/run/secrets/pgpass"   # the password alone, or a libpq pgpass file
/// postgresql_connect_timeout_ms = 5000        # bound on connecting (TCP and the startup handshake)
/// postgresql_query_timeout_ms = 30000         # bound on every query; past it the connection is closed
/// batch_size = 5000                           # events per transaction, at most (a backlog's; less when caught up)
/// buffer_events = 100000                      # events held while the store is behind or down
/// retry_max_ms = 5000                         # the cap of the exponential retry backoff
/// debug_write_delay_ms = 0                    # TEST ONLY: sleep before each transaction
/// # The persister's health (docs/persistence.md, "Failure handling"):
/// startup_timeout_ms = 30000                  # a store not opened by then at start: exit 1
/// lag_alarm_events = 1000000                  # a shard this far behind its engine: ALARM
/// lag_alarm_seconds = 60                      # events announced this long ago still not stored: ALARM
/// ```
///
/// The password is never in the file: it comes from `PGPASSWORD`, `PGPASSFILE` or
/// `postgresql_password_file`. The libpq variables `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`,
/// `PGPASSWORD` and `PGPASSFILE` override the file (``applyingEnvironment(_:)``); when the file
/// names no `store` and `PGHOST` is set, the store is PostgreSQL (the deployment's way).
public struct PersistenceConfiguration: Sendable, Equatable {
    /// Where events are written.
    public enum Store: String, Sendable, Equatable {
        /// A SQLite file in WAL mode: the embedded default.
        case sqlite
        /// A PostgreSQL server.
        case postgresql
    }

    /// Whether `chronos run` starts the persister in-process (and, on start, rebuilds its shards
    /// from the store; on shutdown, stores every event before the shards stop).
    public var enabled = true
    /// The store kind.
    public var store = Store.sqlite
    /// True when the file named `store` (the environment then does not choose it).
    public var storeConfigured = false
    /// The SQLite database file; its folder is created when missing.
    public var sqlitePath = Self.defaultSQLitePath(stateDirectory: GatewayConfiguration().stateDirectory)

    /// `chronos.sqlite` in the exchange's state folder (`[gateway] state_dir`): the SQLite file
    /// when `sqlite_path` is not given.
    public static func defaultSQLitePath(stateDirectory: String) -> String { "\(stateDirectory)/chronos.sqlite" }
    /// PostgreSQL server host name or address.
    public var postgresqlHost = "127.0.0.1"
    /// PostgreSQL server port.
    public var postgresqlPort = 5_432
    /// PostgreSQL user.
    public var postgresqlUser = "chronos"
    /// PostgreSQL database.
    public var postgresqlDatabase = "chronos"
    /// A file with the password alone, or in libpq's pgpass format (`host:port:db:user:password`).
    public var postgresqlPasswordFile: String?
    /// The password, from `PGPASSWORD` only (never from the configuration file).
    public var postgresqlPassword: String?
    /// The bound on connecting to PostgreSQL (TCP connect and the startup handshake), in ms: a
    /// server that accepts and never answers fails the open instead of hanging it.
    public var postgresqlConnectTimeoutMilliseconds = 5_000
    /// The bound on every PostgreSQL query, in ms: the server cancels a statement that runs longer
    /// (`statement_timeout`), and when no answer at all came 1 s later (a stopped server, a dead
    /// network) the connection is closed and the write fails, to be retried on a new connection.
    public var postgresqlQueryTimeoutMilliseconds = 30_000
    /// Events per transaction, at most.
    public var batchSize = 5_000
    /// Events held in memory while the store is behind or down; when full, the persister stops
    /// reading and later catches up from the engine's retransmission ring.
    public var bufferEvents = 100_000
    /// The cap of the retry backoff after a failed write, in ms (it starts at 10 ms and doubles).
    public var retryMaxMilliseconds = 5_000
    /// Test only: a sleep before each transaction, in ms, to make the store artificially slow.
    public var debugWriteDelayMilliseconds = 0

    // The persister's health (docs/persistence.md, "Failure handling").
    /// How long `chronos persist` tries to open the store at start, in ms, before it exits 1 with
    /// the reason (once it has run, an outage is retried for as long as it lasts).
    public var startupTimeoutMilliseconds = 30_000
    /// A shard whose engine is this many events ahead of the store raises an ALARM.
    public var lagAlarmEvents = 1_000_000
    /// A shard whose events announced this many seconds ago are still not stored (the lag has not
    /// shrunk since) raises an ALARM.
    public var lagAlarmSeconds = 60

    public init() {}

    /// This configuration with the libpq environment variables applied: `PGHOST`, `PGPORT`,
    /// `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGPASSFILE`. A `PGHOST` selects PostgreSQL when the
    /// file did not name a store.
    public func applyingEnvironment(_ environment: [String: String]) throws(ConfigurationError)
        -> PersistenceConfiguration
    {
        var c = self
        if let host = environment["PGHOST"], !host.isEmpty {
            c.postgresqlHost = host
            if !c.storeConfigured { c.store = .postgresql }
        }
        if let port = environment["PGPORT"], !port.isEmpty {
            guard let n = Int(port), (1...65_535).contains(n) else {
                throw ConfigurationError(["PGPORT: must be a port number (got \(port))"])
            }
            c.postgresqlPort = n
        }
        if let user = environment["PGUSER"], !user.isEmpty { c.postgresqlUser = user }
        if let database = environment["PGDATABASE"], !database.isEmpty { c.postgresqlDatabase = database }
        if let file = environment["PGPASSFILE"], !file.isEmpty { c.postgresqlPasswordFile = file }
        if let password = environment["PGPASSWORD"] { c.postgresqlPassword = password }
        return c
    }

    /// The PostgreSQL password: `PGPASSWORD`, else the password file (the first matching pgpass
    /// line, or the file's only line), else nil (trust or peer authentication).
    public func resolvedPostgresqlPassword() throws(ConfigurationError) -> String? {
        if let postgresqlPassword { return postgresqlPassword }
        guard let path = postgresqlPasswordFile else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(["\(path): cannot read the PostgreSQL password: \(error.localizedDescription)"])
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter {
            !$0.hasPrefix("#") && !$0.isEmpty
        }
        let pgpass = lines.compactMap(Self.pgpassFields)
        if pgpass.isEmpty { return lines.first }
        let wanted = [postgresqlHost, String(postgresqlPort), postgresqlDatabase, postgresqlUser]
        for fields in pgpass where zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) {
            return fields[4]
        }
        return nil
    }

    /// The five fields of a pgpass line (`\:` and `\\` unescaped), or nil when it has not five.
    static func pgpassFields(_ line: String) -> [String]? {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for ch in line {
            if escaped {
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == ":" && fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        fields.append(current)
        return fields.count == 5 ? fields : nil
    }
}

extension TableReader {
    mutating func persistence(_ table: TOMLTable) -> PersistenceConfiguration {
        let path = "persistence"
        rejectUnknownKeys(
            table, path: path,
            known: [
                "enabled", "store", "sqlite_path", "postgresql_url", "postgresql_host", "postgresql_port",
                "postgresql_user", "postgresql_database", "postgresql_password_file", "postgresql_connect_timeout_ms",
                "postgresql_query_timeout_ms", "batch_size", "buffer_events", "retry_max_ms", "debug_write_delay_ms",
                "startup_timeout_ms", "lag_alarm_events", "lag_alarm_seconds",
            ])
        var c = PersistenceConfiguration()
        if let value = table["enabled"] {
            if let enabled = value.bool {
                c.enabled = enabled
            } else {
                errors.append("\(source): \(path).enabled: must be true or false")
            }
        }
        if let store = string(table, "store", path: path) {
            if let value = PersistenceConfiguration.Store(rawValue: store) {
                c.store = value
                c.storeConfigured = true
            } else {
                errors.append("\(source): \(path).store: must be \"sqlite\" or \"postgresql\" (got \(store))")
            }
        }
        if let v = string(table, "sqlite_path", path: path) {
            if v.isEmpty {
                errors.append("\(source): \(path).sqlite_path: must not be empty")
            } else {
                c.sqlitePath = v
            }
        }
        if let url = string(table, "postgresql_url", path: path) {
            if let components = URLComponents(string: url), ["postgresql", "postgres"].contains(components.scheme) {
                if components.password != nil {
                    errors.append(
                        "\(source): \(path).postgresql_url: no password in the configuration (use PGPASSWORD or a password file)"
                    )
                }
                if let host = components.host, !host.isEmpty { c.postgresqlHost = host }
                if let port = components.port { c.postgresqlPort = port }
                if let user = components.user, !user.isEmpty { c.postgresqlUser = user }
                let database = String(components.path.drop { $0 == "/" })
                if !database.isEmpty { c.postgresqlDatabase = database }
            } else {
                errors.append("\(source): \(path).postgresql_url: must be postgresql://user@host:port/database")
            }
        }
        if let v = string(table, "postgresql_host", path: path) { c.postgresqlHost = v }
        if let v = int(table, "postgresql_port", path: path) {
            if (1...65_535).contains(v) {
                c.postgresqlPort = v
            } else {
                errors.append("\(source): \(path).postgresql_port: must be in 1...65535 (got \(v))")
            }
        }
        if let v = string(table, "postgresql_user", path: path) { c.postgresqlUser = v }
        if let v = string(table, "postgresql_database", path: path) { c.postgresqlDatabase = v }
        if let v = string(table, "postgresql_password_file", path: path) { c.postgresqlPasswordFile = v }
        for (key, minimum) in [
            ("batch_size", 1), ("buffer_events", 1), ("retry_max_ms", 1), ("debug_write_delay_ms", 0),
            ("postgresql_connect_timeout_ms", 1), ("postgresql_query_timeout_ms", 1),
        ] {
            guard let v = int(table, key, path: path) else { continue }
            guard v >= minimum else {
                errors.append("\(source): \(path).\(key): must be >= \(minimum) (got \(v))")
                continue
            }
            switch key {
            case "batch_size": c.batchSize = v
            case "buffer_events": c.bufferEvents = v
            case "retry_max_ms": c.retryMaxMilliseconds = v
            case "postgresql_connect_timeout_ms": c.postgresqlConnectTimeoutMilliseconds = v
            case "postgresql_query_timeout_ms": c.postgresqlQueryTimeoutMilliseconds = v
            default: c.debugWriteDelayMilliseconds = v
            }
        }
        // The persister's health.
        for (key, minimum) in [("startup_timeout_ms", 1), ("lag_alarm_events", 1), ("lag_alarm_seconds", 1)] {
            guard let v = int(table, key, path: path) else { continue }
            guard v >= minimum else {
                errors.append("\(source): \(path).\(key): must be >= \(minimum) (got \(v))")
                continue
            }
            switch key {
            case "startup_timeout_ms": c.startupTimeoutMilliseconds = v
            case "lag_alarm_events": c.lagAlarmEvents = v
            default: c.lagAlarmSeconds = v
            }
        }
        if c.bufferEvents < c.batchSize {
            errors.append("\(source): \(path).buffer_events: must be >= batch_size (\(c.batchSize))")
        }
        return c
    }
}
