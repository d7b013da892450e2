import BinaryProtocol
import NIOCore
import NIOPosix

/// A client of the binary order-entry protocol over TCP (docs/protocol.md), on SwiftNIO.
///
/// ```swift
/// let client = try await BinaryTCPClient.connect(host: "127.0.0.1", port: 9_001)
/// let session = try await client.login(username: "trader1", password: "trader1")
/// try await client.send(.newOrder(order))
/// for await received in client.messages { … }   // everything the gateway sends, in order
/// await client.close()
/// ```
///
/// ``messages`` yields every message the gateway sends, the login answer included, each stamped
/// with its monotonic receive time (``ReceivedMessage/receivedAtNanos``); it finishes when the
/// connection closes. It is a single-consumer stream with an unbounded buffer: a caller that stops
/// reading it while the gateway keeps sending grows memory. All methods may be called from any
/// task; sends go out in the order the calls were made.
public final class BinaryTCPClient: Sendable {
    /// Everything the gateway sends, in order, until the connection closes.
    public let messages: AsyncStream<ReceivedMessage>

    let channel: any Channel
    let handler: NIOLoopBound<TCPClientHandler>
    /// Completes with the first login answer (see `TCPClientHandler`).
    let loginFuture: EventLoopFuture<LoginAccepted>

    private init(
        channel: any Channel, handler: NIOLoopBound<TCPClientHandler>, loginFuture: EventLoopFuture<LoginAccepted>,
        messages: AsyncStream<ReceivedMessage>
    ) {
        self.channel = channel
        self.handler = handler
        self.loginFuture = loginFuture
        self.messages = messages
    }

    /// Connects to a gateway's binary TCP port (with `TCP_NODELAY`).
    ///
    /// - Parameter group: the event loops to use; the shared singleton by default.
    /// - Throws: NIO's connection errors.
    public static func connect(
        host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> BinaryTCPClient {
        let (messages, continuation) = AsyncStream.makeStream(of: ReceivedMessage.self)
        let eventLoop = group.next()
        let loginPromise = eventLoop.makePromise(of: LoginAccepted.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ServerMessageDecoder()))
                        try channel.pipeline.syncOperations.addHandler(
                            TCPClientHandler(continuation: continuation, loginPromise: loginPromise))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            loginPromise.fail(error)
            continuation.finish()
            throw error
        }
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: TCPClientHandler.self), eventLoop: eventLoop)
        }.get()
        return BinaryTCPClient(
            channel: channel, handler: handler, loginFuture: loginPromise.futureResult, messages: messages)
    }

    /// Sends `login` and waits for the answer.
    ///
    /// - Returns: the session the gateway opened.
    /// - Throws: ``BinaryClientError/loginRejected(_:)`` with the gateway's code,
    ///   ``BinaryClientError/timedOut`` after `timeout` (the connection is then closed),
    ///   ``BinaryClientError/connectionClosed``, or ``BinaryClientError/invalidArgument(_:)`` for a
    ///   username or password the protocol cannot carry.
    public func login(
        username: String, password: String, heartbeatIntervalMs: UInt32 = 1_000, timeout: TimeAmount = .seconds(5)
    ) async throws -> LoginAccepted {
        guard let user = Username(username) else { throw BinaryClientError.invalidArgument("username \(username)") }
        guard let secret = Password(password) else { throw BinaryClientError.invalidArgument("password") }
        let handler = handler
        let channel = channel
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            // The answer may have arrived just before the timer fired while this task waits to
            // resume (a loaded machine): then the session is open and must stay open.
            if handler.value.failLogin(BinaryClientError.timedOut) { channel.close(promise: nil) }
        }
        defer { timer.cancel() }
        try await send(.login(Login(username: user, password: secret, heartbeatIntervalMs: heartbeatIntervalMs)))
        return try await loginFuture.get()
    }

    /// Sends `message` and flushes.
    ///
    /// - Throws: when the connection is closed.
    public func send(_ message: ClientMessage) async throws {
        var buffer = channel.allocator.buffer(capacity: message.encodedSize)
        buffer.writeBinaryMessage(message)
        try await channel.writeAndFlush(buffer).get()
    }

    /// Queues `message` without flushing and without waiting: for senders of bursts, which call
    /// ``flush()`` after the burst. A write that fails (the connection closed) is dropped.
    public func write(_ message: ClientMessage) {
        var buffer = channel.allocator.buffer(capacity: message.encodedSize)
        buffer.writeBinaryMessage(message)
        channel.write(buffer, promise: nil)
    }

    /// Flushes the messages queued by ``write(_:)``.
    public func flush() {
        channel.flush()
    }

    /// Sends `bytes` as they are, for tests of the gateway's handling of bad input.
    public func sendRaw(_ bytes: some Sequence<UInt8>) async throws {
        var buffer = channel.allocator.buffer(capacity: 64)
        buffer.writeBytes(bytes)
        try await channel.writeAndFlush(buffer).get()
    }

    /// Closes the connection (without sending `logout`); ``messages`` finishes. Closing twice is
    /// harmless.
    public func close() async {
        try? await channel.close().get()
    }

    /// Completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

/// Stamps and forwards decoded messages to the stream, and completes the login promise with the
/// first login answer. Lives on the channel's event loop.
final class TCPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ServerMessage

    private let continuation: AsyncStream<ReceivedMessage>.Continuation
    private let loginPromise: EventLoopPromise<LoginAccepted>
    private var loginDone = false
    private var failure: (any Error)?

    init(continuation: AsyncStream<ReceivedMessage>.Continuation, loginPromise: EventLoopPromise<LoginAccepted>) {
        self.continuation = continuation
        self.loginPromise = loginPromise
    }

    /// Fails the login with `error` unless it has already been answered.
    ///
    /// - Returns: whether this call failed it.
    @discardableResult
    func failLogin(_ error: any Error) -> Bool {
        guard !loginDone else { return false }
        loginDone = true
        loginPromise.fail(error)
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = ClientClock.nanoseconds()
        let message = unwrapInboundIn(data)
        if !loginDone {
            switch message {
            case .loginAccepted(let accepted):
                loginDone = true
                loginPromise.succeed(accepted)
            case .loginRejected(let code):
                failLogin(BinaryClientError.loginRejected(code))
            default:
                break
            }
        }
        continuation.yield(ReceivedMessage(message: message, receivedAtNanos: now))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if failure == nil { failure = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failLogin(failure ?? BinaryClientError.connectionClosed)
        continuation.finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failLogin(BinaryClientError.connectionClosed)
        continuation.finish()
    }
}
