import BinaryProtocol
import ChronosConfig
import ChronosCore
import Foundation
import Histogram
import NIOCore
import NIOPosix
import Runtime

// The protocol-independent part of `chronos loadgen`: the order flow, the window of orders in
// flight, the shared counters and histograms, and the runner that connects, logs in, drives and
// logs out N sessions on one SwiftNIO event loop. The protocol handlers are in
// LoadgenBinary.swift and LoadgenFIX.swift, the floor's echo servers in LoadgenFloor.swift.

/// How a run reaches its target.
public enum LoadgenTransport: String, Sendable {
    /// The binary protocol over TCP (docs/protocol.md).
    case binaryTCP = "binary over TCP"
    /// The binary protocol over UDP, with the 20-byte UDP header.
    case binaryUDP = "binary over UDP"
    /// FIX 4.4 over TCP.
    case fix = "FIX 4.4 over TCP"
}

/// The credentials of one session.
public enum LoadgenLogin: Sendable {
    /// A binary-protocol login (`[[gateway.binary_sessions]]`).
    case binary(username: String, password: String, account: UInt32)
    /// A FIX session (`[[gateway.fix_sessions]]`): the client's CompID (our SenderCompID, 49),
    /// the exchange's (our TargetCompID, 56), the optional Password (554).
    case fix(clientCompID: String, exchangeCompID: String, password: String?, account: UInt32)

    /// The session's name in messages: the username or the client's CompID.
    var name: String {
        switch self {
        case .binary(let username, _, _): username
        case .fix(let clientCompID, _, _, _): clientCompID
        }
    }

    /// The account the session's orders trade for.
    var account: UInt32 {
        switch self {
        case .binary(_, _, let account), .fix(_, _, _, let account): account
        }
    }
}

extension LoadgenLogin {
    /// The first `count` sessions of `exchange`'s gateway for `transport`
    /// (`[[gateway.binary_sessions]]` or `[[gateway.fix_sessions]]`), each trading for its first
    /// account.
    ///
    /// - Parameter source: the configuration's name in the error.
    /// - Throws: ``LoadgenError/configuration(_:)`` when it has fewer.
    public static func first(
        _ count: Int, of exchange: ExchangeConfiguration, for transport: LoadgenTransport, source: String
    ) throws(LoadgenError) -> [LoadgenLogin] {
        switch transport {
        case .binaryTCP, .binaryUDP:
            let configured = exchange.gateway.binarySessions
            guard configured.count >= count else {
                throw .configuration(
                    "--sessions \(count) needs \(count) binary sessions; \(source) has \(configured.count) "
                        + "([[gateway.binary_sessions]])")
            }
            return configured.prefix(count).map {
                .binary(username: $0.username, password: $0.password, account: $0.accounts[0])
            }
        case .fix:
            let configured = exchange.gateway.fixSessions
            guard configured.count >= count else {
                throw .configuration(
                    "--sessions \(count) needs \(count) FIX sessions; \(source) has \(configured.count) "
                        + "([[gateway.fix_sessions]])")
            }
            return configured.prefix(count).map {
                .fix(
                    clientCompID: $0.targetCompID, exchangeCompID: $0.senderCompID, password: $0.password,
                    account: $0.accounts[0])
            }
        }
    }
}

/// The order flow: every session sends limit GTC orders of one quantity at one price per symbol,
/// cycling through the symbols and switching side after each cycle, so that orders cross and
/// fill, buys and sells balance per symbol and the book stays small. Sessions start at
/// different symbols and sides, so most matches are between sessions (a session's order that
/// meets its own resting order first is canceled by self-trade prevention, and counted).
public struct LoadgenPlan: Sendable {
    /// One traded symbol and the one price and quantity its orders use.
    public struct Symbol: Sendable {
        public var name: String
        /// The binary protocol's symbol field.
        var code: SymbolCode
        /// Limit price in price units (e.g. 15000 = 150.00 with 2 price decimals).
        var price: Int64
        /// Quantity in lots.
        public var quantity: Int64
        /// The price as FIX Price (44) text, e.g. `150.00`.
        public var decimalPrice: String
    }

    public var symbols: [Symbol]
    var ordersPerSession: Int
    var window: Int
    /// The first orders of each session are sent and counted but left out of the latency
    /// histograms (connections, caches and allocators settle in their first round trips).
    public var warmup = 0
    /// The high bits of every client order id: the wall clock in 10 ms units (23 bits, a cycle of
    /// 23 hours), so that a rerun against a long-running exchange does not reuse the ids of an
    /// earlier run in the same sessions (gateways refuse a known client order id).
    var runStamp: UInt64

    /// The flow for `symbols` (at most 8 ASCII characters each, as the binary protocol needs): the
    /// price nearest 150.00 (in the symbol's own decimals) on its tick and in its price limits,
    /// quantity 100 rounded to its lots and within its limits.
    public init(symbols configured: [SymbolConfiguration], ordersPerSession: Int, window: Int, runStamp: UInt64) {
        symbols = configured.compactMap { symbol in
            guard let code = SymbolCode(symbol.name) else { return nil }
            let decimals = max(0, min(symbol.priceDecimals, 9))
            var scale: Int64 = 1
            for _ in 0..<decimals { scale *= 10 }
            let target = 150 &* scale
            var price = max(symbol.minPrice, min(symbol.maxPrice, target))
            price -= price % symbol.tickSize
            if price < symbol.minPrice { price += symbol.tickSize }
            var quantity = max(100, symbol.minQuantity)
            quantity = (quantity + symbol.lotSize - 1) / symbol.lotSize * symbol.lotSize
            if quantity > symbol.maxQuantity {
                quantity = (symbol.minQuantity + symbol.lotSize - 1) / symbol.lotSize * symbol.lotSize
            }
            return Symbol(
                name: symbol.name, code: code, price: price, quantity: quantity,
                decimalPrice: SymbolConfiguration.decimalString(price, decimals: decimals))
        }
        self.ordersPerSession = ordersPerSession
        self.window = window
        self.runStamp = runStamp & OrderWindow.stampMask
    }

    /// The symbol of order `order` (0-based) of session `session`.
    @inline(__always)  // Called once per order; keeps the modulo next to its use.
    func symbolIndex(session: Int, order: Int) -> Int { (order &+ session) % symbols.count }

    /// The side of order `order` of session `session`: one cycle through the symbols buys, the
    /// next sells; odd sessions start selling.
    func side(session: Int, order: Int) -> BinarySide {
        (order / symbols.count &+ session) % 2 == 0 ? .buy : .sell
    }
}

/// The orders of one session that are in flight: a fixed array of slots with a free list.
///
/// A client order id names its slot, so an answer finds its order in O(1) without hashing:
///
/// ```
/// bits 63      62…40           39…16                  15…0
///      0       run stamp       order number (1-based)  slot
/// ```
///
/// An answer whose id does not match its slot's current id (already answered, timed out, or
/// from an earlier run) is ignored.
public struct OrderWindow {
    /// One order in flight, or a free slot (`clientOrderID` 0).
    struct Slot {
        var clientOrderID: UInt64 = 0
        /// 0-based number of the order within its session.
        var order = 0
        /// When the order was first sent (monotonic ns): latency is measured from here.
        var sentAt: UInt64 = 0
        /// When it was last sent (UDP resends).
        var lastSentAt: UInt64 = 0
        /// The UDP client sequence or FIX MsgSeqNum it went out with.
        var sequence: UInt64 = 0
    }

    public static let maximumWindow = 1 << 16
    public static let maximumOrders = (1 << 24) - 1
    static let stampMask: UInt64 = (1 << 23) - 1

    private(set) var slots: [Slot]
    private var free: [Int]
    /// Orders this session sends in all.
    let orderCount: Int
    /// Orders taken so far.
    private(set) var taken = 0
    private let stamp: UInt64

    init(window: Int, orders: Int, runStamp: UInt64) {
        precondition(window > 0 && window <= Self.maximumWindow && orders <= Self.maximumOrders)
        slots = Array(repeating: Slot(), count: window)
        free = Array((0..<window).reversed())
        orderCount = orders
        stamp = (runStamp & Self.stampMask) << 40
    }

    var inFlight: Int { slots.count - free.count }
    var allTaken: Bool { taken == orderCount }
    var hasRoom: Bool { !free.isEmpty && taken < orderCount }

    /// Takes a slot for the next order, sent at `now`; returns the slot.
    mutating func take(now: UInt64) -> Int {
        let slot = free.removeLast()
        taken += 1
        slots[slot] = Slot(
            clientOrderID: stamp | UInt64(taken) << 16 | UInt64(slot), order: taken - 1, sentAt: now, lastSentAt: now)
        return slot
    }

    /// The slot of the order in flight with `clientOrderID`, or nil.
    func pendingSlot(_ clientOrderID: UInt64) -> Int? {
        let slot = Int(clientOrderID & 0xFFFF)
        guard clientOrderID != 0, slot < slots.count, slots[slot].clientOrderID == clientOrderID else { return nil }
        return slot
    }

    /// Frees `slot` (answered, timed out or lost).
    mutating func release(_ slot: Int) {
        slots[slot].clientOrderID = 0
        free.append(slot)
    }

    /// Stamps `slot`'s sequence number (UDP client sequence, FIX MsgSeqNum).
    mutating func setSequence(_ sequence: UInt64, of slot: Int) { slots[slot].sequence = sequence }

    /// Notes a resend of `slot` at `now`.
    mutating func resent(_ slot: Int, now: UInt64) { slots[slot].lastSentAt = now }
}

/// What one run (the floor or the exchange) measured.
public struct LoadgenResult: Sendable {
    public var label: String
    var transport: LoadgenTransport
    public var sessions: Int
    /// Orders the run would send without the time limit.
    public var planned: Int
    public var sent = 0
    /// Orders with a first answer (accepted, rejected or filled) in time.
    public var answered = 0
    public var rejected = 0
    /// Orders completely filled (both sides of a trade are ours: two per trade).
    public var filled = 0
    /// Fill reports.
    public var fills = 0
    /// Cancels nobody asked for (self-trade prevention, or the exchange's).
    public var canceled = 0
    /// Orders without an answer within the answer timeout, or in flight when the connection ended.
    public var unanswered = 0
    /// UDP datagrams sent again (after a lost answer or a sequence gap).
    public var resent = 0
    /// Reject reasons and their counts.
    public var rejectReasons: [String: Int] = [:]
    /// Unusual events, each once (a session logged out by the gateway, …).
    public var warnings: [String] = []
    /// From the first order to the last answer.
    public var seconds = 0.0
    /// The time limit ended sending before every order was sent.
    public var stoppedByDuration = false
    /// Order → first answer, nanoseconds (without the warm-up orders).
    public var latency = LoadgenRunState.histogram()

    /// Answered orders per second of wall time.
    public var throughput: Double { seconds > 0 ? Double(answered) / seconds : 0 }
}

/// The state of one run, shared by its sessions; lives on the client event loop (no locks).
final class LoadgenRunState {
    let loop: any EventLoop
    let plan: LoadgenPlan
    let transport: LoadgenTransport
    /// Nanoseconds an order may wait for its first answer before it counts as unanswered.
    let answerTimeout: UInt64
    /// Nanoseconds after the first order when sending stops.
    let duration: UInt64
    private(set) var result: LoadgenResult
    var sessions: [LoadgenSession] = []
    /// True from ``begin()`` until the time limit or the end.
    private(set) var sending = false
    private(set) var startedAt: UInt64 = 0
    private var lastAnswerAt: UInt64 = 0
    private var unfinished = 0
    private var completed = false
    private let done: EventLoopPromise<Void>
    private var sweepTask: RepeatedTask?
    private var deadlineTask: Scheduled<Void>?
    // Progress: a line about once per second, with the median of that second.
    private var interval = LoadgenRunState.histogram()
    private var lastProgressAt: UInt64 = 0
    private var answeredAtLastProgress = 0
    private var warned: Set<String> = []

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    init(
        label: String, loop: any EventLoop, plan: LoadgenPlan, transport: LoadgenTransport, sessions: Int,
        duration: UInt64, answerTimeout: UInt64
    ) {
        self.loop = loop
        self.plan = plan
        self.transport = transport
        self.duration = duration
        self.answerTimeout = answerTimeout
        result = LoadgenResult(
            label: label, transport: transport, sessions: sessions, planned: sessions * plan.ordersPerSession)
        done = loop.makePromise(of: Void.self)
    }

    /// Starts sending on every session; the future completes when every session is done.
    func begin() -> EventLoopFuture<Void> {
        let now = SystemClock.monotonicNanoseconds()
        startedAt = now
        lastAnswerAt = now
        lastProgressAt = now
        sending = true
        unfinished = sessions.count
        let bound = NIOLoopBound(self, eventLoop: loop)
        deadlineTask = loop.scheduleTask(in: .nanoseconds(Int64(duration))) { bound.value.stopSending() }
        startSweeping()
        for session in sessions { session.pump() }
        if sessions.isEmpty { complete() }
        return done.futureResult
    }

    /// The first answer to an order: its latency (nil for a warm-up order), and the reject reason
    /// when it was refused.
    func recordAnswer(latency: UInt64?, now: UInt64, rejectReason: String?) {
        result.answered += 1
        if let rejectReason {
            result.rejected += 1
            result.rejectReasons[rejectReason, default: 0] += 1
        }
        if let latency {
            _ = result.latency.record(latency)
            _ = interval.record(latency)
        }
        lastAnswerAt = now
    }

    func recordSent(_ count: Int) { result.sent += count }
    func recordUnanswered(_ count: Int) { result.unanswered += count }
    func recordResent(_ count: Int) { result.resent += count }
    func recordCanceled() { result.canceled += 1 }

    func recordFill(completesOrder: Bool) {
        result.fills += 1
        if completesOrder { result.filled += 1 }
    }

    /// Notes an unusual event once per distinct text.
    func warn(_ text: String) {
        guard warned.insert(text).inserted else { return }
        result.warnings.append(text)
    }

    /// A session has nothing in flight and nothing more to send.
    func sessionFinished() {
        unfinished -= 1
        if unfinished == 0 { complete() }
    }

    private func stopSending() {
        guard sending else { return }
        sending = false
        if sessions.contains(where: { !$0.window.allTaken }) { result.stoppedByDuration = true }
        for session in sessions { session.checkFinished() }
    }

    /// Every 100 ms from the logins to the logouts: timeouts, resends and heartbeats of the
    /// sessions, and while sending a progress line about once per second.
    func startSweeping() {
        guard sweepTask == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: loop)
        sweepTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            bound.value.sweep()
        }
    }

    private func sweep() {
        let now = SystemClock.monotonicNanoseconds()
        for session in sessions { session.sweep(now: now) }
        if startedAt != 0 && !completed && now &- lastProgressAt >= 1_000_000_000 { printProgress(now: now) }
    }

    private func printProgress(now: UInt64) {
        let seconds = Double(now &- lastProgressAt) / 1e9
        let rate = Double(result.answered - answeredAtLastProgress) / seconds
        let elapsed = Double(now &- startedAt) / 1e9
        let median = interval.totalCount > 0 ? ReportFormat.microseconds(interval.valueAtPercentile(50)) : "-"
        FileHandleOutput.standardOutput(
            "  \(ReportFormat.left(result.label, 9)) \(ReportFormat.right(ReportFormat.fixed(elapsed, 1), 5)) s: "
                + "sent \(ReportFormat.grouped(result.sent))  answered \(ReportFormat.grouped(result.answered))  "
                + "rate \(ReportFormat.grouped(Int(rate.rounded())))/s  "
                + "p50 \(median) µs\n"
        )
        interval.reset()
        lastProgressAt = now
        answeredAtLastProgress = result.answered
    }

    private func complete() {
        guard !completed else { return }
        completed = true
        sending = false
        deadlineTask?.cancel()
        result.seconds = Double(max(lastAnswerAt, startedAt) &- startedAt) / 1e9
        done.succeed(())
    }

    /// Logs every session out; the future completes when all are closed, or after `timeout`
    /// with the stragglers closed by force.
    func logoutAll(timeout: TimeAmount) -> EventLoopFuture<Void> {
        let closes = sessions.map { $0.logout() }
        let all = EventLoopFuture.whenAllComplete(closes, on: loop).map { _ in () }
        let bound = NIOLoopBound(self, eventLoop: loop)
        let forced = loop.scheduleTask(in: timeout) {
            for session in bound.value.sessions { session.close() }
        }
        return all.always { _ in forced.cancel() }
    }

    /// Closes every session's connection at once (after a failed login).
    func closeAll() -> EventLoopFuture<Void> {
        let closes = sessions.map { session -> EventLoopFuture<Void> in
            session.close()
            return session.closeFuture ?? loop.makeSucceededVoidFuture()
        }
        return EventLoopFuture.whenAllComplete(closes, on: loop).map { _ in () }
    }

    /// The result, and the sessions released.
    func finish() -> LoadgenResult {
        sweepTask?.cancel()
        sweepTask = nil
        sessions.removeAll()
        return result
    }
}

/// One session of a run, on the client event loop: the window of orders in flight, what
/// happens to an answer, timeouts and heartbeats. Each protocol's channel handler subclasses it
/// and writes the bytes (``writeOrder(slot:now:)``, ``flushOrders()``, ``sendHeartbeat(now:)``).
class LoadgenSession {
    let index: Int
    let login: LoadgenLogin
    let run: LoadgenRunState
    var window: OrderWindow
    /// Completed when the gateway accepts the login, failed when it refuses or does not answer.
    let loginPromise: EventLoopPromise<Void>
    private(set) var isLoggedIn = false
    private(set) var isFinished = false
    /// Logout sent by us: the gateway's logout and close are expected.
    var isLoggingOut = false
    /// The connection is gone (or the gateway logged us out).
    private(set) var isClosed = false
    /// When we last sent anything (monotonic ns), for heartbeats.
    var lastSentAt: UInt64 = 0
    /// Answers arrived since the last pump (read batches pump once).
    var answeredSincePump = false

    /// Silence after which a session sends a heartbeat (we ask the gateway for 30 s intervals).
    static let heartbeatAfter: UInt64 = 10_000_000_000
    /// UDP: an order unanswered this long is sent again (same sequence: the gateway answers again).
    static let resendAfter: UInt64 = 250_000_000

    init(index: Int, login: LoadgenLogin, run: LoadgenRunState, loginPromise: EventLoopPromise<Void>) {
        self.index = index
        self.login = login
        self.run = run
        self.loginPromise = loginPromise
        window = OrderWindow(window: run.plan.window, orders: run.plan.ordersPerSession, runStamp: run.plan.runStamp)
    }

    var name: String { login.name }
    var account: UInt32 { login.account }

    // MARK: Hooks for the protocol handlers

    /// Writes (without flushing) the new order of `slot` (``OrderWindow/slots``).
    func writeOrder(slot: Int, now: UInt64) { preconditionFailure("subclass") }
    /// Flushes the orders written since the last flush.
    func flushOrders() {}
    /// Sends (and flushes) a heartbeat.
    func sendHeartbeat(now: UInt64) {}
    /// Sends the order of `slot` again (UDP only).
    func resend(slot: Int, now: UInt64) {}
    /// Whether unanswered orders are sent again (UDP).
    var resendsOrders: Bool { false }
    /// Sends the protocol's logout; the future completes when the connection is closed.
    func logout() -> EventLoopFuture<Void> { run.loop.makeSucceededVoidFuture() }
    /// Closes the connection now.
    func close() {}
    /// Completes when the connection is closed; nil before it exists.
    var closeFuture: EventLoopFuture<Void>? { nil }

    // MARK: The shared logic

    /// The gateway accepted the login.
    final func loggedIn() {
        guard !isLoggedIn else { return }
        isLoggedIn = true
        lastSentAt = SystemClock.monotonicNanoseconds()
        loginPromise.succeed(())
    }

    /// The login failed; the session will not take part.
    final func loginFailed(_ error: any Error) {
        loginPromise.fail(error)
    }

    /// Sends new orders while the window has room and the run is sending.
    final func pump() {
        answeredSincePump = false
        guard isLoggedIn, !isClosed, !isLoggingOut, run.sending else {
            checkFinished()
            return
        }
        var count = 0
        var now: UInt64 = 0
        while window.hasRoom {
            now = SystemClock.monotonicNanoseconds()
            let slot = window.take(now: now)
            writeOrder(slot: slot, now: now)
            count += 1
        }
        if count > 0 {
            flushOrders()
            lastSentAt = now
            run.recordSent(count)
        }
        checkFinished()
    }

    /// The first answer to `clientOrderID`, if it is in flight: records its latency (and the reject
    /// reason) and frees its slot. Returns false for anything else (a later report, a duplicate).
    @discardableResult
    final func answered(_ clientOrderID: UInt64, now: UInt64, rejectReason: String? = nil) -> Bool {
        guard let slot = window.pendingSlot(clientOrderID) else { return false }
        let order = window.slots[slot]
        run.recordAnswer(
            latency: order.order < run.plan.warmup ? nil : now &- order.sentAt, now: now, rejectReason: rejectReason)
        window.release(slot)
        answeredSincePump = true
        return true
    }

    /// A fill report; the first answer of its order when nothing came before.
    final func filled(_ clientOrderID: UInt64, completesOrder: Bool, now: UInt64) {
        run.recordFill(completesOrder: completesOrder)
        answered(clientOrderID, now: now)
    }

    /// After a read batch: sends what the answers made room for.
    final func pumpIfAnswered() {
        if answeredSincePump { pump() }
    }

    /// Finishes the session once it has nothing in flight and nothing more to send.
    final func checkFinished() {
        guard run.startedAt != 0, !isFinished, window.inFlight == 0,
            window.allTaken || !run.sending || isClosed || isLoggingOut
        else {
            return
        }
        isFinished = true
        run.sessionFinished()
    }

    /// The connection ended (or the gateway logged us out): whatever is in flight is lost.
    final func connectionEnded(_ reason: String?) {
        guard !isClosed else { return }
        isClosed = true
        if !isLoggedIn {
            loginFailed(LoadgenError.loginFailed(session: name, reason: reason ?? "connection closed"))
            return
        }
        if !isLoggingOut, let reason { run.warn("session \(name): \(reason)") }
        var lost = 0
        for slot in window.slots.indices where window.slots[slot].clientOrderID != 0 {
            window.release(slot)
            lost += 1
        }
        run.recordUnanswered(lost)
        checkFinished()
    }

    /// Every 100 ms: orders past the answer timeout are given up, UDP orders past the resend
    /// interval are sent again, and a silent session sends a heartbeat.
    func sweep(now: UInt64) {
        guard isLoggedIn, !isClosed else { return }
        if window.inFlight > 0 {
            var released = 0
            var resent = 0
            for slot in window.slots.indices where window.slots[slot].clientOrderID != 0 {
                let order = window.slots[slot]
                if now &- order.sentAt > run.answerTimeout {
                    window.release(slot)
                    released += 1
                } else if resendsOrders && now &- order.lastSentAt > Self.resendAfter {
                    resend(slot: slot, now: now)
                    window.resent(slot, now: now)
                    resent += 1
                }
            }
            if resent > 0 {
                flushOrders()
                run.recordResent(resent)
            }
            if released > 0 {
                run.recordUnanswered(released)
                pump()
            }
        }
        if !isLoggingOut && now &- lastSentAt > Self.heartbeatAfter {
            sendHeartbeat(now: now)
            lastSentAt = now
        }
    }
}

/// Why a run could not start or went wrong.
public enum LoadgenError: Error, CustomStringConvertible {
    case unreachable(String, port: Int, transport: LoadgenTransport, underlying: String)
    case loginFailed(session: String, reason: String)
    case loginsFailed(failed: Int, of: Int, first: String)
    case configuration(String)
    case spawnFailed(String)
    case protocolError(session: String, String)

    public var description: String {
        switch self {
        case .unreachable(let host, let port, let transport, let underlying):
            "the gateway is unreachable at \(host):\(port) (\(transport.rawValue)): \(underlying)"
        case .loginFailed(let session, let reason): "login of session \(session) failed: \(reason)"
        case .loginsFailed(let failed, let total, let first):
            failed == total && total > 1
                ? "every login failed (\(total) sessions); the first: \(first)"
                : "\(failed) of \(total) logins failed; the first: \(first)"
        case .configuration(let text): text
        case .spawnFailed(let text): text
        case .protocolError(let session, let text): "session \(session): \(text)"
        }
    }

    /// A short text for a connection error: the system's words for an errno.
    static func explain(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return explain(first.error)
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }
}

/// Connects, logs in, drives and logs out the sessions of one run.
public enum LoadgenRunner {
    /// Where the sessions connect.
    public struct Target: Sendable {
        public var transport: LoadgenTransport
        public var host: String
        public var port: Int

        public init(transport: LoadgenTransport, host: String, port: Int) {
            self.transport = transport
            self.host = host
            self.port = port
        }
    }

    /// Sessions connected and logged in, ready to send.
    public struct Prepared: Sendable {
        fileprivate let state: NIOLoopBound<LoadgenRunState>
        fileprivate let loop: any EventLoop
    }

    /// Connects `logins.count` sessions to `target` on `loop` and logs every one in; throws
    /// ``LoadgenError`` (the first failure, with a count) when any fails, with all closed again.
    /// Each session will send `plan.ordersPerSession` orders with `plan.window` in flight, for at
    /// most `duration` seconds; orders unanswered after `answerTimeout` seconds (checked every
    /// 100 ms) count as unanswered.
    public static func prepare(
        label: String, target: Target, logins: [LoadgenLogin], plan: LoadgenPlan, duration: Double,
        answerTimeout: Double, loginTimeout: TimeAmount = .seconds(10), loop: any EventLoop
    ) async throws -> Prepared {
        @Sendable func unreachable(_ error: any Error) -> LoadgenError {
            LoadgenError.unreachable(
                target.host, port: target.port, transport: target.transport, underlying: LoadgenError.explain(error))
        }
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
        } catch {
            throw unreachable(error)
        }
        let state = try await loop.submit {
            NIOLoopBound(
                LoadgenRunState(
                    label: label, loop: loop, plan: plan, transport: target.transport, sessions: logins.count,
                    duration: UInt64(duration * 1e9), answerTimeout: UInt64(answerTimeout * 1e9)),
                eventLoop: loop)
        }.get()

        // Every session at once (the gateway's backlog is 256), each with its login timeout.
        var loginFutures: [EventLoopFuture<Void>] = []
        for (index, login) in logins.enumerated() {
            let promise = loop.makePromise(of: Void.self)
            let timer = loop.scheduleTask(in: loginTimeout) {
                promise.fail(
                    LoadgenError.loginFailed(
                        session: login.name, reason: "no answer within \(loginTimeout.nanoseconds / 1_000_000_000) s"))
            }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            let connected: EventLoopFuture<any Channel>
            switch target.transport {
            case .binaryTCP, .fix:
                connected = ClientBootstrap(group: loop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connectTimeout(.seconds(5))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let session: LoadgenSession & ChannelHandler =
                                target.transport == .fix
                                ? FIXLoadSession(index: index, login: login, run: state.value, loginPromise: promise)
                                : BinaryTCPLoadSession(
                                    index: index, login: login, run: state.value, loginPromise: promise)
                            state.value.sessions.append(session)
                            try channel.pipeline.syncOperations.addHandler(session)
                        }
                    }
                    .connect(to: address)
            case .binaryUDP:
                connected = DatagramBootstrap(group: loop)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let session = BinaryUDPLoadSession(
                                index: index, login: login, run: state.value, loginPromise: promise, gateway: address)
                            state.value.sessions.append(session)
                            try channel.pipeline.syncOperations.addHandler(session)
                        }
                    }
                    .bind(host: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0)
            }
            connected.whenFailure { error in promise.fail(unreachable(error)) }
            loginFutures.append(promise.futureResult)
        }
        let outcomes = try await EventLoopFuture.whenAllComplete(loginFutures, on: loop).get()
        let failures = outcomes.compactMap { outcome -> (any Error)? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        let prepared = Prepared(state: state, loop: loop)
        if let first = failures.first {
            await abandon(prepared)
            let unreachable = failures.first { error in
                if case .unreachable? = error as? LoadgenError { return true }
                return false
            }
            if let unreachable { throw unreachable }
            if failures.count == 1 { throw first }
            throw LoadgenError.loginsFailed(failed: failures.count, of: logins.count, first: "\(first)")
        }
        try await loop.submit { state.value.startSweeping() }.get()
        return prepared
    }

    /// Sends every session's orders, waits for the answers, logs the sessions out.
    public static func drive(_ prepared: Prepared) async throws -> LoadgenResult {
        let state = prepared.state
        try await prepared.loop.flatSubmit { state.value.begin() }.get()
        try? await prepared.loop.flatSubmit { state.value.logoutAll(timeout: .seconds(3)) }.get()
        return try await prepared.loop.submit { state.value.finish() }.get()
    }

    /// Closes the sessions of a run that will not be driven.
    public static func abandon(_ prepared: Prepared) async {
        let state = prepared.state
        try? await prepared.loop.flatSubmit { state.value.closeAll() }.get()
        _ = try? await prepared.loop.submit { state.value.finish() }.get()
    }

    /// ``prepare(label:target:logins:plan:duration:answerTimeout:loginTimeout:loop:)`` and
    /// ``drive(_:)``.
    public static func run(
        label: String, target: Target, logins: [LoadgenLogin], plan: LoadgenPlan, duration: Double,
        answerTimeout: Double, loop: any EventLoop
    ) async throws -> LoadgenResult {
        let prepared = try await prepare(
            label: label, target: target, logins: logins, plan: plan, duration: duration,
            answerTimeout: answerTimeout, loop: loop)
        return try await drive(prepared)
    }
}
