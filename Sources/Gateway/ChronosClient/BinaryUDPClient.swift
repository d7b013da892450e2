import BinaryProtocol
import NIOCore
import NIOPosix
import Synchronization

/// A client of the binary order-entry protocol over UDP (docs/protocol.md, "UDP"), on SwiftNIO.
///
/// Binds an ephemeral local port and sends every datagram to the gateway's address. After
/// ``login(username:password:heartbeatIntervalMs:timeout:)`` each ``send(_:)`` carries the session's
/// id and token and the next client sequence number (1, 2, 3…); ``send(_:sequence:)`` sends with a
/// sequence of the caller's choice (a resend, or a deliberate gap) without moving the counter.
///
/// ``datagrams`` yields every valid datagram that arrives, with the client sequence it answers
/// (``ReceivedDatagram/header``, 0 for unsolicited messages) and its monotonic receive time.
/// Datagrams that do not decode are dropped and counted (``droppedDatagrams``). UDP loses,
/// duplicates and reorders: this client does not retransmit by itself.
public final class BinaryUDPClient: Sendable {
    /// Every valid datagram that arrives, until ``close()``.
    public let datagrams: AsyncStream<ReceivedDatagram>
    /// The gateway's address.
    public let remoteAddress: SocketAddress

    let channel: any Channel
    let handler: NIOLoopBound<UDPClientHandler>
    /// Completes with the first login answer (see `UDPClientHandler`).
    let loginFuture: EventLoopFuture<LoginAccepted>
    private let state = Mutex(SessionState())

    /// The session once logged in, and the next client sequence number.
    struct SessionState {
        var session: LoginAccepted?
        var nextSequence: UInt64 = 1
    }

    private init(
        channel: any Channel, remoteAddress: SocketAddress, handler: NIOLoopBound<UDPClientHandler>,
        loginFuture: EventLoopFuture<LoginAccepted>,
        datagrams: AsyncStream<ReceivedDatagram>
    ) {
        self.channel = channel
        self.remoteAddress = remoteAddress
        self.handler = handler
        self.loginFuture = loginFuture
        self.datagrams = datagrams
    }

    /// Binds an ephemeral local UDP port (IPv4 or IPv6, as the gateway's address) for talking to the
    /// gateway at `host`:`port`.
    ///
    /// - Throws: ``BinaryClientError/invalidArgument(_:)`` when `host` does not resolve; NIO's bind
    ///   errors.
    public static func connect(
        host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> BinaryUDPClient {
        let remote: SocketAddress
        do {
            remote = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw BinaryClientError.invalidArgument("host \(host)")
        }
        let (datagrams, continuation) = AsyncStream.makeStream(of: ReceivedDatagram.self)
        let eventLoop = group.next()
        let loginPromise = eventLoop.makePromise(of: LoginAccepted.self)
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            UDPClientHandler(continuation: continuation, loginPromise: loginPromise))
                    }
                }
                .bind(host: remote.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get()
        } catch {
            loginPromise.fail(error)
            continuation.finish()
            throw error
        }
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: UDPClientHandler.self), eventLoop: eventLoop)
        }.get()
        return BinaryUDPClient(
            channel: channel, remoteAddress: remote, handler: handler, loginFuture: loginPromise.futureResult,
            datagrams: datagrams)
    }

    /// The local port the client is bound to.
    public var localPort: Int? { channel.localAddress?.port }

    /// The session, once logged in.
    public var session: LoginAccepted? { state.withLock { $0.session } }

    /// The client sequence number the next ``send(_:)`` uses.
    public var nextSequence: UInt64 { state.withLock { $0.nextSequence } }

    /// The number of datagrams received that did not decode.
    public var droppedDatagrams: Int {
        get async throws {
            let handler = handler
            return try await channel.eventLoop.submit { handler.value.dropped }.get()
        }
    }

    /// Sends `login` (session id 0, token 0, sequence 0) and waits for the answer; on success
    /// later sends carry the session, starting at sequence 1.
    ///
    /// Only one login per client. A lost datagram is not resent: the call times out.
    ///
    /// - Throws: ``BinaryClientError/loginRejected(_:)``, ``BinaryClientError/timedOut``,
    ///   ``BinaryClientError/invalidArgument(_:)``.
    public func login(
        username: String, password: String, heartbeatIntervalMs: UInt32 = 1_000, timeout: TimeAmount = .seconds(5)
    ) async throws -> LoginAccepted {
        guard let user = Username(username) else { throw BinaryClientError.invalidArgument("username \(username)") }
        guard let secret = Password(password) else { throw BinaryClientError.invalidArgument("password") }
        let handler = handler
        let timer = channel.eventLoop.scheduleTask(in: timeout) { handler.value.failLogin(BinaryClientError.timedOut) }
        defer { timer.cancel() }
        let login = ClientMessage.login(
            Login(username: user, password: secret, heartbeatIntervalMs: heartbeatIntervalMs))
        try await write(
            ClientDatagram(header: UDPHeader(sessionID: 0, sessionToken: 0, clientSequence: 0), message: login)
        )
        .get()
        let accepted = try await loginFuture.get()
        state.withLock { $0.session = accepted }
        return accepted
    }

    /// Sends `message` with the session and the next client sequence number.
    ///
    /// - Returns: the client sequence number used; the answer's header carries it.
    /// - Throws: ``BinaryClientError/notLoggedIn`` before a successful login; NIO's write errors.
    @discardableResult
    public func send(_ message: ClientMessage) async throws -> UInt64 {
        // Take the number and queue the write under the lock, so datagrams leave in sequence order
        // whatever tasks call this concurrently.
        let (sequence, written) = try state.withLock { state -> (UInt64, EventLoopFuture<Void>) in
            guard let session = state.session else { throw BinaryClientError.notLoggedIn }
            let sequence = state.nextSequence
            state.nextSequence += 1
            let header = UDPHeader(
                sessionID: session.sessionID, sessionToken: session.sessionToken, clientSequence: sequence)
            return (sequence, write(ClientDatagram(header: header, message: message)))
        }
        try await written.get()
        return sequence
    }

    /// Sends `message` with the session and client sequence `sequence`, leaving the counter alone:
    /// a resend of an earlier datagram, or a deliberate gap in tests.
    ///
    /// - Throws: ``BinaryClientError/notLoggedIn`` before a successful login; NIO's write errors.
    public func send(_ message: ClientMessage, sequence: UInt64) async throws {
        guard let session else { throw BinaryClientError.notLoggedIn }
        let header = UDPHeader(
            sessionID: session.sessionID, sessionToken: session.sessionToken, clientSequence: sequence)
        try await write(ClientDatagram(header: header, message: message)).get()
    }

    /// Sends `bytes` as one datagram, as they are: for tests of the gateway's handling of bad or
    /// unauthenticated datagrams.
    public func sendRaw(_ bytes: some Sequence<UInt8>) async throws {
        var buffer = channel.allocator.buffer(capacity: BinaryFormat.largestDatagramSize)
        buffer.writeBytes(bytes)
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: remoteAddress, data: buffer)).get()
    }

    /// Closes the socket; ``datagrams`` finishes. Closing twice is harmless.
    public func close() async {
        try? await channel.close().get()
    }

    private func write(_ datagram: ClientDatagram) -> EventLoopFuture<Void> {
        var buffer = channel.allocator.buffer(capacity: BinaryFormat.largestDatagramSize)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: BinaryFormat.largestDatagramSize) {
            datagram.encode(into: $0)
        }
        return channel.writeAndFlush(AddressedEnvelope(remoteAddress: remoteAddress, data: buffer))
    }
}

/// Decodes, stamps and forwards datagrams, and completes the login promise with the first login
/// answer. Lives on the channel's event loop.
final class UDPClientHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let continuation: AsyncStream<ReceivedDatagram>.Continuation
    private let loginPromise: EventLoopPromise<LoginAccepted>
    private var loginDone = false
    /// Datagrams that did not decode.
    private(set) var dropped = 0

    init(continuation: AsyncStream<ReceivedDatagram>.Continuation, loginPromise: EventLoopPromise<LoginAccepted>) {
        self.continuation = continuation
        self.loginPromise = loginPromise
    }

    func failLogin(_ error: any Error) {
        guard !loginDone else { return }
        loginDone = true
        loginPromise.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = ClientClock.nanoseconds()
        let envelope = unwrapInboundIn(data)
        let decoded = envelope.data.withUnsafeReadableBytes { ServerDatagram.decode($0) }
        guard case .success(let datagram) = decoded else {
            dropped += 1
            return
        }
        if !loginDone {
            switch datagram.message {
            case .loginAccepted(let accepted):
                loginDone = true
                loginPromise.succeed(accepted)
            case .loginRejected(let code):
                failLogin(BinaryClientError.loginRejected(code))
            default:
                break
            }
        }
        continuation.yield(ReceivedDatagram(header: datagram.header, message: datagram.message, receivedAtNanos: now))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket reports ICMP errors (e.g. port unreachable) here; the socket stays usable.
    }

    func channelInactive(context: ChannelHandlerContext) {
        failLogin(BinaryClientError.connectionClosed)
        continuation.finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failLogin(BinaryClientError.connectionClosed)
        continuation.finish()
    }
}
