import BinaryProtocol
import ChronosClient
import NIOCore
import NIOPosix
import Testing

// The clients against tiny in-process stand-ins for the gateway, built on the same codec. Tests
// against the real gateway live with the gateway (GatewayTests).

/// Frames client messages on the stand-in TCP gateway's side.
private struct ClientMessageFramer: ByteToMessageDecoder {
    typealias InboundOut = BinaryDecodeResult<ClientMessage>

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let result = buffer.withUnsafeReadableBytes { ClientMessage.decode($0) }
        switch result {
        case .needMoreBytes: return .needMoreData
        case .message(_, let consumed), .error(_, let consumed?): buffer.moveReaderIndex(forwardBy: consumed)
        case .error: buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        context.fireChannelRead(wrapInboundOut(result))
        return .continue
    }
}

/// A stand-in TCP gateway: accepts trader1/secret, acknowledges orders and cancels, echoes
/// heartbeats, confirms logouts, and disconnects on a lost framing.
private final class StandInTCPGateway: ChannelInboundHandler {
    typealias InboundIn = BinaryDecodeResult<ClientMessage>

    private func send(_ message: ServerMessage, _ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: BinaryFormat.largestMessageSize)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: BinaryFormat.largestMessageSize) {
            message.encode(into: $0)
        }
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .message(.login(let login), _):
            if login.username.string == "trader1" && login.password.string == "secret" {
                send(.loginAccepted(LoginAccepted(sessionID: 1, sessionToken: 0, heartbeatIntervalMs: 500)), context)
            } else {
                send(.loginRejected(.badCredentials), context)
                context.close(promise: nil)
            }
        case .message(.newOrder(let order), _):
            send(
                .orderAccepted(
                    OrderAcceptedReport(
                        clientOrderID: order.clientOrderID, exchangeOrderID: order.clientOrderID + 1_000,
                        price: order.price, quantity: order.quantity)), context)
        case .message(.cancel(let cancel), _):
            send(
                .canceled(
                    CanceledReport(
                        clientOrderID: cancel.clientOrderID, requestID: cancel.requestID, canceledQuantity: 1,
                        reason: .requested)), context)
        case .message(.replace, _), .message(.heartbeat, _):
            send(.heartbeat, context)
        case .message(.logout, _):
            send(.logout(.requested), context)
            context.close(promise: nil)
        case .error(let error, skip: .some):
            send(.rejected(RejectedReport(clientOrderID: 0, requestKind: .other, errorCode: error.errorCode)), context)
        case .error(_, skip: nil):
            send(.logout(.protocolError), context)
            context.close(promise: nil)
        case .needMoreBytes:
            break
        }
    }
}

/// A stand-in UDP gateway: login gives session 7, token 99; then each datagram with the right
/// token and the expected sequence is answered (heartbeat → heartbeat, newOrder → orderAccepted)
/// with its sequence, a repeat gets the same answer again, and a gap gets `sequenceGap`.
private final class StandInUDPGateway: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private var expected: UInt64 = 1
    private var answers: [UInt64: ServerMessage] = [:]

    private func send(
        _ message: ServerMessage, sequence: UInt64, to address: SocketAddress, _ context: ChannelHandlerContext
    ) {
        let datagram = ServerDatagram(
            header: UDPHeader(sessionID: 7, sessionToken: 99, clientSequence: sequence), message: message)
        var buffer = context.channel.allocator.buffer(capacity: BinaryFormat.largestDatagramSize)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: BinaryFormat.largestDatagramSize) {
            datagram.encode(into: $0)
        }
        context.writeAndFlush(NIOAny(AddressedEnvelope(remoteAddress: address, data: buffer)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard case .success(let datagram) = envelope.data.withUnsafeReadableBytes({ ClientDatagram.decode($0) }) else {
            return  // dropped, unanswered
        }
        let sequence = datagram.header.clientSequence
        if case .login = datagram.message, datagram.header.sessionID == 0 {
            send(
                .loginAccepted(LoginAccepted(sessionID: 7, sessionToken: 99, heartbeatIntervalMs: 1_000)), sequence: 0,
                to: envelope.remoteAddress, context)
            return
        }
        guard datagram.header.sessionID == 7, datagram.header.sessionToken == 99 else { return }
        if let answer = answers[sequence] {
            send(answer, sequence: sequence, to: envelope.remoteAddress, context)
        } else if sequence > expected {
            send(.sequenceGap(expectedSequence: expected), sequence: sequence, to: envelope.remoteAddress, context)
        } else if sequence == expected {
            let answer: ServerMessage
            if case .newOrder(let order) = datagram.message {
                answer = .orderAccepted(
                    OrderAcceptedReport(
                        clientOrderID: order.clientOrderID, exchangeOrderID: sequence, price: order.price,
                        quantity: order.quantity))
            } else {
                answer = .heartbeat
            }
            answers[sequence] = answer
            expected += 1
            send(answer, sequence: sequence, to: envelope.remoteAddress, context)
        }
    }
}

@Suite struct ClientTests {
    private static func startTCPGateway() async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ClientMessageFramer()))
                    try channel.pipeline.syncOperations.addHandler(StandInTCPGateway())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    private let order = NewOrderRequest(
        clientOrderID: 42, account: 101, symbol: SymbolCode("AAPL")!, side: .buy, price: 15_025, quantity: 100)

    @Test func tcpClientLogsInSendsReceivesStampedAnswersAndLogsOut() async throws {
        let server = try await Self.startTCPGateway()
        let client = try await BinaryTCPClient.connect(host: "127.0.0.1", port: server.localAddress!.port!)
        let session = try await client.login(username: "trader1", password: "secret")
        #expect(session == LoginAccepted(sessionID: 1, sessionToken: 0, heartbeatIntervalMs: 500))
        let sentAt = ClientClock.nanoseconds()
        try await client.send(.newOrder(order))
        client.write(.cancel(CancelRequest(requestID: 43, clientOrderID: 42, account: 101, symbol: order.symbol)))
        client.write(.logout)
        client.flush()
        var received: [ReceivedMessage] = []
        for await message in client.messages { received.append(message) }  // ends when the gateway closes
        #expect(
            received.map(\.message) == [
                .loginAccepted(session),
                .orderAccepted(
                    OrderAcceptedReport(clientOrderID: 42, exchangeOrderID: 1_042, price: 15_025, quantity: 100)),
                .canceled(CanceledReport(clientOrderID: 42, requestID: 43, canceledQuantity: 1, reason: .requested)),
                .logout(.requested),
            ])
        #expect(received[1].receivedAtNanos >= sentAt)
        await client.close()
        try await server.close()
    }

    @Test func tcpLoginRejectionThrowsTheCode() async throws {
        let server = try await Self.startTCPGateway()
        let client = try await BinaryTCPClient.connect(host: "127.0.0.1", port: server.localAddress!.port!)
        await #expect(throws: BinaryClientError.loginRejected(.badCredentials)) {
            try await client.login(username: "trader1", password: "wrong")
        }
        await #expect(throws: BinaryClientError.invalidArgument("username has space")) {
            try await client.login(username: "has space", password: "x")
        }
        await client.close()
        try await server.close()
    }

    @Test func tcpRawBytesWithABadLengthGetTheConnectionClosed() async throws {
        let server = try await Self.startTCPGateway()
        let client = try await BinaryTCPClient.connect(host: "127.0.0.1", port: server.localAddress!.port!)
        _ = try await client.login(username: "trader1", password: "secret")
        try await client.sendRaw([0x04, 0x00, 0x07, 0x01])  // unknown type: answered, connection stays
        try await client.sendRaw([0x01, 0x01])  // length 257: framing lost
        var received: [ServerMessage] = []
        for await message in client.messages { received.append(message.message) }
        #expect(
            received.dropFirst() == [
                .rejected(RejectedReport(clientOrderID: 0, requestKind: .other, errorCode: .unknownMessageType)),
                .logout(.protocolError),
            ])
        try await server.close()
    }

    @Test func udpClientSequencesResendsAndSeesGaps() async throws {
        let server = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StandInUDPGateway())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let client = try await BinaryUDPClient.connect(host: "127.0.0.1", port: server.localAddress!.port!)
        #expect(client.localPort != nil && client.localPort != 0)
        await #expect(throws: BinaryClientError.notLoggedIn) { try await client.send(.heartbeat) }
        let session = try await client.login(username: "trader1", password: "secret")
        #expect(session.sessionID == 7 && session.sessionToken == 99)
        var answers = client.datagrams.makeAsyncIterator()
        #expect(await answers.next()?.message == .loginAccepted(session))

        #expect(try await client.send(.newOrder(order)) == 1)
        let first = await answers.next()
        #expect(first?.header.clientSequence == 1)
        #expect(
            first?.message
                == .orderAccepted(
                    OrderAcceptedReport(clientOrderID: 42, exchangeOrderID: 1, price: 15_025, quantity: 100)))
        #expect(try await client.send(.heartbeat) == 2)
        #expect(await answers.next().map { ($0.header.clientSequence, $0.message) }! == (2, .heartbeat))

        // A resend of sequence 1 gets the original answer again; a jump gets a gap.
        try await client.send(.newOrder(order), sequence: 1)
        #expect(await answers.next()?.message == first?.message)
        try await client.send(.heartbeat, sequence: 9)
        let gap = await answers.next()
        #expect(gap?.header.clientSequence == 9 && gap?.message == .sequenceGap(expectedSequence: 3))
        #expect(client.nextSequence == 3)

        // Garbage is dropped by the gateway (no answer); the next valid datagram is still answered.
        try await client.sendRaw([1, 2, 3])
        #expect(try await client.send(.heartbeat) == 3)
        #expect(await answers.next()?.header.clientSequence == 3)
        #expect(try await client.droppedDatagrams == 0)
        await client.close()
        try await server.close()
    }
}
