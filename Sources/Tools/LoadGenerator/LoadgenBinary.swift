import BinaryProtocol
import NIOCore
import Runtime

/// The heartbeat interval the loadgen asks for, milliseconds (the gateway accepts 100…60,000).
let loadgenHeartbeatIntervalMs: UInt32 = 30_000

/// A loadgen session over the binary protocol on TCP (docs/protocol.md): login, then new orders
/// from its window, each answered by `orderAccepted` or `rejected`; fills and cancels counted.
///
/// Lean on purpose: decodes in `channelRead` without an intermediate handler or stream, and
/// writes each burst of orders into one reused buffer with one flush.
final class BinaryTCPLoadSession: LoadgenSession, ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var cumulation: ByteBuffer?
    private var outbound = ByteBufferAllocator().buffer(capacity: 4_096)

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        connectionEnded("connection closed")
    }

    func channelActive(context: ChannelHandlerContext) {
        guard case .binary(let username, let password, _) = login,
            let user = Username(username), let secret = Password(password)
        else {
            connectionEnded("the username or password cannot travel in the binary protocol")
            context.close(promise: nil)
            return
        }
        write(.login(Login(username: user, password: secret, heartbeatIntervalMs: loadgenHeartbeatIntervalMs)))
        flushOrders()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionEnded("connection closed by the gateway")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connectionEnded("connection error: \(error)")
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var pending = cumulation {
            pending.writeBuffer(&buffer)
            buffer = pending
            cumulation = nil
        }
        let now = SystemClock.monotonicNanoseconds()
        decoding: while buffer.readableBytes > 0 {
            switch buffer.withUnsafeReadableBytes({ ServerMessage.decode($0) }) {
            case .message(let message, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                handle(message, now: now)
            case .needMoreBytes:
                break decoding
            case .error(_, let skip?):
                buffer.moveReaderIndex(forwardBy: skip)
            case .error(let error, nil):
                let reason = "the gateway's bytes are not the binary protocol (\(error); is this its binary port?)"
                if isLoggedIn { run.warn("session \(name): \(reason); disconnected") }
                connectionEnded(isLoggedIn ? nil : reason)
                context.close(promise: nil)
                return
            }
        }
        if buffer.readableBytes > 0 { cumulation = buffer }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        pumpIfAnswered()
        context.fireChannelReadComplete()
    }

    private func handle(_ message: ServerMessage, now: UInt64) {
        switch message {
        case .loginAccepted:
            loggedIn()
        case .loginRejected(let code):
            loginFailed(LoadgenError.loginFailed(session: name, reason: code.name))
        case .orderAccepted(let report):
            answered(report.clientOrderID, now: now)
        case .rejected(let report):
            if report.requestKind == .newOrder {
                answered(report.clientOrderID, now: now, rejectReason: report.errorCode.name)
            } else {
                run.warn("session \(name): the gateway rejected a message: \(report.errorCode.name)")
            }
        case .fill(let fill):
            filled(fill.clientOrderID, completesOrder: fill.leavesQuantity == 0, now: now)
        case .canceled:
            run.recordCanceled()
        case .logout(let reason):
            if !isLoggingOut { connectionEnded("logged out by the gateway: \(reason)") }
        case .heartbeat, .replaced, .sequenceGap:
            break
        }
    }

    // MARK: Sending

    private func write(_ message: ClientMessage) {
        outbound.writeWithUnsafeMutableBytes(minimumWritableBytes: BinaryFormat.largestMessageSize) {
            message.encode(into: $0)
        }
    }

    override func writeOrder(slot: Int, now: UInt64) {
        let plan = run.plan
        let order = window.slots[slot].order
        let symbol = plan.symbols[plan.symbolIndex(session: index, order: order)]
        write(
            .newOrder(
                NewOrderRequest(
                    clientOrderID: window.slots[slot].clientOrderID, account: account, symbol: symbol.code,
                    side: plan.side(session: index, order: order), price: symbol.price, quantity: symbol.quantity)))
    }

    override func flushOrders() {
        guard let context, outbound.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
        // Usually written already, so the storage is ours again and clearing does not allocate.
        outbound.clear()
    }

    override func sendHeartbeat(now: UInt64) {
        write(.heartbeat)
        flushOrders()
    }

    override func logout() -> EventLoopFuture<Void> {
        guard let context else { return run.loop.makeSucceededVoidFuture() }
        if !isLoggingOut && !isClosedForWriting {
            isLoggingOut = true
            write(.logout)
            flushOrders()
        }
        return context.channel.closeFuture
    }

    private var isClosedForWriting: Bool { context?.channel.isActive != true }

    override func close() {
        context?.close(promise: nil)
    }

    override var closeFuture: EventLoopFuture<Void>? { context?.channel.closeFuture }
}

/// A loadgen session over the binary protocol on UDP (docs/protocol.md, "UDP"): every datagram
/// carries the session id, token and the next client sequence; answers name the sequence they
/// answer.
///
/// Losses are repaired as the contract asks: an order unanswered for 250 ms is sent again with
/// its sequence (the gateway answers a processed sequence again, never enters it twice), and a
/// `sequenceGap` makes the session send again everything from the expected sequence (orders
/// still in flight as they were, anything else as a heartbeat that fills the number).
final class BinaryUDPLoadSession: LoadgenSession, ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// What went out with one sequence number; `slot` -1 for a heartbeat.
    private struct SentDatagram {
        var sequence: UInt64 = 0
        var slot = -1
    }

    private let gateway: SocketAddress
    private var context: ChannelHandlerContext?
    private var sessionID: UInt32 = 0
    private var token: UInt64 = 0
    private var nextSequence: UInt64 = 1
    /// The recent sequences, by sequence modulo its size (window + 1,024 entries).
    private var sent: [SentDatagram]
    private var lastGapExpected: UInt64 = 0
    private var lastGapAt: UInt64 = 0
    private var loginResend: RepeatedTask?
    private var logoutAnswered: EventLoopPromise<Void>?

    init(
        index: Int, login: LoadgenLogin, run: LoadgenRunState, loginPromise: EventLoopPromise<Void>,
        gateway: SocketAddress
    ) {
        self.gateway = gateway
        sent = Array(repeating: SentDatagram(), count: run.plan.window + 1_024)
        super.init(index: index, login: login, run: run, loginPromise: loginPromise)
    }

    override var resendsOrders: Bool { true }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        loginResend?.cancel()
        self.context = nil
        logoutAnswered?.succeed(())
        connectionEnded("socket closed")
    }

    func channelActive(context: ChannelHandlerContext) {
        guard case .binary(let username, let password, _) = login,
            let user = Username(username), let secret = Password(password)
        else {
            connectionEnded("the username or password cannot travel in the binary protocol")
            context.close(promise: nil)
            return
        }
        let message = ClientMessage.login(
            Login(username: user, password: secret, heartbeatIntervalMs: loadgenHeartbeatIntervalMs))
        // A lost login (or answer) is sent again every 500 ms until answered; the runner's timeout
        // ends the wait.
        writeDatagram(message, sequence: 0)
        context.flush()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        loginResend = context.eventLoop.scheduleRepeatedTask(
            initialDelay: .milliseconds(500), delay: .milliseconds(500)
        ) { _ in
            let session = bound.value
            session.writeDatagram(message, sequence: 0)
            session.context?.flush()
        }
        loginPromise.futureResult.whenComplete { _ in bound.value.loginResend?.cancel() }
        context.fireChannelActive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors (port unreachable) land here; the socket stays usable and the login times out.
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let now = SystemClock.monotonicNanoseconds()
        guard case .success(let datagram) = envelope.data.withUnsafeReadableBytes({ ServerDatagram.decode($0) })
        else { return }
        switch datagram.message {
        case .loginAccepted(let accepted):
            guard !isLoggedIn else { return }
            sessionID = accepted.sessionID
            token = accepted.sessionToken
            loggedIn()
        case .loginRejected(let code):
            loginFailed(LoadgenError.loginFailed(session: name, reason: code.name))
        case .orderAccepted(let report):
            answered(report.clientOrderID, now: now)
        case .rejected(let report):
            if report.requestKind == .newOrder {
                answered(report.clientOrderID, now: now, rejectReason: report.errorCode.name)
            } else {
                run.warn("session \(name): the gateway rejected a datagram: \(report.errorCode.name)")
            }
        case .fill(let fill):
            filled(fill.clientOrderID, completesOrder: fill.leavesQuantity == 0, now: now)
        case .canceled:
            run.recordCanceled()
        case .sequenceGap(let expected):
            sendAgain(from: expected, now: now)
        case .logout(let reason):
            if isLoggingOut {
                logoutAnswered?.succeed(())
            } else {
                connectionEnded("logged out by the gateway: \(reason)")
            }
        case .heartbeat, .replaced:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        pumpIfAnswered()
        context.fireChannelReadComplete()
    }

    // MARK: Sending

    private func writeDatagram(_ message: ClientMessage, sequence: UInt64) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: BinaryFormat.largestDatagramSize)
        let header = UDPHeader(sessionID: sessionID, sessionToken: token, clientSequence: sequence)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: BinaryFormat.largestDatagramSize) {
            ClientDatagram(header: header, message: message).encode(into: $0)
        }
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: gateway, data: buffer)), promise: nil)
    }

    /// Takes the next sequence number for what `slot` (-1: a heartbeat) sends.
    private func takeSequence(for slot: Int) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        sent[Int(sequence % UInt64(sent.count))] = SentDatagram(sequence: sequence, slot: slot)
        return sequence
    }

    private func writeOrder(slot: Int, sequence: UInt64) {
        let plan = run.plan
        let order = window.slots[slot].order
        let symbol = plan.symbols[plan.symbolIndex(session: index, order: order)]
        writeDatagram(
            .newOrder(
                NewOrderRequest(
                    clientOrderID: window.slots[slot].clientOrderID, account: account, symbol: symbol.code,
                    side: plan.side(session: index, order: order), price: symbol.price, quantity: symbol.quantity)),
            sequence: sequence)
    }

    override func writeOrder(slot: Int, now: UInt64) {
        let sequence = takeSequence(for: slot)
        window.setSequence(sequence, of: slot)
        writeOrder(slot: slot, sequence: sequence)
    }

    override func resend(slot: Int, now: UInt64) {
        writeOrder(slot: slot, sequence: window.slots[slot].sequence)
    }

    /// The gateway expects `expected`: everything from there is sent again, at most once per 50 ms
    /// for the same gap (each datagram past a gap brings its own `sequenceGap`).
    private func sendAgain(from expected: UInt64, now: UInt64) {
        guard expected < nextSequence, expected > 0 else { return }
        if expected == lastGapExpected && now &- lastGapAt < 50_000_000 { return }
        lastGapExpected = expected
        lastGapAt = now
        var count = 0
        for sequence in expected..<nextSequence {
            let entry = sent[Int(sequence % UInt64(sent.count))]
            if entry.sequence == sequence, entry.slot >= 0, window.slots[entry.slot].clientOrderID != 0,
                window.slots[entry.slot].sequence == sequence
            {
                writeOrder(slot: entry.slot, sequence: sequence)
                window.resent(entry.slot, now: now)
            } else {
                writeDatagram(.heartbeat, sequence: sequence)
            }
            count += 1
        }
        context?.flush()
        run.recordResent(count)
    }

    override func flushOrders() {
        context?.flush()
    }

    override func sendHeartbeat(now: UInt64) {
        writeDatagram(.heartbeat, sequence: takeSequence(for: -1))
        context?.flush()
    }

    /// Sends `logout` and closes the socket once the gateway confirms, or after a second.
    override func logout() -> EventLoopFuture<Void> {
        guard let context else { return run.loop.makeSucceededVoidFuture() }
        let channel = context.channel
        if !isLoggingOut && isLoggedIn && !isClosedForOrders {
            isLoggingOut = true
            let answered = context.eventLoop.makePromise(of: Void.self)
            logoutAnswered = answered
            writeDatagram(.logout, sequence: takeSequence(for: -1))
            context.flush()
            let timer = context.eventLoop.scheduleTask(in: .seconds(1)) { answered.succeed(()) }
            answered.futureResult.whenComplete { _ in
                timer.cancel()
                channel.close(promise: nil)
            }
        } else {
            channel.close(promise: nil)
        }
        return channel.closeFuture
    }

    private var isClosedForOrders: Bool { context?.channel.isActive != true }

    override func close() {
        context?.close(promise: nil)
    }

    override var closeFuture: EventLoopFuture<Void>? { context?.channel.closeFuture }
}
