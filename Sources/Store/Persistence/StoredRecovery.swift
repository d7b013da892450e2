import ChronosConfig
import ChronosCore
import Foundation
import Logging

/// Reads the stored logs that `chronos engine --recover` seeds an empty journal from.
public enum StoredRecovery {
    /// Waits until the persister has written every event it had read (each shard's high-water
    /// mark reached its recorded ``EventStore/seenSequence(shard:)``) and no mark has moved for
    /// `settleMilliseconds` (events still queued in its socket); gives up after 60 s with a warning
    /// (a persister that died holding events: those are not in the store).
    public static func waitForPersister(
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
    /// - Throws: ``StoredRecoveryError`` naming what failed: opening the store, or reading it.
    /// - Parameter settleMilliseconds: first wait until no shard's high-water mark has moved for
    ///   this long, so that a persister still writing the tail of the crashed engine's stream
    ///   finishes before the log is read (0: read at once).
    public static func logs(
        _ exchange: ExchangeConfiguration, shards: [Int], settleMilliseconds: Int, logger: Logger
    ) async throws(StoredRecoveryError) -> [Int: [EngineEvent]] {
        let store: any EventStore
        do {
            let settings = try exchange.persistence.applyingEnvironment(ProcessInfo.processInfo.environment)
            store = try PersistenceService.storeFactory(settings, logger: logger)()
        } catch {
            throw .cannotOpenStore("\(error)")
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
            throw .cannotRead("\(error)")
        }
    }
}

/// Why the stored logs could not be read.
public enum StoredRecoveryError: Error, CustomStringConvertible {
    /// The `[persistence]` store could not be opened.
    case cannotOpenStore(String)
    /// The store opened but its logs could not be read (or waiting for the persister failed).
    case cannotRead(String)

    public var description: String {
        switch self {
        case .cannotOpenStore(let error): "cannot open the store to recover from\n\(error)"
        case .cannotRead(let error): "cannot recover\n\(error)"
        }
    }
}
