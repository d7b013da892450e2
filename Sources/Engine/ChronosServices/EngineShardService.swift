import Logging
import ServiceLifecycle

/// An ``EngineShard`` as a swift-service-lifecycle `Service`: starts the engine thread, runs until
/// the group shuts down gracefully (SIGTERM/SIGINT), then lets the loop answer what already
/// arrived, flushes the publisher and stops.
public struct EngineShardService: Service {
    public let shard: EngineShard
    let logger: Logger

    public init(_ shard: EngineShard, logger: Logger) {
        self.shard = shard
        self.logger = logger
    }

    public func run() async throws {
        let config = shard.configuration.shard
        try shard.start()
        logger.info(
            "engine shard started",
            metadata: [
                "shard": "\(config.id)", "orders": "\(config.ordersEndpoint)", "events": "\(config.eventsEndpoint)",
                "replay": "\(config.replayEndpoint)", "cpu": "\(config.cpu.map(String.init) ?? "unpinned")",
                "idle": "\(config.idle.rawValue)",
            ])
        if let recovery = shard.recovery {
            logger.info(
                "engine shard recovered",
                metadata: [
                    "shard": "\(config.id)", "commands": "\(recovery.commands)", "events": "\(recovery.events)",
                    "last_sequence": "\(recovery.lastSequence)",
                    "unpublished_tail": "\(recovery.unpublishedTail.count)",
                    "state_hash": "\(hex(shard.counters.stateHash.load(ordering: .relaxed)))",
                ])
        }
        // Waits for the group's graceful shutdown; a cancellation ends the wait too.
        try? await gracefulShutdown()
        shard.stop()
        let c = shard.counters
        logger.info(
            "engine shard stopped",
            metadata: [
                "shard": "\(config.id)", "commands": "\(c.commands.load(ordering: .relaxed))",
                "events": "\(c.events.load(ordering: .relaxed))",
                "bad_frames": "\(c.badFrames.load(ordering: .relaxed))",
                "undelivered_reports": "\(c.undeliveredReports.load(ordering: .relaxed))",
                "last_sequence": "\(c.lastSequence.load(ordering: .relaxed))",
                "state_hash": "\(hex(c.stateHash.load(ordering: .relaxed)))",
            ])
    }
}

/// `0x` and 16 hex digits: how state hashes are logged (and compared by tests).
func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
