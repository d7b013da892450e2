import ArgumentParser
import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import Journal
import Logging
import Persistence

/// Reads the logs that `chronos engine --recover` and `chronos run` rebuild their shards from.
enum StoredRecovery {
    /// Waits until the persister has written every event it had read (each shard's high-water
    /// mark reached its recorded ``EventStore/seenSequence(shard:)``) and no mark has moved for
    /// `settleMilliseconds` (events still queued in its socket); gives up after 60 s with a warning
    /// (a persister that died holding events: those are not in the store).
    static func waitForPersister(
        _ store: any EventStore, shards: [Int], settleMilliseconds: Int, logger: Logger
    ) async throws {
        func marks() throws -> [UInt64] { try shards.map { try store.highWaterMark(shard: $0) } }
        /// The shards whose mark in `marks` (read before) is below the persister's read position.
        func behind(_ marks: [UInt64]) throws -> [Int] {
            try zip(shards, marks).filter { $1 < (try store.seenSequence(shard: $0)) }.map(\.0)
        }
        let deadline = ContinuousClock.now + .seconds(60)
        var last = try marks()
        var quietSince = ContinuousClock.now
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(min(100, settleMilliseconds)))
            let now = try marks()
            if now != last {
                last = now
                quietSince = ContinuousClock.now
            } else if ContinuousClock.now - quietSince >= .milliseconds(settleMilliseconds), try behind(now).isEmpty {
                return
            }
        }
        let shardsBehind = try behind(last)
        logger.warning(
            "the persister has not written every event it read; recovering from what is stored",
            metadata: ["shards_behind": "\(shardsBehind)"])
    }

    /// Each of `shards`' stored log, from the `[persistence]` store (libpq variables applied).
    ///
    /// - Parameter settleMilliseconds: first wait until no shard's high-water mark has moved for
    ///   this long, so that a persister still writing the tail of the crashed engine's stream
    ///   finishes before the log is read (0: read at once).
    static func logs(
        _ exchange: ExchangeConfiguration, shards: [Int], settleMilliseconds: Int, command: String, logger: Logger
    ) async throws -> [Int: [EngineEvent]] {
        let store: any EventStore
        do {
            let settings = try exchange.persistence.applyingEnvironment(ProcessInfo.processInfo.environment)
            store = try PersistenceService.storeFactory(settings, logger: logger)()
        } catch {
            FileHandleOutput.standardError("chronos \(command): cannot open the store to recover from\n\(error)\n")
            throw ExitCode(1)
        }
        defer { store.close() }
        do {
            if settleMilliseconds > 0 {
                try await waitForPersister(
                    store, shards: shards, settleMilliseconds: settleMilliseconds, logger: logger)
            }
            var logs: [Int: [EngineEvent]] = [:]
            for shard in shards {
                let log = try store.recoveryLog(shard: shard)
                if log.eventsBeyondMark > 0 {
                    logger.warning(
                        "stored events beyond the high-water mark are not part of the recovery",
                        metadata: ["shard": "\(shard)", "events": "\(log.eventsBeyondMark)"])
                }
                logs[shard] = log.events
            }
            return logs
        } catch {
            FileHandleOutput.standardError("chronos \(command): cannot recover\n\(error)\n")
            throw ExitCode(1)
        }
    }
}

/// The prices a restarted exchange's risk checks start from.
enum RecoveredPrices {
    /// Each symbol's last trade price before this start, read backwards from every shard's
    /// journal as its recovery left it (the shards must have started): what the inline risk
    /// engine would have known had it not restarted. A journal that cannot be read gives nothing
    /// for its symbols (they fall back to `[risk.symbols] reference_price`), with a warning.
    static func lastTrades(_ exchange: ExchangeConfiguration, shards: [EngineShard], logger: Logger)
        -> [SymbolID: Price]
    {
        let shardOfSymbol = exchange.shardMap.shardOfSymbol
        var prices: [SymbolID: Price] = [:]
        for shard in shards {
            let id = shard.configuration.shard.id
            guard let last = shard.recovery?.lastJournaled, last > 0 else { continue }
            let symbols = Set(shardOfSymbol.indices.filter { shardOfSymbol[$0] == id }.map { SymbolID(UInt32($0)) })
            do {
                let reader = try JournalReader(directory: shard.configuration.journalDirectory)
                prices.merge(try reader.lastTradePrices(atOrBefore: last, symbols: symbols)) { first, _ in first }
            } catch {
                logger.warning(
                    "cannot read the last trade prices from the journal",
                    metadata: ["shard": "\(id)", "error": "\(error)"])
            }
        }
        return prices
    }
}
