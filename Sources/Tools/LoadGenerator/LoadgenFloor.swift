import BinaryProtocol
import NIOCore
import NIOPosix

/// The floor's answering side: an echo server in this process, on its own event loop thread (as
/// the gateway has its own), that answers the binary protocol without an exchange behind it —
/// `login` with `loginAccepted`, every 44-byte `newOrder` at once with a 40-byte `orderAccepted`
/// of the same client order id, `logout` with `logout`. Over UDP the same messages travel behind
/// the 20-byte UDP header (64-byte datagrams in, 60 out), answers carrying the client sequence.
///
/// The loadgen's own binary sessions talk to it unchanged, so the floor is the same client
/// machinery over the same loopback transport with nothing but an echo behind it.
public final class LoadgenEchoServer: Sendable {
    public enum Transport: String, Sendable {
        case tcp, udp
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The bound port on 127.0.0.1.
    public let port: Int

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.group = group
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    /// Binds a free port on 127.0.0.1.
    public static func start(_ transport: Transport) async throws -> LoadgenEchoServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel: any Channel
            switch transport {
            case .tcp:
                channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 1_024)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(EchoTCPHandler())
                        }
                    }
                    .bind(host: "127.0.0.1", port: 0).get()
            case .udp:
                channel = try await DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(EchoUDPHandler())
                        }
                    }
                    .bind(host: "127.0.0.1", port: 0).get()
            }
            return LoadgenEchoServer(group: group, channel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Closes the listener (and with the group every connection) and stops the thread.
    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// The echo's answer to one client message, or nil for none.
private func echoAnswer(_ message: ClientMessage, sessionID: UInt32, exchangeOrderID: inout UInt64) -> ServerMessage? {
    switch message {
    case .login(let login):
        return .loginAccepted(
            LoginAccepted(sessionID: sessionID, sessionToken: 1, heartbeatIntervalMs: login.heartbeatIntervalMs))
    case .newOrder(let order):
        exchangeOrderID += 1
        return .orderAccepted(
            OrderAcceptedReport(
                clientOrderID: order.clientOrderID, exchangeOrderID: exchangeOrderID, price: order.price,
                quantity: order.quantity))
    case .logout:
        return .logout(.requested)
    case .cancel, .replace, .heartbeat:
        return nil
    }
}

/// One echo connection: every whole message read is answered at once (one flush per read).
private final class EchoTCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var cumulation: ByteBuffer?
    private var outbound = ByteBufferAllocator().buffer(capacity: 4_096)
    private var exchangeOrderID: UInt64 = 0
    private let sessionID: UInt32 = 1

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var pending = cumulation {
            pending.writeBuffer(&buffer)
            buffer = pending
            cumulation = nil
        }
        var loggedOut = false
        decoding: while buffer.readableBytes > 0 {
            switch buffer.withUnsafeReadableBytes({ ClientMessage.decode($0) }) {
            case .message(let message, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                if let answer = echoAnswer(message, sessionID: sessionID, exchangeOrderID: &exchangeOrderID) {
                    outbound.writeWithUnsafeMutableBytes(minimumWritableBytes: BinaryFormat.largestMessageSize) {
                        answer.encode(into: $0)
                    }
                }
                if case .logout = message { loggedOut = true }
            case .needMoreBytes:
                break decoding
            case .error(_, let skip?):
                buffer.moveReaderIndex(forwardBy: skip)
            case .error(_, nil):
                context.close(promise: nil)
                return
            }
        }
        if buffer.readableBytes > 0 { cumulation = buffer }
        if outbound.readableBytes > 0 {
            context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
            outbound.clear()
        }
        if loggedOut { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The UDP echo: one answer datagram per datagram, carrying its client sequence.
private final class EchoUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private var exchangeOrderID: UInt64 = 0
    private var sessions: UInt32 = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard case .success(let datagram) = envelope.data.withUnsafeReadableBytes({ ClientDatagram.decode($0) })
        else { return }
        var sessionID = datagram.header.sessionID
        if case .login = datagram.message {
            sessions += 1
            sessionID = sessions
        }
        guard let answer = echoAnswer(datagram.message, sessionID: sessionID, exchangeOrderID: &exchangeOrderID)
        else { return }
        let reply = ServerDatagram(
            header: UDPHeader(sessionID: sessionID, sessionToken: 1, clientSequence: datagram.header.clientSequence),
            message: answer)
        var buffer = context.channel.allocator.buffer(capacity: BinaryFormat.largestDatagramSize)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: BinaryFormat.largestDatagramSize) {
            reply.encode(into: $0)
        }
        context.write(
            wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: buffer)), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
