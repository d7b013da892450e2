import Logging
import ServiceLifecycle

/// A ``RiskSidecar`` as a swift-service-lifecycle `Service`: binds and starts the sidecar thread,
/// runs until the group shuts down gracefully (SIGTERM/SIGINT), then stops it.
public struct RiskSidecarService: Service {
    public let sidecar: RiskSidecar
    let logger: Logger
    let onReady: @Sendable () -> Void

    public init(_ sidecar: RiskSidecar, logger: Logger, onReady: @escaping @Sendable () -> Void = {}) {
        self.sidecar = sidecar
        self.logger = logger
        self.onReady = onReady
    }

    public func run() async throws {
        try sidecar.start()
        let risk = sidecar.exchange.risk
        logger.info(
            "risk sidecar started",
            metadata: [
                "endpoint": "\(risk.sidecarEndpoint)", "shards": "\(sidecar.exchange.shards.count)",
                "model_mode": "\(risk.model.policy.mode.rawValue)",
            ])
        onReady()
        try? await gracefulShutdown()
        sidecar.stop()
        let c = sidecar.counters
        logger.info(
            "risk sidecar stopped",
            metadata: [
                "requests": "\(c.requests.load(ordering: .relaxed))",
                "rejects": "\(c.rejects.load(ordering: .relaxed))",
                "flags": "\(c.flags.load(ordering: .relaxed))", "events": "\(c.events.load(ordering: .relaxed))",
                "bad_requests": "\(c.badRequests.load(ordering: .relaxed))",
            ])
    }
}
