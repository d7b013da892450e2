/// Settings of one acceptor session.
///
/// Keys: `senderCompID` (ours, e.g. `ISLD`), `targetCompID` (the client's, e.g. `TW`), `password` (tag 554 on
/// Logon must match when set), `sendingTimeTolerance` (ns, default 120 s), `logonTimeout` (ns, default 10 s),
/// `logoutTimeout` (ns, default 2 s), `allowsUserDefinedFields` (5000–9999 accepted unchecked, default true),
/// `resetOnLogon` (every Logon resets both sequence numbers to 1, default false).
public struct FIXSessionConfiguration: Sendable {
    /// Our CompID: the counterparty's TargetCompID (56), our SenderCompID (49).
    public var senderCompID: String
    /// The counterparty's CompID: its SenderCompID (49), our TargetCompID (56).
    public var targetCompID: String
    /// When set, Logon must carry Password (554) equal to it, else Logout with a Text and disconnect.
    public var password: String?
    /// Largest accepted difference between SendingTime (52) and now, nanoseconds (QuickFIX MaxLatency).
    public var sendingTimeTolerance: Int64
    /// A connection that has not logged on after this long is dropped, nanoseconds.
    public var logonTimeout: Int64
    /// After we send a Logout, the counterparty has this long to answer before we disconnect, nanoseconds.
    public var logoutTimeout: Int64
    /// Whether user-defined tags 5000–9999 pass validation unchecked.
    public var allowsUserDefinedFields: Bool
    /// Whether the Logon that opens a connection resets both sequence numbers to 1 (and drops the
    /// stored messages) whatever its ResetSeqNumFlag (141), as QuickFIX's `ResetOnLogon=Y` does for
    /// an acceptor. A Logon with 141=Y resets them either way. As in QuickFIX, only a Logon that
    /// carried 141=Y gets 141=Y in the answer and is exempt from the too-high MsgSeqNum check.
    public var resetOnLogon: Bool

    /// A configuration with QuickFIX's defaults.
    public init(
        senderCompID: String, targetCompID: String, password: String? = nil,
        sendingTimeTolerance: Int64 = 120_000_000_000, logonTimeout: Int64 = 10_000_000_000,
        logoutTimeout: Int64 = 2_000_000_000, allowsUserDefinedFields: Bool = true, resetOnLogon: Bool = false
    ) {
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
        self.password = password
        self.sendingTimeTolerance = sendingTimeTolerance
        self.logonTimeout = logonTimeout
        self.logoutTimeout = logoutTimeout
        self.allowsUserDefinedFields = allowsUserDefinedFields
        self.resetOnLogon = resetOnLogon
    }
}

/// What the gateway must do after a session event, in order.
public enum FIXSessionAction: Sendable {
    /// Write these bytes to the connection.
    case send([UInt8])
    /// An application message (D, F, G, any valid non-session type) that passed validation, in sequence order.
    /// The gateway answers it (ExecutionReport, BusinessMessageReject 380=3 for types it does not support…).
    case deliver(FIXMessage)
    /// Close the connection (after writing the preceding sends), then call `disconnected()`.
    case disconnect(reason: String)
    /// The counterparty is logged on (our Logon answer is in the preceding `.send`).
    case loggedOn
    /// The logged-on period ended (Logout exchanged or connection dropped by the session).
    case loggedOut
}

/// A FIX 4.4 acceptor session: the session layer of QuickFIX's acceptor, as a state machine.
///
/// One per configured counterparty, living across connections (sequence numbers and sent messages are in the
/// store). Bytes in (as frames), actions out; time is always passed in (nanoseconds since the Unix epoch, UTC);
/// no I/O besides the store. Not thread-safe: call from the connection's event loop only.
///
/// Behaviour follows QuickFIX's acceptance definitions (test/definitions/server/fix44): the first message must be a
/// valid Logon for this session (else disconnect without answer); sequence gaps trigger ResendRequest and queued
/// messages are processed once the gap is filled; a too-low MsgSeqNum without PossDupFlag ends the session; invalid
/// messages get a session Reject (consuming their sequence number); ResendRequests are answered from the store with
/// PossDupFlag=Y and SequenceReset-GapFill for session messages; heartbeats, test requests and timeouts are driven by
/// `timerTick(now:)`.
public final class FIXSession {
    /// The configuration this session was created with.
    public let configuration: FIXSessionConfiguration
    private let store: any FIXSessionStore
    private let dictionary = FIXDictionary.fix44
    private let validator: FIXValidator

    private var hasConnection = false
    private var receivedLogon = false
    private var sentLogout = false
    private var logoutSentAt: Int64 = 0
    private var connectedAt: Int64 = 0
    private var lastReceivedAt: Int64 = 0
    private var lastSentAt: Int64 = 0
    private var heartBtInt: Int64 = 0
    private var testRequestCounter = 0
    private var resendRange: (begin: Int, end: Int)?
    private var queue: [Int: FIXMessage] = [:]
    private var actions: [FIXSessionAction] = []

    /// A session for `configuration` keeping its state in `store`.
    /// - Throws: never today; reserved for stores that must be opened.
    public init(configuration: FIXSessionConfiguration, store: any FIXSessionStore) throws {
        self.configuration = configuration
        self.store = store
        self.validator = FIXValidator(allowsUserDefinedFields: configuration.allowsUserDefinedFields)
    }

    /// Whether a counterparty is logged on over the current connection.
    public var isLoggedOn: Bool { hasConnection && receivedLogon }
    /// Whether a connection is bound to this session. The gateway refuses a second connection while true
    /// (QuickFIX's 1b_DuplicateIdentity and AlreadyLoggedOn: the second connection is dropped).
    public var isConnected: Bool { hasConnection }
    /// MsgSeqNum of the next message we send.
    public var nextSenderMsgSeqNum: Int { store.nextSenderMsgSeqNum }
    /// MsgSeqNum we expect next from the counterparty.
    public var nextTargetMsgSeqNum: Int { store.nextTargetMsgSeqNum }

    /// Whether `message` (the first message of a connection) is addressed to this session: its SenderCompID is our
    /// target and its TargetCompID our sender.
    public func matches(_ message: FIXMessage) -> Bool {
        message.value(49, equals: configuration.targetCompID) && message.value(56, equals: configuration.senderCompID)
    }

    /// A new TCP connection is bound to this session.
    public func connected(now: Int64) {
        resetConnectionState()
        hasConnection = true
        connectedAt = now
        lastReceivedAt = now
        lastSentAt = now
    }

    /// The connection is gone (closed by either side). Sequence numbers and sent messages stay in the store.
    public func disconnected() {
        resetConnectionState()
    }

    /// Handles one frame from the current connection.
    public func receive(_ frame: FIXFrame, now: Int64) -> [FIXSessionAction] {
        guard hasConnection else { return [] }
        actions = []
        switch frame {
        case .tooLarge(let size):
            disconnect("message of \(size) bytes exceeds the maximum size")
        case .garbled(let reason):
            if !receivedLogon { disconnect("garbled message before Logon: \(reason)") }
        case .message(let message):
            if receivedLogon {
                process(message, now: now, queued: false)
            } else {
                processFirst(message, now: now)
            }
        }
        return takeActions()
    }

    /// Heartbeats, test requests and timeouts; call about every 100 ms.
    public func timerTick(now: Int64) -> [FIXSessionAction] {
        guard hasConnection else { return [] }
        actions = []
        if !receivedLogon {
            if now - connectedAt >= configuration.logonTimeout { disconnect("Logon timed out") }
        } else if sentLogout {
            if now - logoutSentAt >= configuration.logoutTimeout { disconnect("Logout timed out") }
        } else if heartBtInt > 0 {
            let silence = now - lastReceivedAt
            if silence * 10 >= heartBtInt * 24 {
                disconnect("Timed out waiting for heartbeat")
            } else if silence * 10 >= heartBtInt * 12 * Int64(testRequestCounter + 1) {
                var testRequest = FIXOutboundMessage(msgType: "1")
                testRequest.append(112, "TEST")
                send(testRequest, now: now)
                testRequestCounter += 1
            } else if now - lastSentAt >= heartBtInt && testRequestCounter == 0 {
                send(FIXOutboundMessage(msgType: "0"), now: now)
            }
        }
        return takeActions()
    }

    /// Sends an application message, storing it under its sequence number even when nobody is logged on (it is then
    /// resent on ResendRequest). `replyingTo` reverses the routing of the inbound message
    /// (OnBehalfOfCompID 115 ⇄ DeliverToCompID 128, 116 ⇄ 129, 144 ⇄ 145).
    public func sendApplication(_ message: FIXOutboundMessage, replyingTo: FIXMessage?, now: Int64)
        -> [FIXSessionAction]
    {
        actions = []
        send(message, now: now, routing: replyingTo.map(FIXSession.reverseRoute) ?? [], transmit: isLoggedOn)
        return takeActions()
    }

    /// Starts a logout initiated by the exchange (e.g. shutdown): sends Logout with `text`; the
    /// session disconnects when the client answers, or after the logout timeout.
    public func logout(text: String, now: Int64) -> [FIXSessionAction] {
        actions = []
        if isLoggedOn && !sentLogout { sendLogout(text: text, now: now) }
        return takeActions()
    }

    // MARK: Inbound

    private func processFirst(_ message: FIXMessage, now: Int64) {
        guard message.msgType == "A" else { return disconnect("first message is not a Logon") }
        guard message.beginString == "FIX.4.4" else {
            return disconnect("Logon with BeginString " + message.beginString)
        }
        guard matches(message) else { return disconnect("Logon for another session") }
        if let rejection = validator.validate(message) { return disconnect("invalid Logon: \(rejection)") }
        guard let sendingTime = message.sendingTime,
            abs(now - sendingTime) <= configuration.sendingTimeTolerance
        else { return disconnect("Logon SendingTime accuracy problem") }
        // HeartBtInt: required by the dictionary; a negative or absurd interval cannot be honoured.
        guard let interval = message.int(108), (0...86_400).contains(interval) else {
            sendLogout(text: "HeartBtInt (108) must be 0…86400 seconds", now: now)
            return disconnect("invalid HeartBtInt")
        }
        if let password = configuration.password, !message.value(554, equals: password) {
            sendLogout(text: "Invalid username or password", now: now)
            return disconnect("invalid password")
        }
        nextLogon(message, now: now)
    }

    private func nextLogon(_ message: FIXMessage, now: Int64) {
        let reset = message.bool(141) ?? false
        if reset || (configuration.resetOnLogon && !receivedLogon) {
            store.reset()
            queue = [:]
            resendRange = nil
        }
        guard verify(message, checkTooHigh: false, checkTooLow: true, now: now) else { return }
        heartBtInt = Int64(max(0, message.int(108) ?? 0)) * 1_000_000_000
        let wasLoggedOn = receivedLogon
        receivedLogon = true
        var logon = FIXOutboundMessage(msgType: "A")
        logon.append(98, 0)
        logon.append(108, message.int(108) ?? 0)
        if reset { logon.append(141, true) }
        send(logon, now: now)
        if !wasLoggedOn { actions.append(.loggedOn) }
        let seq = message.msgSeqNum ?? 0
        if seq > store.nextTargetMsgSeqNum && !reset {
            doTargetTooHigh(message, now: now)
        } else {
            store.nextTargetMsgSeqNum += 1
            nextQueued(now: now)
        }
    }

    private func process(_ message: FIXMessage, now: Int64, queued: Bool) {
        defer { if !queued && hasConnection { nextQueued(now: now) } }
        if message.beginString != "FIX.4.4" {
            if message.msgType == "5" { return nextLogout(message, now: now) }
            sendLogout(text: "Incorrect BeginString", now: now)
            store.nextTargetMsgSeqNum += 1
            return
        }
        if let rejection = validator.validate(message) {
            if message.msgType == "A" { return disconnect("invalid Logon: \(rejection)") }
            return sendReject(message, rejection, now: now)
        }
        switch message.msgType {
        case "A":
            guard message.bool(141) == true else { return disconnect("Logon received while logged on") }
            nextLogon(message, now: now)
        case "0":
            guard verify(message, checkTooHigh: true, checkTooLow: true, now: now) else { return }
            store.nextTargetMsgSeqNum += 1
        case "1":
            guard verify(message, checkTooHigh: true, checkTooLow: true, now: now) else { return }
            var heartbeat = FIXOutboundMessage(msgType: "0")
            heartbeat.append(112, message.string(112) ?? "")
            send(heartbeat, now: now)
            store.nextTargetMsgSeqNum += 1
        case "2":
            nextResendRequest(message, now: now)
        case "3":
            guard verify(message, checkTooHigh: false, checkTooLow: true, now: now) else { return }
            store.nextTargetMsgSeqNum += 1
        case "4":
            let gapFill = message.bool(123) ?? false
            guard verify(message, checkTooHigh: gapFill, checkTooLow: gapFill, now: now) else { return }
            if let newSeqNo = message.int(36) {
                if newSeqNo > store.nextTargetMsgSeqNum {
                    store.nextTargetMsgSeqNum = newSeqNo
                } else if newSeqNo < store.nextTargetMsgSeqNum {
                    sendReject(message, FIXRejection(.valueIsIncorrect), now: now)
                }
            }
        case "5":
            nextLogout(message, now: now)
        default:
            guard verify(message, checkTooHigh: true, checkTooLow: true, now: now) else { return }
            store.nextTargetMsgSeqNum += 1
            actions.append(.deliver(message))
        }
    }

    private func nextLogout(_ message: FIXMessage, now: Int64) {
        guard verify(message, checkTooHigh: false, checkTooLow: false, now: now) else { return }
        if !sentLogout { sendLogout(text: nil, now: now) }
        store.nextTargetMsgSeqNum += 1
        disconnect("Logout")
    }

    private func nextResendRequest(_ message: FIXMessage, now: Int64) {
        guard verify(message, checkTooHigh: false, checkTooLow: false, now: now) else { return }
        let begin = max(1, message.int(7) ?? 1)
        var end = message.int(16) ?? 0
        let nextSender = store.nextSenderMsgSeqNum
        if end == 0 || end >= nextSender { end = nextSender - 1 }
        if begin <= end {
            var current = begin
            var gapStart: Int?
            for (seq, bytes) in store.messages(in: begin...end) {
                if seq > current && gapStart == nil { gapStart = current }
                guard let resent = resendBytes(bytes, seq: seq, now: now) else {
                    if gapStart == nil { gapStart = seq }
                    current = seq + 1
                    continue
                }
                if let start = gapStart { sendGapFill(seq: start, newSeqNo: seq, now: now) }
                gapStart = nil
                actions.append(.send(resent))
                lastSentAt = now
                current = seq + 1
            }
            if current <= end { sendGapFill(seq: gapStart ?? current, newSeqNo: end + 1, now: now) }
        }
        if message.msgSeqNum == store.nextTargetMsgSeqNum { store.nextTargetMsgSeqNum += 1 }
    }

    /// QuickFIX's `Session::verify`: SendingTime, CompIDs, then sequence number.
    private func verify(_ message: FIXMessage, checkTooHigh: Bool, checkTooLow: Bool, now: Int64) -> Bool {
        guard let sendingTime = message.sendingTime, abs(now - sendingTime) <= configuration.sendingTimeTolerance
        else {
            sendReject(message, FIXRejection(.sendingTimeAccuracyProblem), now: now)
            sendLogout(text: nil, now: now)
            return false
        }
        guard matches(message) else {
            sendReject(message, FIXRejection(.compIDProblem), now: now)
            sendLogout(text: nil, now: now)
            return false
        }
        let seq = message.msgSeqNum ?? 0
        let expected = store.nextTargetMsgSeqNum
        if checkTooHigh && seq > expected {
            doTargetTooHigh(message, now: now)
            return false
        }
        if checkTooLow && seq < expected {
            doTargetTooLow(message, now: now)
            return false
        }
        if (checkTooHigh || checkTooLow), let range = resendRange, seq >= range.end { resendRange = nil }
        lastReceivedAt = now
        testRequestCounter = 0
        return true
    }

    private func doTargetTooHigh(_ message: FIXMessage, now: Int64) {
        let seq = message.msgSeqNum ?? 0
        queue[seq] = message
        if let range = resendRange, seq >= range.begin { return }
        var resendRequest = FIXOutboundMessage(msgType: "2")
        resendRequest.append(7, store.nextTargetMsgSeqNum)
        resendRequest.append(16, 0)
        send(resendRequest, now: now)
        resendRange = (store.nextTargetMsgSeqNum, seq - 1)
    }

    private func doTargetTooLow(_ message: FIXMessage, now: Int64) {
        let seq = message.msgSeqNum ?? 0
        guard message.possDupFlag else {
            let text = "MsgSeqNum too low, expecting \(store.nextTargetMsgSeqNum) but received \(seq)"
            sendLogout(text: text, now: now)
            return disconnect(text)
        }
        guard message.msgType != "4" else { return }
        guard let orig = message.origSendingTime else {
            return sendReject(message, FIXRejection(.requiredTagMissing, refTagID: 122), now: now)
        }
        if let sendingTime = message.sendingTime, orig > sendingTime {
            sendReject(message, FIXRejection(.sendingTimeAccuracyProblem), now: now)
            sendLogout(text: nil, now: now)
        }
    }

    private func nextQueued(now: Int64) {
        while hasConnection, let message = queue.removeValue(forKey: store.nextTargetMsgSeqNum) {
            if message.msgType == "A" || message.msgType == "2" {
                store.nextTargetMsgSeqNum += 1
            } else {
                process(message, now: now, queued: true)
            }
        }
        let expected = store.nextTargetMsgSeqNum
        if queue.keys.contains(where: { $0 < expected }) { queue = queue.filter { $0.key >= expected } }
    }

    // MARK: Outbound

    private func sendReject(_ message: FIXMessage, _ rejection: FIXRejection, now: Int64) {
        let seq = message.msgSeqNum
        if message.msgType != "A" && message.msgType != "4" && seq == store.nextTargetMsgSeqNum {
            store.nextTargetMsgSeqNum += 1
        }
        guard receivedLogon else { return disconnect("reject before Logon: \(rejection)") }
        var reject = FIXOutboundMessage(msgType: "3")
        if let index = message.firstIndex(of: 34), !message.valueRange(at: index).isEmpty {
            reject.append(45, message.string(at: index))
        }
        reject.append(58, rejection.text)
        if let tag = rejection.refTagID { reject.append(371, tag) }
        if !message.msgType.isEmpty { reject.append(372, message.msgType) }
        reject.append(373, rejection.reason.rawValue)
        send(reject, now: now, routing: FIXSession.reverseRoute(message))
    }

    private func sendLogout(text: String?, now: Int64) {
        var logout = FIXOutboundMessage(msgType: "5")
        if let text { logout.append(58, text) }
        send(logout, now: now)
        sentLogout = true
        logoutSentAt = now
    }

    private func sendGapFill(seq: Int, newSeqNo: Int, now: Int64) {
        var gapFill = FIXOutboundMessage(msgType: "4")
        gapFill.append(36, newSeqNo)
        gapFill.append(123, true)
        var header = makeHeader(seq: seq, now: now)
        header.possDupFlag = true
        header.origSendingTime = now
        actions.append(.send(FIXEncoder.encode(gapFill, header: header)))
        lastSentAt = now
    }

    /// Encodes `message` with the next sequence number, stores application messages, and queues a `.send`.
    private func send(
        _ message: FIXOutboundMessage, now: Int64, routing: [(tag: Int, value: String)] = [], transmit: Bool = true
    ) {
        let seq = store.nextSenderMsgSeqNum
        var header = makeHeader(seq: seq, now: now)
        header.extraFields = routing
        let bytes = FIXEncoder.encode(message, header: header)
        if !FIXDictionary.isAdminMessageType(message.msgType) { store.store(seq: seq, bytes: bytes) }
        store.nextSenderMsgSeqNum = seq + 1
        if transmit {
            actions.append(.send(bytes))
            lastSentAt = now
        }
    }

    private func makeHeader(seq: Int, now: Int64) -> FIXOutboundHeader {
        FIXOutboundHeader(
            senderCompID: configuration.senderCompID, targetCompID: configuration.targetCompID, msgSeqNum: seq,
            sendingTime: now)
    }

    /// A stored message re-encoded for a resend: same sequence number and body, PossDupFlag=Y, OrigSendingTime =
    /// its SendingTime, SendingTime = now.
    private func resendBytes(_ bytes: [UInt8], seq: Int, now: Int64) -> [UInt8]? {
        guard let stored = FIXMessage.tokenize(bytes), let checksumIndex = stored.firstIndex(of: 10) else {
            return nil
        }
        var header = makeHeader(seq: seq, now: now)
        header.possDupFlag = true
        header.origSendingTime = stored.sendingTime ?? now
        var bodyStart = stored.fieldRange(at: checksumIndex).lowerBound
        for index in 3..<checksumIndex {
            let tag = stored.tag(at: index)
            if dictionary.isHeaderField(tag) {
                switch tag {
                case 34, 43, 49, 52, 56, 122: break
                default: header.extraFields.append((tag, stored.string(at: index)))
                }
            } else {
                bodyStart = stored.fieldRange(at: index).lowerBound
                break
            }
        }
        let body = Array(stored.bytes[bodyStart..<stored.fieldRange(at: checksumIndex).lowerBound])
        var out: [UInt8] = []
        FIXEncoder.encode(msgType: stored.msgType, body: body, header: header, into: &out)
        return out
    }

    /// Routing fields for an answer to `message`: 115 ⇄ 128, 116 ⇄ 129, 144 ⇄ 145 (empty values dropped).
    static func reverseRoute(_ message: FIXMessage) -> [(tag: Int, value: String)] {
        var result: [(tag: Int, value: String)] = []
        for (from, to) in [(115, 128), (128, 115), (116, 129), (129, 116), (144, 145), (145, 144)] {
            if let value = message.string(from), !value.isEmpty { result.append((to, value)) }
        }
        return result
    }

    // MARK: State

    private func disconnect(_ reason: String) {
        guard hasConnection else { return }
        if receivedLogon { actions.append(.loggedOut) }
        actions.append(.disconnect(reason: reason))
        resetConnectionState()
    }

    private func resetConnectionState() {
        hasConnection = false
        receivedLogon = false
        sentLogout = false
        heartBtInt = 0
        testRequestCounter = 0
        resendRange = nil
        queue = [:]
    }

    private func takeActions() -> [FIXSessionAction] {
        let result = actions
        actions = []
        return result
    }
}

extension FIXOutboundMessage {
    /// A BusinessMessageReject (j) for `message`: RefSeqNum 45, Text 58, RefMsgType 372, BusinessRejectReason 380
    /// (3 = unsupported message type), as QuickFIX's 2r_UnregisteredMsgType expects.
    public static func businessMessageReject(for message: FIXMessage, reason: Int, text: String) -> FIXOutboundMessage {
        var reject = FIXOutboundMessage(msgType: "j")
        if let seq = message.string(34), !seq.isEmpty { reject.append(45, seq) }
        reject.append(58, text)
        reject.append(372, message.msgType)
        reject.append(380, reason)
        return reject
    }
}
