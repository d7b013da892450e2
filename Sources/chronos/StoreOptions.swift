import ArgumentParser
import ChronosConfig
import Foundation
import Logging
import Persistence
import Runtime

/// How `chronos persist`, `chronos audit` and `chronos status --persist-store` choose the store:
/// the configuration's `[persistence]`, then the libpq variables (`PGHOST`, `PGPORT`, `PGUSER`,
/// `PGDATABASE`, `PGPASSWORD`, `PGPASSFILE`), then these options.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "TOML configuration (shard map, symbols, [persistence]).") var config: String?
    @Option(name: .long, help: "Store: sqlite or postgresql (overrides [persistence] store).") var store: String?
    @Option(name: .long, help: "SQLite file (overrides [persistence] sqlite_path).") var sqlitePath: String?

    /// Whether any of the options was given.
    var isGiven: Bool { config != nil || store != nil || sqlitePath != nil }

    /// The configuration with the environment and these options applied. Exits 2 on an invalid
    /// file or environment; a bad `--store` is a usage error (64).
    func exchange(command: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ExchangeConfiguration
    {
        var exchange = try loadConfiguration(config, command: command)
        do {
            exchange.persistence = try exchange.persistence.applyingEnvironment(environment)
        } catch {
            FileHandleOutput.standardError("chronos \(command): invalid environment\n\(error)\n")
            throw ExitCode(2)
        }
        if let store {
            guard let value = PersistenceConfiguration.Store(rawValue: store) else {
                throw ValidationError("--store: must be sqlite or postgresql (got \(store))")
            }
            exchange.persistence.store = value
        }
        if let sqlitePath { exchange.persistence.sqlitePath = sqlitePath }
        return exchange
    }

    /// `sqlite PATH` or `postgresql HOST:PORT/DATABASE`, for messages.
    static func describe(_ settings: PersistenceConfiguration) -> String { PersistenceService.describe(settings) }

    /// Opens the store of `settings` to read it (`chronos audit`, `chronos status`): a SQLite file
    /// must exist (reading never creates one). Exits 2 when the settings cannot make a store (a
    /// password file that cannot be read), 1 when the store cannot be opened.
    static func openForReading(_ settings: PersistenceConfiguration, command: String) throws -> any EventStore {
        if settings.store == .sqlite && !FileManager.default.fileExists(atPath: settings.sqlitePath) {
            FileHandleOutput.standardError("chronos \(command): no store: \(settings.sqlitePath) does not exist\n")
            throw ExitCode(1)
        }
        let makeStore: @Sendable () throws -> any EventStore
        do {
            makeStore = try PersistenceService.storeFactory(settings, logger: Logger(label: "chronos.\(command)"))
        } catch {
            FileHandleOutput.standardError("chronos \(command): \(error)\n")
            throw ExitCode(2)
        }
        do {
            return try makeStore()
        } catch {
            FileHandleOutput.standardError(
                "chronos \(command): cannot open the store \(describe(settings)): \(error)\n")
            throw ExitCode(1)
        }
    }
}
