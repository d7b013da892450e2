import ChronosConfig
import ChronosCore
import FIX
import Foundation
import Logging
import Metrics
import NIOCore
import RiskEngine
import Runtime

/// One configured FIX session on the gateway: the FIX session layer (sequence numbers, store,
/// heartbeats), the session's orders, and the connection it is bound to while logged on.
///
/// Lives on the gateway's event loop for the life of the process; connections come and go.
final class FIXSessionHost: OrderOwner {
    let settings: FIXSessionSettings
    let session: FIXSession
    private unowned let core: GatewayCore
    private let entry: FIXOrderEntry
    /// The session's orders; the last ``finishedOrdersKept`` finished ones stay for OrderStatusRequest.
    private var orders = OrderTable<String>(finishedCapacity: FIXSessionHost.finishedOrdersKept)
    /// How many finished orders a session can still report on (OrderStatusRequest).
    static let finishedOrdersKept = 1024
    /// The NewOrderSingle of each live order that came with routing tags (OnBehalfOf/DeliverTo…),
    /// so that its later reports reverse them as the immediate answers do.
    private var routedOrders: [OrderID: FIXMessage] = [:]
    private static let routingTags = [115, 116, 128, 129, 144, 145]
    private var rateLimiter: RateLimiter
    /// The connection bound to the session while one is.
    private(set) var channel: Channel?
    private var logger: Logger
    private let messagesIn = Counter(label: "chronos_gateway_fix_messages_in_total")
    private let rejectedOrders = Counter(label: "chronos_gateway_fix_orders_refused_total")

    init(settings: FIXSessionSettings, core: GatewayCore, stateDirectory: String) throws {
        self.settings = settings
        self.core = core
        entry = FIXOrderEntry(
            symbols: core.symbols, accounts: settings.accounts, accountIDs: core.configuration.accountIDs)
        rateLimiter = RateLimiter(messagesPerSecond: core.configuration.maxMessagesPerSecond)
        let directory = "\(stateDirectory)/fix/\(settings.senderCompID)-\(settings.targetCompID)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try FIXFileStore(directory: URL(fileURLWithPath: directory))
        session = try FIXSession(
            configuration: FIXSessionConfiguration(
                senderCompID: settings.senderCompID, targetCompID: settings.targetCompID,
                password: settings.password,
                // As QuickFIX's acceptor (ValidateUserDefinedFields=Y, acceptance test 14a): a tag
                // the dictionary does not define is refused, user-defined range included.
                allowsUserDefinedFields: false, resetOnLogon: settings.resetOnLogon),
            store: store)
        logger = core.logger
        logger[metadataKey: "fix_session"] = "\(settings.senderCompID)->\(settings.targetCompID)"
    }

    /// Whether a connection is bound to the session now.
    var isConnected: Bool { channel != nil }

    /// Binds a new connection (its first message named this session).
    func attach(_ channel: Channel) {
        self.channel = channel
        session.connected(now: wallClockNanoseconds())
    }

    /// The bound connection closed.
    func detach(_ channel: Channel) {
        guard self.channel === channel else { return }
        self.channel = nil
        session.disconnected()
        logger.info("FIX connection closed")
    }

    /// A frame from the bound connection.
    func receive(_ frame: FIXFrame) {
        messagesIn.increment()
        perform(session.receive(frame, now: wallClockNanoseconds()))
    }

    /// Heartbeats, test requests and silence timeouts.
    func timerTick() {
        guard channel != nil else { return }
        perform(session.timerTick(now: wallClockNanoseconds()))
    }

    /// Logs out the bound connection (shutdown).
    func logout(reason: String) {
        guard channel != nil else { return }
        perform(session.logout(text: reason, now: wallClockNanoseconds()))
    }

    private func perform(_ actions: [FIXSessionAction]) {
        guard !actions.isEmpty else { return }
        var wrote = false
        for action in actions {
            switch action {
            case .send(let bytes):
                guard let channel else { continue }
                channel.write(channel.allocator.buffer(bytes: bytes), promise: nil)
                wrote = true
            case .deliver(let message):
                application(message)
            case .disconnect(let reason):
                logger.info("FIX session disconnects", metadata: ["reason": "\(reason)"])
                if let channel {
                    if wrote { channel.flush() }
                    wrote = false
                    channel.close(promise: nil)
                }
            case .loggedOn:
                logger.info("FIX session logged on")
            case .loggedOut:
                logger.info("FIX session logged out")
            }
        }
        if wrote { channel?.flush() }
    }

    private func send(_ message: FIXOutboundMessage, replyingTo inbound: FIXMessage?) {
        perform(session.sendApplication(message, replyingTo: inbound, now: wallClockNanoseconds()))
    }

    // MARK: Application messages

    private func application(_ message: FIXMessage) {
        let now = SystemClock.monotonicNanoseconds()
        switch message.msgType {
        case "D", "F", "G", "H":
            guard rateLimiter.allow(now: now) else {
                refuse(
                    message,
                    FIXOrderEntry.Refusal(
                        reason: .other,
                        text: "rate_limited: more than \(core.configuration.maxMessagesPerSecond) messages per second"))
                return
            }
            switch message.msgType {
            case "D": newOrder(message, now: now)
            case "F": cancel(message, now: now)
            case "G": replace(message, now: now)
            default: orderStatus(message)
            }
        default:
            var reject = FIXOutboundMessage.businessMessageReject(
                for: message, reason: 3, text: "Unsupported Message Type")
            // BusinessRejectRefID: the rejected message's business-level id, when it has one.
            if let refID = Self.businessIDTags.lazy.compactMap({ message.string($0) }).first {
                reject.append(379, refID)
            }
            send(reject, replyingTo: message)
        }
    }

    /// Answers a request the gateway refuses before the engine (new: ExecutionReport; cancel or
    /// replace: OrderCancelReject).
    private func refuse(_ message: FIXMessage, _ refusal: FIXOrderEntry.Refusal) {
        rejectedOrders.increment()
        if message.msgType == "D" {
            send(
                entry.refusedNewOrder(
                    message, refusal, execID: core.nextLocalExecutionID(), transactTime: Self.transactTime()),
                replyingTo: message)
        } else if message.msgType == "H" {
            send(
                entry.unknownOrderStatus(
                    message, text: refusal.text, execID: core.nextLocalExecutionID(),
                    transactTime: Self.transactTime()),
                replyingTo: message)
        } else {
            let orig = message.string(41) ?? "NONE"
            send(
                entry.cancelReject(
                    clOrdID: message.string(11) ?? "NONE", origClOrdID: orig, order: orders.liveOrder(orig),
                    responseTo: message.msgType == "F" ? "1" : "2", reason: 99, text: refusal.text),
                replyingTo: message)
        }
    }

    /// OrderStatusRequest (H): an ExecutionReport 150=I with the order's status as the gateway
    /// knows it (live, or among the last ``finishedOrdersKept`` finished), found by ClOrdID (any
    /// of its replace chain) or else by OrderID; for an order it cannot report on, 150=I 39=8 with
    /// Text, as QuickFIX's acceptors answer. OrdStatusReqID (790) is echoed when sent.
    private func orderStatus(_ message: FIXMessage) {
        let clOrdID = message.string(11) ?? ""
        var found = orders.engineID(of: clOrdID)
        // The report names the order by the ClOrdID asked about, or by its own when found by OrderID.
        var reportedClOrdID: String? = clOrdID
        if found.map({ orders.status(of: $0) == nil }) ?? true, let text = message.string(37),
            let n = UInt64(text), orders.status(of: OrderID(n)) != nil
        {
            found = OrderID(n)
            reportedClOrdID = nil
        }
        guard let id = found, let order = orders.status(of: id) else {
            let text =
                found != nil
                ? "unknown_order: order \(clOrdID) is done and no longer kept (the last "
                    + "\(Self.finishedOrdersKept) finished orders are)"
                : "unknown_order: no order \(clOrdID) on this session"
            send(
                entry.unknownOrderStatus(
                    message, text: text, execID: core.nextLocalExecutionID(), transactTime: Self.transactTime()),
                replyingTo: message)
            return
        }
        send(
            entry.executionReport(
                order, execID: core.nextLocalExecutionID(), execType: "I",
                ordStatus: FIXOrderEntry.statusRequestOrdStatus(order), clOrdID: reportedClOrdID,
                ordStatusReqID: message.string(790),
                transactTime: Self.transactTime()),
            replyingTo: message)
    }

    private func newOrder(_ message: FIXMessage, now: UInt64) {
        guard core.acceptingOrders else {
            refuse(message, .init(reason: .exchangeClosed, text: "exchange_closed: the gateway is shutting down"))
            return
        }
        guard let clOrdID = message.string(11) else { return }
        guard !orders.isKnown(clOrdID) else {
            refuse(
                message,
                .init(reason: .duplicateOrder, text: "duplicate_client_order_id: ClOrdID \(clOrdID) was used before"))
            return
        }
        switch entry.newOrder(message) {
        case .failure(let refusal):
            refuse(message, refusal)
        case .success(var order):
            guard let id = core.nextOrderID() else {
                refuse(
                    message, .init(reason: .other, text: "capacity_exhausted: the gateway cannot allocate an order id"))
                return
            }
            order.id = id
            let decision = core.checkRisk(order, now: now)
            if decision.action == .reject, let reason = decision.reason {
                refuse(
                    message,
                    .init(
                        reason: FIXOrderEntry.ordRejReason(risk: reason),
                        text: "risk_\(reason.code): refused by pre-trade risk checks"))
                return
            }
            var tracked = TrackedOrder<String>(
                key: clOrdID, engineID: id, account: order.account, symbol: order.symbol, side: order.side,
                type: order.type, timeInForce: order.timeInForce, price: order.price, orderQuantity: order.quantity,
                leavesQuantity: order.quantity)
            tracked.awaitingSince = now
            if let spelled = message.string(1), spelled != entry.accountLabel(order.account) {
                tracked.accountSpelling = spelled
            }
            orders.add(tracked)
            if Self.routingTags.contains(where: { message.contains($0) }) { routedOrders[id] = message }
            core.send(.new(order), owner: self, now: now)
        }
    }

    private func cancel(_ message: FIXMessage, now: UInt64) {
        guard let clOrdID = message.string(11), let orig = message.string(41) else { return }
        guard let order = changeTarget(message, clOrdID: clOrdID, orig: orig, responseTo: "1") else { return }
        orders.beginChange(
            PendingChange(kind: .cancel, requestKey: clOrdID),
            on: order.engineID, at: now)
        core.send(
            .cancel(CancelOrder(id: order.engineID, account: order.account, symbol: order.symbol)), owner: self,
            now: now)
    }

    private func replace(_ message: FIXMessage, now: UInt64) {
        guard let clOrdID = message.string(11), let orig = message.string(41) else { return }
        guard let order = changeTarget(message, clOrdID: clOrdID, orig: orig, responseTo: "2") else { return }
        switch entry.replacement(message, of: order) {
        case .failure(let refusal):
            send(
                entry.cancelReject(
                    clOrdID: clOrdID, origClOrdID: orig, order: order, responseTo: "2", reason: 99, text: refusal.text),
                replyingTo: message)
        case .success(let (price, quantity)):
            let open = quantity - order.cumulativeQuantity
            guard open > 0 else {
                send(
                    entry.cancelReject(
                        clOrdID: clOrdID, origClOrdID: orig, order: order, responseTo: "2", reason: 99,
                        text:
                            "invalid_qty: OrderQty \(quantity) is not above the filled quantity \(order.cumulativeQuantity)"
                    ),
                    replyingTo: message)
                return
            }
            let replace = ReplaceOrder(
                id: order.engineID, account: order.account, symbol: order.symbol,
                price: price == order.price ? nil : price, quantity: open == order.leavesQuantity ? nil : open)
            let decision = core.checkRisk(replace, now: now)
            if decision.action == .reject, let reason = decision.reason {
                send(
                    entry.cancelReject(
                        clOrdID: clOrdID, origClOrdID: orig, order: order, responseTo: "2", reason: 99,
                        text: "risk_\(reason.code): refused by pre-trade risk checks"),
                    replyingTo: message)
                return
            }
            orders.beginChange(
                PendingChange(kind: .replace, requestKey: clOrdID),
                on: order.engineID, at: now)
            core.send(.replace(replace), owner: self, now: now)
        }
    }

    /// The live order a cancel or replace names, or nil after answering why not.
    private func changeTarget(_ message: FIXMessage, clOrdID: String, orig: String, responseTo: String)
        -> TrackedOrder<String>?
    {
        func reject(_ reason: Int, _ text: String, _ order: TrackedOrder<String>? = nil) -> TrackedOrder<String>? {
            rejectedOrders.increment()
            send(
                entry.cancelReject(
                    clOrdID: clOrdID, origClOrdID: orig, order: order, responseTo: responseTo, reason: reason,
                    text: text),
                replyingTo: message)
            return nil
        }
        if orders.isKnown(clOrdID) {
            return reject(99, "duplicate_client_order_id: ClOrdID \(clOrdID) was used before")
        }
        guard let order = orders.liveOrder(orig) else {
            return orders.isKnown(orig)
                ? reject(0, "too_late: order \(orig) is no longer open")
                : reject(1, "unknown_order: no open order \(orig) on this session")
        }
        if let symbol = message.string(55), symbol != core.symbols[order.symbol].name {
            return reject(1, "unknown_order: order \(orig) is not on \(symbol)", order)
        }
        if let side = message.string(54), side != (order.side == .buy ? "1" : "2") {
            return reject(99, "side_mismatch: Side (54) differs from order \(orig)", order)
        }
        if case .failure(let refusal) = entry.account(message) { return reject(99, refusal.text, order) }
        if message.string(1) != nil, case .success(let account) = entry.account(message),
            account != order.account.rawValue
        {
            return reject(99, "account_mismatch: order \(orig) belongs to another account", order)
        }
        return order
    }

    // MARK: Engine answers

    func engineEvent(_ event: EngineEvent, orderID: OrderID, shard: UInt16) {
        guard let update = orders.apply(event, to: orderID) else { return }
        // Unique across restarts of either side: engine order ids are never reused, and an order
        // never sees the same event sequence twice.
        let execID = "\(orderID.rawValue)-\(event.sequence)"
        let time = Self.transactTime()
        let report: FIXOutboundMessage
        switch update {
        case .accepted(let order):
            report = entry.executionReport(
                order, execID: execID, execType: "0", ordStatus: FIXOrderEntry.ordStatus(order), transactTime: time)
        case .rejected(let order, let reason) where reason == .fillOrKillUnfillable:
            // A valid fill-or-kill order that cannot fill in full is killed as FIX's order state
            // matrices say (ExecType Canceled), after its New: the same New → Canceled path
            // as an IOC that finds nothing to trade, which every client's order state handles. The
            // binary protocol answers the same way (orderAccepted, canceled). The engine's event
            // stays a reject (the replay spec); only its mapping to FIX is chosen here.
            var working = order
            working.leavesQuantity = order.orderQuantity
            send(
                entry.executionReport(
                    working, execID: core.nextLocalExecutionID(), execType: "0", ordStatus: "0", transactTime: time),
                replyingTo: routedOrders[orderID])
            report = entry.executionReport(
                order, execID: execID, execType: "4", ordStatus: "4",
                text: "\(reason.description): the order could not be filled in full at once", transactTime: time)
        case .rejected(let order, let reason):
            report = entry.executionReport(
                order, execID: execID, execType: "8", ordStatus: "8", rejectReason: FIXOrderEntry.ordRejReason(reason),
                text: reason.description, transactTime: time)
        case .filled(let order, let price, let quantity, _):
            report = entry.executionReport(
                order, execID: execID, execType: "F", ordStatus: order.leavesQuantity == 0 ? "2" : "1",
                last: (price, quantity), transactTime: time)
        case .canceled(let order, let requestKey, let reason):
            report = entry.executionReport(
                order, execID: execID, execType: "4", ordStatus: "4", clOrdID: requestKey ?? order.key,
                origClOrdID: requestKey == nil ? nil : order.key,
                text: requestKey == nil ? reason.description : nil, transactTime: time)
        case .replaced(let order, let requestKey, let previousKey):
            report = entry.executionReport(
                order, execID: execID, execType: "5", ordStatus: FIXOrderEntry.ordStatus(order), clOrdID: requestKey,
                origClOrdID: previousKey, transactTime: time)
        case .changeRejected(let order, let change, let reason):
            let tooLate = order.isDone || reason == .unknownOrder
            report = entry.cancelReject(
                clOrdID: change.requestKey, origClOrdID: order.key, order: order,
                responseTo: change.kind == .cancel ? "1" : "2", reason: tooLate ? 0 : 99,
                text: reason.description)
        }
        send(report, replyingTo: routedOrders[orderID])
        if !orders.isTracked(orderID) {
            core.release(orderID)
            routedOrders[orderID] = nil
        }
    }

    func commandNotSent(_ command: EngineCommand, sentAt: UInt64, reason: NotSentReason) {
        let text: String
        var rejectReason = FIXOrderEntry.OrdRejReason.other
        switch reason {
        case .shardUnavailable:
            text = "shard_unavailable: the matching engine for \(core.symbols[command.symbolID].name) is not reachable"
        case .unknownSymbol: text = "unknown_symbol"
        case .risk(let risk):
            text = "risk_\(risk.code): refused by pre-trade risk checks"
            rejectReason = FIXOrderEntry.ordRejReason(risk: risk)
        }
        if case .new = command {
            failNewOrder(command.orderID, text: text, reason: rejectReason, mayReachEngine: false)
        } else {
            failChange(command.orderID, sentAt: sentAt, text: text)
        }
    }

    func answerOverdue(orderID: OrderID, sentAt: UInt64) {
        guard let order = orders.orders[orderID] else { return }
        let text =
            "engine_timeout: no answer from the matching engine within \(core.configuration.ackTimeoutMilliseconds) ms"
        if !order.acknowledged && order.awaitingSince == sentAt {
            core.noteOverdue()
            failNewOrder(orderID, text: text, mayReachEngine: true)
        } else if order.pendingChanges.contains(where: { $0.sentAt == sentAt }) {
            core.noteOverdue()
            failChange(orderID, sentAt: sentAt, text: text)
        }
    }

    /// Tells the client its new order got no answer from the engine. `mayReachEngine`: it was
    /// sent and may still arrive (a timeout), so it is orphaned (canceled should the engine accept
    /// it late) rather than forgotten.
    private func failNewOrder(
        _ orderID: OrderID, text: String, reason: FIXOrderEntry.OrdRejReason = .other, mayReachEngine: Bool
    ) {
        guard let order = orders.orders[orderID], !order.acknowledged, order.cumulativeQuantity == 0,
            var dropped = orders.drop(orderID)
        else { return }
        dropped.isDone = true
        dropped.leavesQuantity = 0
        send(
            entry.executionReport(
                dropped, execID: core.nextLocalExecutionID(), execType: "8", ordStatus: "8", rejectReason: reason,
                text: text, transactTime: Self.transactTime()),
            replyingTo: routedOrders.removeValue(forKey: orderID))
        if mayReachEngine {
            core.orphan(orderID, account: order.account, symbol: order.symbol)
        } else {
            core.release(orderID)
        }
    }

    /// Tells the client its cancel or replace got no answer from the engine.
    private func failChange(_ orderID: OrderID, sentAt: UInt64, text: String) {
        guard let order = orders.orders[orderID], let change = orders.abandonChange(on: orderID, sentAt: sentAt) else {
            return
        }
        send(
            entry.cancelReject(
                clOrdID: change.requestKey, origClOrdID: order.key, order: order,
                responseTo: change.kind == .cancel ? "1" : "2", reason: 99, text: text),
            replyingTo: routedOrders[orderID])
        if !orders.isTracked(orderID) {
            core.release(orderID)
            routedOrders[orderID] = nil
        }
    }

    /// Tags that carry a message's business-level id (FIX 4.4), in the order they are looked for:
    /// ClOrdID, MDReqID, QuoteReqID, QuoteID, SecurityReqID, TradSesReqID, MassStatusReqID,
    /// OrdStatusReqID, PosReqID, TradeRequestID, AllocID, ConfirmID, SettlInstReqID, ListID,
    /// BidID, RFQReqID, CollReqID, UserRequestID, NetworkRequestID.
    static let businessIDTags = [
        11, 262, 131, 117, 320, 335, 584, 790, 710, 568, 70, 664, 791, 66, 390, 644, 894, 923, 933,
    ]

    // MARK: Time

    /// TransactTime (60) now, `YYYYMMDD-HH:MM:SS.sss` UTC.
    static func transactTime() -> String { FIXTimestamp.string(wallClockNanoseconds()) }
}
