import Journal
import Logging
import ServiceLifecycle

/// An ``EngineShard`` as a swift-service-lifecycle `Service`: recovers and starts the shard, runs
/// until the group shuts down gracefully (SIGTERM/SIGINT), then lets the loop answer what already
/// arrived, flushes the publisher, writes a final snapshot and stops. When the journal fails the
/// shard stops taking commands and the service throws: the process ends with an error, and a
/// restart recovers up to the last journaled event.
public struct EngineShardService: Service {
    public let shard: EngineShard
    let logger: Logger

    public init(_ shard: EngineShard, logger: Logger) {
        self.shard = shard
        self.logger = logger
    }

    /// The shard stopped because its journal could not take events.
    public struct JournalFailure: Error, CustomStringConvertible {
        public var description: String
    }

    public func run() async throws {
        let config = shard.configuration.shard
        do {
            try shard.start()
        } catch {
            logger.error(
                "engine shard cannot start",
                metadata: [
                    "shard": "\(config.id)", "journal": "\(shard.configuration.journalDirectory)", "error": "\(error)",
                ])
            throw error
        }
        logger.info(
            "engine shard started",
            metadata: [
                "shard": "\(config.id)", "orders": "\(config.ordersEndpoint)", "events": "\(config.eventsEndpoint)",
                "replay": "\(config.replayEndpoint)", "cpu": "\(config.cpu.map(String.init) ?? "unpinned")",
                "idle": "\(config.idle.rawValue)", "journal": "\(shard.configuration.journalDirectory)",
                "durability": "\(shard.configuration.journal.durability.rawValue)",
            ])
        if let recovery = shard.recovery {
            for skipped in recovery.skippedSnapshots {
                logger.warning("snapshot unusable; recovering from an older one", metadata: ["error": "\(skipped)"])
            }
            logger.info(
                "engine shard recovered",
                metadata: [
                    "shard": "\(config.id)", "snapshot": "\(recovery.snapshotPath ?? "none")",
                    "snapshot_sequence": "\(recovery.snapshotSequence)",
                    "journal_commands": "\(recovery.replay.commands)", "journal_events": "\(recovery.replay.events)",
                    "last_sequence": "\(shard.counters.lastSequence.load(ordering: .relaxed))",
                    "unpublished_tail": "\(recovery.replay.unpublishedTail.count)",
                    "seeded_from_store": "\(shard.seededFromLog)",
                    "state_hash": "\(hex(shard.counters.stateHash.load(ordering: .relaxed)))",
                ])
        }
        // Until the group shuts down gracefully, or the journal fails.
        var failed = false
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                if shard.counters.journalFailed.load(ordering: .acquiring) {
                    failed = true
                    return
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        } onGracefulShutdown: {
        }
        shard.stop()
        let c = shard.counters
        if failed {
            let error = shard.journalError.map { "\($0)" } ?? "no segment could be created"
            logger.critical(
                "engine shard stopped: its journal cannot take events; no further command was accepted",
                metadata: [
                    "shard": "\(config.id)", "journal": "\(shard.configuration.journalDirectory)", "error": "\(error)",
                    "last_sequence": "\(c.lastSequence.load(ordering: .relaxed))",
                ])
            throw JournalFailure(
                description: "shard \(config.id): journal \(shard.configuration.journalDirectory): \(error)")
        }
        logger.info(
            "engine shard stopped",
            metadata: [
                "shard": "\(config.id)", "commands": "\(c.commands.load(ordering: .relaxed))",
                "events": "\(c.events.load(ordering: .relaxed))",
                "bad_frames": "\(c.badFrames.load(ordering: .relaxed))",
                "undelivered_reports": "\(c.undeliveredReports.load(ordering: .relaxed))",
                "last_sequence": "\(c.lastSequence.load(ordering: .relaxed))",
                "snapshot_sequence": "\(c.snapshotSequence.load(ordering: .relaxed))",
                "journal_stalls": "\(shard.journalStalls)",
                "state_hash": "\(hex(c.stateHash.load(ordering: .relaxed)))",
            ])
    }
}

/// `0x` and 16 hex digits: how state hashes are logged (and compared by tests).
func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
