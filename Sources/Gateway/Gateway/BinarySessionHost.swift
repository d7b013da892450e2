import BinaryProtocol
import ChronosConfig
import ChronosCore
import Logging
import Metrics
import NIOCore
import Runtime

/// Where a binary session's messages go: its TCP connection, or the address its UDP datagrams
/// come from.
enum BinaryTransport {
    case tcp(Channel)
    case udp(Channel, SocketAddress)
}

/// One configured login of the binary protocol (docs/protocol.md), over TCP or UDP: its orders,
/// limits, heartbeats and, over UDP, the per-sequence answers that make resends idempotent.
///
/// Lives on the gateway's event loop for the life of the process; connections come and go.
final class BinarySessionHost: OrderOwner {
    let settings: BinarySessionSettings
    let sessionID: UInt32
    private(set) var token: UInt64 = 0
    private unowned let core: GatewayCore
    private var orders = OrderTable<UInt64>(requestKeysShareOrderKeys: false)
    private var rateLimiter: RateLimiter
    private(set) var transport: BinaryTransport?
    private var heartbeatInterval: UInt64 = 1_000_000_000
    private var lastReceived: UInt64 = 0
    private var lastSent: UInt64 = 0
    private var logger: Logger
    // UDP: the next expected client sequence, the first answer to each of the last `answersKept`
    // sequences (sequences are processed one by one, so the window is `expected - answersKept…`),
    // and the sequence each new order came with (a change's is in its PendingChange).
    private var expectedSequence: UInt64 = 1
    private var firstAnswers: [UInt64: ServerMessage] = [:]
    private var sequenceOfNewOrder: [OrderID: UInt64] = [:]
    static let answersKept: UInt64 = 4096
    private let scratch = UnsafeMutableRawBufferPointer.allocate(
        byteCount: BinaryFormat.maxMessageSize + UDPHeader.size, alignment: 8)
    private static let refused = Counter(label: "chronos_gateway_binary_requests_refused_total")

    init(settings: BinarySessionSettings, sessionID: UInt32, core: GatewayCore) {
        self.settings = settings
        self.sessionID = sessionID
        self.core = core
        rateLimiter = RateLimiter(messagesPerSecond: core.configuration.maxMessagesPerSecond)
        logger = core.logger
        logger[metadataKey: "binary_session"] = "\(settings.username)"
    }

    deinit { scratch.deallocate() }

    var isConnected: Bool { transport != nil }

    /// Binds a transport after a successful login and answers it.
    func attach(_ transport: BinaryTransport, heartbeatIntervalMs: UInt32, now: UInt64, sequence: UInt64 = 0) {
        self.transport = transport
        // The token authenticates UDP datagrams; a TCP session has its connection instead (token 0).
        if case .udp = transport { token = UInt64.random(in: 1...UInt64.max) } else { token = 0 }
        heartbeatInterval = UInt64(heartbeatIntervalMs) * 1_000_000
        lastReceived = now
        expectedSequence = sequence + 1
        firstAnswers = [:]
        logger.info("binary session logged in")
        send(
            .loginAccepted(
                LoginAccepted(sessionID: sessionID, sessionToken: token, heartbeatIntervalMs: heartbeatIntervalMs)),
            answering: sequence)
    }

    /// Sends the login answer again (a UDP client whose copy was lost logs in again).
    func repeatLoginAnswer() {
        send(
            .loginAccepted(
                LoginAccepted(
                    sessionID: sessionID, sessionToken: token,
                    heartbeatIntervalMs: UInt32(heartbeatInterval / 1_000_000))),
            answering: 0, record: false)
    }

    /// The transport went away (TCP closed, UDP logout or silence).
    func detach() {
        guard transport != nil else { return }
        transport = nil
        token = 0
        logger.info("binary session ended")
    }

    /// Ends the session with a Logout message, then closes a TCP connection.
    func logout(_ reason: LogoutReason, answering sequence: UInt64 = 0) {
        guard let transport else { return }
        send(.logout(reason), answering: sequence)
        if case .tcp(let channel) = transport { channel.close(promise: nil) }
        detach()
    }

    /// Heartbeats and silence: a heartbeat after one interval without sending; logout after
    /// three intervals without hearing from the client.
    func timerTick(now: UInt64) {
        guard transport != nil, heartbeatInterval > 0 else { return }
        if now &- lastReceived > 3 * heartbeatInterval {
            logger.info("binary client silent for three heartbeat intervals")
            logout(.heartbeatTimeout)
            return
        }
        if now &- lastSent >= heartbeatInterval { send(.heartbeat, answering: 0) }
    }

    // MARK: Inbound

    /// A UDP datagram for this session with a valid token, from the address it logged in from
    /// (the handler drops datagrams from any other).
    func receiveDatagram(_ header: UDPHeader, _ message: ClientMessage, now: UInt64) {
        lastReceived = now
        let sequence = header.clientSequence
        if sequence < expectedSequence {
            // A resend: the original answer again (if not answered yet, it still comes).
            if let first = firstAnswers[sequence] { send(first, answering: sequence, record: false) }
            return
        }
        if sequence > expectedSequence {
            send(.sequenceGap(expectedSequence: expectedSequence), answering: sequence, record: false)
            return
        }
        expectedSequence += 1
        handle(message, sequence: sequence, now: now)
    }

    /// A message from the bound TCP connection.
    func receive(_ message: ClientMessage, now: UInt64) {
        lastReceived = now
        handle(message, sequence: 0, now: now)
    }

    private func handle(_ message: ClientMessage, sequence: UInt64, now: UInt64) {
        switch message {
        case .login:
            send(.loginRejected(.alreadyLoggedIn), answering: sequence)
        case .heartbeat:
            // Over UDP every datagram is answered, so that the client knows its sequence arrived.
            if sequence != 0 { send(.heartbeat, answering: sequence) }
        case .logout:
            logout(.requested, answering: sequence)
        case .newOrder(let request):
            guard rateLimiter.allow(now: now) else {
                return refuse(request.clientOrderID, 0, .newOrder, .rateLimited, sequence)
            }
            newOrder(request, sequence: sequence, now: now)
        case .cancel(let request):
            guard rateLimiter.allow(now: now) else {
                return refuse(request.clientOrderID, request.requestID, .cancel, .rateLimited, sequence)
            }
            cancel(request, sequence: sequence, now: now)
        case .replace(let request):
            guard rateLimiter.allow(now: now) else {
                return refuse(request.clientOrderID, request.requestID, .replace, .rateLimited, sequence)
            }
            replace(request, sequence: sequence, now: now)
        }
    }

    private func refuse(
        _ clientOrderID: UInt64, _ requestID: UInt64, _ kind: RequestKind, _ code: ErrorCode, _ sequence: UInt64
    ) {
        Self.refused.increment()
        send(
            .rejected(
                RejectedReport(clientOrderID: clientOrderID, requestID: requestID, requestKind: kind, errorCode: code)),
            answering: sequence)
    }

    private func newOrder(_ request: NewOrderRequest, sequence: UInt64, now: UInt64) {
        let key = request.clientOrderID
        guard core.acceptingOrders else { return refuse(key, 0, .newOrder, .shardUnavailable, sequence) }
        guard !orders.isKnown(key) else { return refuse(key, 0, .newOrder, .duplicateClientOrderID, sequence) }
        guard settings.accounts.contains(request.account) else {
            return refuse(key, 0, .newOrder, .accountNotPermitted, sequence)
        }
        guard let symbol = core.symbols.id(of: request.symbol.name) else {
            return refuse(key, 0, .newOrder, .unknownSymbol, sequence)
        }
        guard let id = core.nextOrderID() else { return refuse(key, 0, .newOrder, .capacityExhausted, sequence) }
        let order = NewOrder(
            id: id, account: AccountID(request.account), symbol: symbol, side: request.side == .buy ? .buy : .sell,
            type: request.orderType == .limit ? .limit : .market,
            timeInForce: {
                switch request.timeInForce {
                case .goodTillCancel: .goodTillCancel
                case .immediateOrCancel: .immediateOrCancel
                case .fillOrKill: .fillOrKill
                }
            }(), price: request.orderType == .limit ? request.price : 0, quantity: request.quantity,
            postOnly: request.postOnly)
        let decision = core.checkRisk(order, now: now)
        if decision.action == .reject, let reason = decision.reason {
            logger.info("order refused by risk", metadata: ["reason": "\(reason.code)", "client_order_id": "\(key)"])
            return refuse(key, 0, .newOrder, .riskRejected, sequence)
        }
        var tracked = TrackedOrder<UInt64>(
            key: key, engineID: id, account: order.account, symbol: symbol, side: order.side, type: order.type,
            timeInForce: order.timeInForce, price: order.price, orderQuantity: order.quantity,
            leavesQuantity: order.quantity)
        tracked.awaitingSince = now
        orders.add(tracked)
        if sequence != 0 { sequenceOfNewOrder[id] = sequence }
        core.send(.new(order), owner: self, now: now)
    }

    /// The live order a cancel or replace names, or nil after refusing the request.
    private func changeTarget(
        clientOrderID: UInt64, requestID: UInt64, account: UInt32, kind: RequestKind, sequence: UInt64
    ) -> TrackedOrder<UInt64>? {
        guard !orders.isKnownRequest(requestID) else {
            refuse(clientOrderID, requestID, kind, .duplicateRequestID, sequence)
            return nil
        }
        guard settings.accounts.contains(account) else {
            refuse(clientOrderID, requestID, kind, .accountNotPermitted, sequence)
            return nil
        }
        guard let order = orders.liveOrder(clientOrderID), order.account.rawValue == account else {
            refuse(
                clientOrderID, requestID, kind, orders.isKnown(clientOrderID) ? .unknownOrder : .unknownClientOrderID,
                sequence)
            return nil
        }
        // Commands reach the engine in order: a cancel or replace may follow the order (or another
        // change) before its answer; the engine answers each in turn.
        return order
    }

    private func cancel(_ request: CancelRequest, sequence: UInt64, now: UInt64) {
        guard
            let order = changeTarget(
                clientOrderID: request.clientOrderID, requestID: request.requestID, account: request.account,
                kind: .cancel,
                sequence: sequence)
        else { return }
        orders.beginChange(
            PendingChange(kind: .cancel, requestKey: request.requestID, clientSequence: sequence),
            on: order.engineID, at: now)
        core.send(
            .cancel(CancelOrder(id: order.engineID, account: order.account, symbol: order.symbol)), owner: self,
            now: now)
    }

    private func replace(_ request: ReplaceRequest, sequence: UInt64, now: UInt64) {
        guard
            let order = changeTarget(
                clientOrderID: request.clientOrderID, requestID: request.requestID, account: request.account,
                kind: .replace, sequence: sequence)
        else { return }
        let replace = ReplaceOrder(
            id: order.engineID, account: order.account, symbol: order.symbol,
            price: request.newPrice == 0 ? nil : request.newPrice,
            quantity: request.newQuantity == 0 ? nil : request.newQuantity)
        let decision = core.checkRisk(replace, now: now)
        if decision.action == .reject, let reason = decision.reason {
            logger.info("replace refused by risk", metadata: ["reason": "\(reason.code)"])
            return refuse(request.clientOrderID, request.requestID, .replace, .riskRejected, sequence)
        }
        orders.beginChange(
            PendingChange(kind: .replace, requestKey: request.requestID, rekeys: false, clientSequence: sequence),
            on: order.engineID, at: now)
        core.send(.replace(replace), owner: self, now: now)
    }

    // MARK: Engine answers

    func engineEvent(_ event: EngineEvent, orderID: OrderID, shard: UInt16) {
        let pendingBefore = orders.orders[orderID]?.pendingChange
        guard let update = orders.apply(event, to: orderID) else { return }
        // The UDP sequence this event answers (0: unsolicited).
        var sequence: UInt64 = 0
        switch event {
        case .accepted: sequence = sequenceOfNewOrder.removeValue(forKey: orderID) ?? 0
        case .rejected(let e) where e.command == .new: sequence = sequenceOfNewOrder.removeValue(forKey: orderID) ?? 0
        case .rejected, .replaced: sequence = pendingBefore?.clientSequence ?? 0
        case .canceled(let e) where e.reason == .requested: sequence = pendingBefore?.clientSequence ?? 0
        default: break
        }
        let message: ServerMessage
        switch update {
        case .accepted(let order):
            message = .orderAccepted(
                OrderAcceptedReport(
                    clientOrderID: order.key, exchangeOrderID: order.engineID.rawValue, price: order.price,
                    quantity: order.orderQuantity))
        case .rejected(let order, let reason) where reason == .fillOrKillUnfillable:
            // A valid fill-or-kill order that cannot fill in full is killed: accepted, then canceled
            // in full, as an IOC that finds nothing to trade and as FIX reports it (150=0, 150=4).
            // The engine's event stays a reject (the replay spec); this is only its client mapping.
            send(
                .orderAccepted(
                    OrderAcceptedReport(
                        clientOrderID: order.key, exchangeOrderID: order.engineID.rawValue, price: order.price,
                        quantity: order.orderQuantity)),
                answering: sequence)
            sequence = 0  // the cancel is unsolicited, as an IOC remainder's
            message = .canceled(
                CanceledReport(
                    clientOrderID: order.key, requestID: 0, canceledQuantity: order.orderQuantity,
                    reason: .immediateOrCancelRemainder))
        case .rejected(let order, let reason):
            message = .rejected(
                RejectedReport(clientOrderID: order.key, requestKind: .newOrder, errorCode: ErrorCode(reason)))
        case .filled(let order, let price, let quantity, let tradeID):
            message = .fill(
                FillReport(
                    clientOrderID: order.key, exchangeOrderID: order.engineID.rawValue, tradeID: tradeID.rawValue,
                    side: order.side == .buy ? .buy : .sell, price: price, quantity: quantity,
                    leavesQuantity: order.leavesQuantity, cumulativeQuantity: order.cumulativeQuantity))
        case .canceled(let order, let requestKey, let reason):
            let canceled: Int64
            if case .canceled(let e) = event { canceled = e.quantity } else { canceled = 0 }
            message = .canceled(
                CanceledReport(
                    clientOrderID: order.key, requestID: requestKey ?? 0, canceledQuantity: canceled,
                    reason: BinaryCancelReason(reason)))
        case .replaced(let order, let requestKey, _):
            let kept: Bool
            if case .replaced(let e) = event { kept = e.keptPriority } else { kept = false }
            message = .replaced(
                ReplacedReport(
                    requestID: requestKey, clientOrderID: order.key, price: order.price,
                    leavesQuantity: order.leavesQuantity, keptPriority: kept))
        case .changeRejected(let order, let change, let reason):
            message = .rejected(
                RejectedReport(
                    clientOrderID: order.key, requestID: change.requestKey,
                    requestKind: change.kind == .cancel ? .cancel : .replace, errorCode: ErrorCode(reason)))
        }
        send(message, answering: sequence)
        if !orders.isTracked(orderID) {
            core.release(orderID)
            sequenceOfNewOrder[orderID] = nil
        }
    }

    func commandNotSent(_ command: EngineCommand, sentAt: UInt64, reason: NotSentReason) {
        let code: ErrorCode
        switch reason {
        case .shardUnavailable: code = .shardUnavailable
        case .unknownSymbol: code = .unknownSymbol
        case .risk(let risk):
            code = .riskRejected
            logger.info(
                "order refused by risk", metadata: ["reason": "\(risk.code)", "order_id": "\(command.orderID)"])
        }
        if case .new = command {
            failNewOrder(command.orderID, code: code, mayReachEngine: false)
        } else {
            failChange(command.orderID, sentAt: sentAt, code: code)
        }
    }

    func answerOverdue(orderID: OrderID, sentAt: UInt64) {
        guard let order = orders.orders[orderID] else { return }
        if !order.acknowledged && order.awaitingSince == sentAt {
            core.noteOverdue()
            failNewOrder(orderID, code: .engineTimeout, mayReachEngine: true)
        } else if order.pendingChanges.contains(where: { $0.sentAt == sentAt }) {
            core.noteOverdue()
            failChange(orderID, sentAt: sentAt, code: .engineTimeout)
        }
    }

    /// See ``FIXSessionHost``: a timed-out new order is orphaned, one never sent is forgotten.
    private func failNewOrder(_ orderID: OrderID, code: ErrorCode, mayReachEngine: Bool) {
        guard let order = orders.orders[orderID], !order.acknowledged, order.cumulativeQuantity == 0 else { return }
        _ = orders.drop(orderID)
        let sequence = sequenceOfNewOrder.removeValue(forKey: orderID) ?? 0
        send(
            .rejected(RejectedReport(clientOrderID: order.key, requestKind: .newOrder, errorCode: code)),
            answering: sequence)
        if mayReachEngine {
            core.orphan(orderID, account: order.account, symbol: order.symbol)
        } else {
            core.release(orderID)
        }
    }

    private func failChange(_ orderID: OrderID, sentAt: UInt64, code: ErrorCode) {
        guard let order = orders.orders[orderID], let change = orders.abandonChange(on: orderID, sentAt: sentAt) else {
            return
        }
        let sequence = change.clientSequence
        send(
            .rejected(
                RejectedReport(
                    clientOrderID: order.key, requestID: change.requestKey,
                    requestKind: change.kind == .cancel ? .cancel : .replace, errorCode: code)),
            answering: sequence)
        if !orders.isTracked(orderID) { core.release(orderID) }
    }

    // MARK: Outbound

    /// Sends `message` to the bound transport; over UDP it answers client sequence `sequence`
    /// (0: unsolicited) and, when `record` and it is the sequence's first answer, is kept for
    /// resends of that sequence.
    private func send(_ message: ServerMessage, answering sequence: UInt64, record: Bool = true) {
        if record && sequence != 0, case .udp = transport, firstAnswers[sequence] == nil {
            firstAnswers[sequence] = message
            if sequence > Self.answersKept { firstAnswers[sequence - Self.answersKept] = nil }
        }
        guard let transport else { return }
        lastSent = SystemClock.monotonicNanoseconds()
        switch transport {
        case .tcp(let channel):
            let n = message.encode(into: scratch)
            channel.writeAndFlush(
                channel.allocator.buffer(bytes: UnsafeRawBufferPointer(rebasing: scratch[0..<n])), promise: nil)
        case .udp(let channel, let address):
            let n = ServerDatagram(
                header: UDPHeader(sessionID: sessionID, sessionToken: token, clientSequence: sequence), message: message
            ).encode(into: scratch)
            let buffer = channel.allocator.buffer(bytes: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        }
    }
}

extension ErrorCode {
    /// The binary error code of an engine reject reason (the same numbers, 0–9).
    init(_ reason: RejectReason) { self = ErrorCode(rawValue: UInt16(reason.rawValue)) ?? .malformed }
}

extension BinaryCancelReason {
    init(_ reason: CancelReason) { self = BinaryCancelReason(rawValue: reason.rawValue) ?? .requested }
}
