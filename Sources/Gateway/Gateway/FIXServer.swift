import ChronosConfig
import FIX
import Logging
import Metrics
import NIOCore

/// One TCP connection of the FIX acceptor: frames bytes, binds the connection to the configured
/// session its first message names, and feeds that session.
///
/// An unknown CompID pair, or a session already bound to another live connection, is
/// disconnected without an answer (as QuickFIX does); a message over the size limit disconnects.
final class FIXConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let sessions: [FIXSessionHost]
    private var framer: FIXFramer
    private var host: FIXSessionHost?
    private let logger: Logger
    private static let unknownSessions = Counter(label: "chronos_gateway_fix_unknown_sessions_total")
    private static let oversized = Counter(
        label: "chronos_gateway_oversized_messages_total", dimensions: [("protocol", "fix")])
    private static let slowConsumers = Counter(
        label: "chronos_gateway_slow_consumers_total", dimensions: [("protocol", "fix")])

    /// How long a new connection may take to send a valid Logon (`[gateway] login_timeout_ms`).
    private let logonTimeout: TimeAmount
    private var logonTimer: Scheduled<Void>?

    init(sessions: [FIXSessionHost], maxMessageSize: Int, logonTimeout: TimeAmount = .seconds(10), logger: Logger) {
        self.sessions = sessions
        self.logonTimeout = logonTimeout
        framer = FIXFramer(maxMessageSize: maxMessageSize)
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        logonTimer = context.eventLoop.assumeIsolated().scheduleTask(in: logonTimeout) { [weak self] in
            guard let self, self.host == nil else { return }
            self.logger.info("no Logon within the logon timeout: disconnecting")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { framer.append($0) }
        while context.channel.isActive, let frame = framer.next() {
            if case .tooLarge(let size) = frame {
                Self.oversized.increment()
                logger.warning("FIX message over the size limit: disconnecting", metadata: ["size": "\(size)"])
                context.close(promise: nil)
                return
            }
            if let host {
                host.receive(frame)
                continue
            }
            guard case .message(let message) = frame else {
                // A garbled first message: nothing to log on with (QuickFIX 1d_InvalidLogonLengthInvalid).
                logger.info("garbled message before Logon: disconnecting")
                context.close(promise: nil)
                return
            }
            // The client's SenderCompID is our TargetCompID and vice versa.
            guard
                let match = sessions.first(where: {
                    $0.settings.targetCompID == message.senderCompID && $0.settings.senderCompID == message.targetCompID
                })
            else {
                Self.unknownSessions.increment()
                logger.warning(
                    "FIX logon for an unknown session: disconnecting",
                    metadata: ["sender": "\(message.senderCompID ?? "")", "target": "\(message.targetCompID ?? "")"])
                context.close(promise: nil)
                return
            }
            if match.isConnected {
                logger.warning("FIX session already has a live connection: disconnecting the new one")
                context.close(promise: nil)
                return
            }
            host = match
            logonTimer?.cancel()
            match.attach(context.channel)
            match.receive(frame)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        logonTimer?.cancel()
        host?.detach(context.channel)
        host = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Above the outbound high-water mark: the client reads slower than it is sent to.
        if !context.channel.isWritable {
            Self.slowConsumers.increment()
            logger.warning("FIX client does not read its messages: outbound queue full, disconnecting")
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("FIX connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
