import BinaryProtocol
import Logging
import Metrics
import NIOCore
import Runtime

/// Finds the configured login a Login message names, if its password matches.
struct BinaryLogins {
    let sessions: [BinarySessionHost]

    func authenticate(_ login: Login) -> BinarySessionHost? {
        sessions.first {
            $0.settings.username == login.username.string && $0.settings.password == login.password.string
        }
    }

    func session(id: UInt32) -> BinarySessionHost? {
        let index = Int(id) - 1
        return index >= 0 && index < sessions.count ? sessions[index] : nil
    }
}

/// Heartbeat intervals a client may ask for (0 = no heartbeats is refused: silence must be detectable).
let acceptedHeartbeatIntervals: ClosedRange<UInt32> = 100...60_000

/// One TCP connection of the binary protocol: decodes messages, requires a Login first, then
/// feeds the session the login named. Framing errors (a bad or oversized length) disconnect;
/// other bad messages are answered `rejected` and the stream goes on.
final class BinaryTCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let logins: BinaryLogins
    private var host: BinarySessionHost?
    private var cumulation: ByteBuffer?
    private let logger: Logger
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    private static let badMessages = Counter(
        label: "chronos_gateway_malformed_messages_total", dimensions: [("protocol", "binary_tcp")])
    private static let slowConsumers = Counter(
        label: "chronos_gateway_slow_consumers_total", dimensions: [("protocol", "binary_tcp")])

    private static let loginTimeouts = Counter(
        label: "chronos_gateway_login_timeouts_total", dimensions: [("protocol", "binary_tcp")])
    /// How long a connection may stay open without a valid Login (`[gateway] login_timeout_ms`).
    private let loginTimeout: TimeAmount
    private var loginTimer: Scheduled<Void>?

    init(logins: BinaryLogins, loginTimeout: TimeAmount = .seconds(10), logger: Logger) {
        self.logins = logins
        self.loginTimeout = loginTimeout
        self.logger = logger
    }

    deinit { scratch.deallocate() }

    /// A connection that never logs in is closed after the login timeout, as FIX closes one
    /// without a Logon: it would otherwise hold a socket (and its buffers) forever.
    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let logger = logger
        loginTimer = context.eventLoop.assumeIsolated().scheduleTask(in: loginTimeout) { [weak self] in
            guard let self, self.host == nil else { return }
            Self.loginTimeouts.increment()
            logger.info("no Login within the login timeout: disconnecting")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if cumulation == nil {
            cumulation = incoming
        } else {
            cumulation!.writeBuffer(&incoming)
        }
        let now = SystemClock.monotonicNanoseconds()
        while context.channel.isActive, var buffer = cumulation, buffer.readableBytes > 0 {
            let result = buffer.withUnsafeReadableBytes { ClientMessage.decode($0) }
            switch result {
            case .needMoreBytes:
                return
            case .message(let message, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                cumulation = buffer.readableBytes == 0 ? nil : buffer
                handle(message, context: context, now: now)
            case .error(let error, let skip):
                Self.badMessages.increment()
                guard let skip else {
                    logger.warning("binary framing lost: disconnecting", metadata: ["error": "\(error)"])
                    reply(.logout(.protocolError), context: context)
                    context.close(promise: nil)
                    cumulation = nil
                    return
                }
                // An order request keeps its ids in the answer, so that the client knows which failed.
                let request =
                    buffer.withUnsafeReadableBytes { ClientMessage.requestIdentity($0) }
                    ?? ClientMessage.RequestIdentity(kind: .other, clientOrderID: 0, requestID: 0)
                buffer.moveReaderIndex(forwardBy: skip)
                cumulation = buffer.readableBytes == 0 ? nil : buffer
                reply(.rejected(RejectedReport(request, errorCode: error.errorCode)), context: context)
            }
        }
    }

    private func handle(_ message: ClientMessage, context: ChannelHandlerContext, now: UInt64) {
        if let host {
            host.receive(message, now: now)
            return
        }
        guard case .login(let login) = message else {
            reply(.rejected(RejectedReport(message.requestIdentity, errorCode: .notLoggedIn)), context: context)
            return
        }
        // A refused login closes the connection (docs/protocol.md): no password guessing on one socket.
        guard let session = logins.authenticate(login) else {
            logger.warning("binary login refused", metadata: ["username": "\(login.username.string)"])
            reply(.loginRejected(.badCredentials), context: context)
            context.close(promise: nil)
            return
        }
        guard !session.isConnected else {
            reply(.loginRejected(.alreadyLoggedIn), context: context)
            context.close(promise: nil)
            return
        }
        guard acceptedHeartbeatIntervals.contains(login.heartbeatIntervalMs) else {
            reply(.loginRejected(.invalidHeartbeatInterval), context: context)
            context.close(promise: nil)
            return
        }
        host = session
        loginTimer?.cancel()
        loginTimer = nil
        session.attach(.tcp(context.channel), heartbeatIntervalMs: login.heartbeatIntervalMs, now: now)
    }

    private func reply(_ message: ServerMessage, context: ChannelHandlerContext) {
        let n = message.encode(into: scratch)
        context.writeAndFlush(
            wrapOutboundOut(context.channel.allocator.buffer(bytes: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))),
            promise: nil)
    }
    typealias OutboundOut = ByteBuffer

    func channelInactive(context: ChannelHandlerContext) {
        loginTimer?.cancel()
        loginTimer = nil
        if let host, case .tcp(let channel)? = host.transport, channel === context.channel { host.detach() }
        host = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable {
            Self.slowConsumers.increment()
            logger.warning("binary client does not read its messages: outbound queue full, disconnecting")
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("binary connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

/// The binary protocol over UDP: one message per datagram behind a UDP header (session id,
/// token, client sequence). Login arrives with session id 0; after it, datagrams must carry the
/// session's id and token and come from the address the session logged in from. Datagrams from
/// unknown or unauthenticated sources, from any other address, and undecodable ones, are dropped
/// and counted (answering them would make the gateway a reflector).
final class BinaryUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let logins: BinaryLogins
    private let logger: Logger
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 8)
    private static let dropped = Counter(label: "chronos_gateway_udp_datagrams_dropped_total")
    private static let wrongSource = Counter(label: "chronos_gateway_udp_wrong_source_total")
    /// At most one warning per this many nanoseconds about datagrams from a wrong address: a
    /// flood of them must not become a flood of log lines.
    static let wrongSourceLogInterval: UInt64 = 10_000_000_000
    private var lastWrongSourceLog: UInt64?
    private var wrongSourceSinceLog = 0

    init(logins: BinaryLogins, logger: Logger) {
        self.logins = logins
        self.logger = logger
    }

    deinit { scratch.deallocate() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let now = SystemClock.monotonicNanoseconds()
        let decoded = envelope.data.withUnsafeReadableBytes { ClientDatagram.decode($0) }
        guard case .success(let datagram) = decoded else {
            Self.dropped.increment()
            return
        }
        let header = datagram.header
        if header.sessionID == 0 {
            guard case .login(let login) = datagram.message, let session = logins.authenticate(login),
                acceptedHeartbeatIntervals.contains(login.heartbeatIntervalMs)
            else {
                // A failed login is answered once, so that a client with a typo learns why; anything
                // else without a session is dropped.
                if case .login = datagram.message {
                    reply(.loginRejected(.badCredentials), header: header, to: envelope.remoteAddress, context: context)
                } else {
                    Self.dropped.increment()
                }
                return
            }
            switch session.transport {
            case .tcp?:
                reply(.loginRejected(.alreadyLoggedIn), header: header, to: envelope.remoteAddress, context: context)
            case .udp(_, let address)? where address == envelope.remoteAddress:
                // The client's copy of the answer was lost: the same session, the same token.
                session.repeatLoginAnswer()
            case .udp?:
                // Another address holds the session until it logs out or falls silent.
                reply(.loginRejected(.alreadyLoggedIn), header: header, to: envelope.remoteAddress, context: context)
            case nil:
                session.attach(
                    .udp(context.channel, envelope.remoteAddress), heartbeatIntervalMs: login.heartbeatIntervalMs,
                    now: now, sequence: header.clientSequence)
            }
            return
        }
        guard let session = logins.session(id: header.sessionID), session.token != 0,
            session.token == header.sessionToken,
            case .udp(_, let boundAddress)? = session.transport
        else {
            Self.dropped.increment()
            return
        }
        // The session belongs to the address it logged in from: a datagram from anywhere else,
        // even with the right token (seen on the wire, or a stale client), is not the session's.
        guard boundAddress == envelope.remoteAddress else {
            Self.dropped.increment()
            Self.wrongSource.increment()
            noteWrongSource(session: session, from: envelope.remoteAddress, now: now)
            return
        }
        session.receiveDatagram(header, datagram.message, now: now)
    }

    /// Logs a datagram refused for its source address, at most once per ``wrongSourceLogInterval``
    /// (with the number refused since the last line).
    private func noteWrongSource(session: BinarySessionHost, from address: SocketAddress, now: UInt64) {
        wrongSourceSinceLog += 1
        if let last = lastWrongSourceLog, now &- last < Self.wrongSourceLogInterval { return }
        logger.warning(
            "UDP datagram for a session from another address than its login's: dropped",
            metadata: [
                "binary_session": "\(session.settings.username)", "source": "\(address)",
                "dropped_since_last_warning": "\(wrongSourceSinceLog)",
            ])
        lastWrongSourceLog = now
        wrongSourceSinceLog = 0
    }

    private func reply(
        _ message: ServerMessage, header: UDPHeader, to address: SocketAddress, context: ChannelHandlerContext
    ) {
        let n = ServerDatagram(
            header: UDPHeader(sessionID: 0, sessionToken: 0, clientSequence: header.clientSequence), message: message
        )
        .encode(into: scratch)
        let buffer = context.channel.allocator.buffer(bytes: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: address, data: buffer)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("UDP error", metadata: ["error": "\(error)"])
    }
}
