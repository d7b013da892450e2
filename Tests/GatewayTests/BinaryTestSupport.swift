import BinaryProtocol
import ChronosClient
import Foundation
import Glibc
import NIOCore
import Synchronization
import Testing

// Helpers of the black-box tests of the gateway's binary protocol (BinaryTCPTests,
// BinaryUDPTests…): an exchange that is always stopped, inboxes over the client library's
// streams, and a raw non-blocking socket for bytes the client library would never send. Every
// wait is bounded and polls with `Task.sleep`, so no test blocks a cooperative thread.

/// An operation that did not finish within its time.
struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out: \(what)" }
}

/// Resumes a continuation once, from whichever of two tasks finishes first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let slot: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { slot = Mutex(continuation) }

    func resume(with result: Result<T, any Error>) {
        let continuation = slot.withLock { slot -> CheckedContinuation<T, any Error>? in
            let taken = slot
            slot = nil
            return taken
        }
        continuation?.resume(with: result)
    }
}

/// Runs `operation`, failing with ``TimedOut`` after `seconds` (the operation keeps running
/// unobserved then: a hung gateway must fail the test, not hang the run).
func within<T: Sendable>(
    _ seconds: Double, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let once = ResumeOnce(continuation)
        let work = Task {
            do { once.resume(with: .success(try await operation())) } catch { once.resume(with: .failure(error)) }
        }
        Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            once.resume(with: .failure(TimedOut(what: what)))
            _ = work
        }
    }
}

/// Starts an exchange of `toml`, runs `body` and always stops the exchange (bounded).
func withExchange<T>(
    _ toml: String = "", _ body: (ExchangeHarness) async throws -> T
) async throws -> T {
    let exchange = try await within(20, "the exchange starts") { try await ExchangeHarness(toml: toml) }
    let result: T
    do {
        result = try await body(exchange)
    } catch {
        try? await within(10, "the exchange stops") { try await exchange.stop() }
        throw error
    }
    try await within(10, "the exchange stops") { try await exchange.stop() }
    return result
}

extension ExchangeHarness {
    /// The binary TCP port (0 when the server is off).
    var binaryPort: Int { addresses.binary?.testPort ?? 0 }
    /// The UDP port (0 when the server is off).
    var udpPort: Int { addresses.udp?.testPort ?? 0 }
}

/// Polls `condition` every 2 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double = 3, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return condition()
}

/// Seconds from now until `deadline`, at least a millisecond.
func secondsLeft(until deadline: ContinuousClock.Instant) -> Double {
    let left = (deadline - ContinuousClock.now).components
    return max(Double(left.seconds) + Double(left.attoseconds) / 1e18, 0.001)
}

// MARK: - Messages

/// A symbol code from a literal known to be valid.
func sym(_ name: String) -> SymbolCode { SymbolCode(name)! }

/// A new order; a GTC limit order of account 101 on AAPL unless told otherwise.
func newOrder(
    _ clientOrderID: UInt64, _ side: BinarySide, price: Int64, quantity: Int64, symbol: String = "AAPL",
    account: UInt32 = 101, type: BinaryOrderType = .limit, timeInForce: BinaryTimeInForce = .goodTillCancel,
    postOnly: Bool = false
) -> ClientMessage {
    .newOrder(
        NewOrderRequest(
            clientOrderID: clientOrderID, account: account, symbol: sym(symbol), side: side, orderType: type,
            timeInForce: timeInForce, price: price, quantity: quantity, postOnly: postOnly))
}

/// The bytes of `message`.
func encoded(_ message: ClientMessage) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: BinaryFormat.largestMessageSize)
    let count = bytes.withUnsafeMutableBytes { message.encode(into: $0) }
    return Array(bytes[0..<count])
}

/// The bytes of `datagram`.
func encoded(_ datagram: ClientDatagram) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: BinaryFormat.largestDatagramSize)
    let count = bytes.withUnsafeMutableBytes { datagram.encode(into: $0) }
    return Array(bytes[0..<count])
}

/// A 4-byte header followed by `length - 4` zero bytes.
func framed(length: Int, type: UInt8, version: UInt8 = 1) -> [UInt8] {
    var bytes = [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), type, version]
    if length > 4 { bytes += [UInt8](repeating: 0, count: length - 4) }
    return bytes
}

extension ServerMessage {
    var accepted: OrderAcceptedReport? {
        if case .orderAccepted(let report) = self { return report }
        return nil
    }
    var rejection: RejectedReport? {
        if case .rejected(let report) = self { return report }
        return nil
    }
    var fillReport: FillReport? {
        if case .fill(let report) = self { return report }
        return nil
    }
    var cancelReport: CanceledReport? {
        if case .canceled(let report) = self { return report }
        return nil
    }
    var replaceReport: ReplacedReport? {
        if case .replaced(let report) = self { return report }
        return nil
    }
    var logoutReason: LogoutReason? {
        if case .logout(let reason) = self { return reason }
        return nil
    }
    var isHeartbeat: Bool {
        if case .heartbeat = self { return true }
        return false
    }
}

// MARK: - TCP through the client library

/// A `BinaryTCPClient` whose messages are collected in the background, for bounded waits.
final class TCPTestSession: Sendable {
    let client: BinaryTCPClient
    private let state = Mutex(State())

    struct State {
        var queue: [ServerMessage] = []
        var closed = false
        var heartbeats = 0
    }

    private init(client: BinaryTCPClient) { self.client = client }

    /// Connects to the exchange's binary TCP port (not logged in).
    static func connect(_ exchange: ExchangeHarness) async throws -> TCPTestSession {
        let client = try await within(5, "connect") {
            try await BinaryTCPClient.connect(host: "127.0.0.1", port: exchange.binaryPort)
        }
        let session = TCPTestSession(client: client)
        session.startCollecting()
        return session
    }

    /// Connects and logs in as `username`, dropping the `loginAccepted` from the inbox.
    static func login(
        _ exchange: ExchangeHarness, _ username: String = "trader1", password: String? = nil,
        heartbeatIntervalMs: UInt32 = 10_000
    ) async throws -> (TCPTestSession, LoginAccepted) {
        let session = try await connect(exchange)
        let accepted = try await session.login(
            username, password: password ?? username, heartbeatIntervalMs: heartbeatIntervalMs)
        return (session, accepted)
    }

    /// Logs in and drops the `loginAccepted` from the inbox.
    func login(_ username: String, password: String, heartbeatIntervalMs: UInt32 = 10_000) async throws
        -> LoginAccepted
    {
        let accepted = try await client.login(
            username: username, password: password, heartbeatIntervalMs: heartbeatIntervalMs, timeout: .seconds(5))
        _ = await eventually {
            state.withLock { state in
                guard let i = state.queue.firstIndex(of: .loginAccepted(accepted)) else { return false }
                state.queue.remove(at: i)
                return true
            }
        }
        return accepted
    }

    private func startCollecting() {
        let client = client
        Task {
            for await received in client.messages {
                state.withLock {
                    if received.message.isHeartbeat { $0.heartbeats += 1 }
                    $0.queue.append(received.message)
                }
            }
            state.withLock { $0.closed = true }
        }
    }

    func send(_ message: ClientMessage) async throws {
        try await within(5, "send") { [client] in try await client.send(message) }
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await within(5, "send raw") { [client] in try await client.sendRaw(bytes) }
    }

    /// Gateway heartbeats received so far.
    var heartbeatCount: Int { state.withLock { $0.heartbeats } }

    /// Whether the connection has closed.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// The next message (heartbeats skipped unless asked for) within `seconds`, or nil.
    func next(within seconds: Double = 3, heartbeats: Bool = false) async -> ServerMessage? {
        var found: ServerMessage?
        _ = await eventually(seconds) {
            state.withLock { state in
                if !heartbeats { state.queue.removeAll(where: \.isHeartbeat) }
                if !state.queue.isEmpty {
                    found = state.queue.removeFirst()
                    return true
                }
                return state.closed
            }
        }
        return found
    }

    /// The next message, recording an issue (and throwing) when none arrives.
    func expectNext(
        within seconds: Double = 3, _ what: String = "a message", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ServerMessage {
        try #require(await next(within: seconds), "no \(what) arrived", sourceLocation: sourceLocation)
    }

    /// Every non-heartbeat message arriving within `seconds`.
    func collect(for seconds: Double) async -> [ServerMessage] {
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        return state.withLock { state in
            let messages = state.queue.filter { !$0.isHeartbeat }
            state.queue.removeAll()
            return messages
        }
    }

    /// Messages until `count` non-heartbeat messages arrived or `seconds` passed.
    func collect(count: Int, within seconds: Double = 5) async -> [ServerMessage] {
        var messages: [ServerMessage] = []
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while messages.count < count, ContinuousClock.now < deadline {
            guard let message = await next(within: secondsLeft(until: deadline)) else { break }
            messages.append(message)
        }
        return messages
    }

    /// Waits until the connection closes.
    func waitClosed(within seconds: Double = 3) async -> Bool {
        await eventually(seconds) { isClosed }
    }

    func close() async { await client.close() }
}

// MARK: - UDP through the client library

/// A `BinaryUDPClient` whose datagrams are collected in the background.
final class UDPTestSession: Sendable {
    let client: BinaryUDPClient
    private let state = Mutex([ReceivedDatagram]())

    private init(client: BinaryUDPClient) { self.client = client }

    static func connect(_ exchange: ExchangeHarness) async throws -> UDPTestSession {
        let client = try await within(5, "bind") {
            try await BinaryUDPClient.connect(host: "127.0.0.1", port: exchange.udpPort)
        }
        let session = UDPTestSession(client: client)
        session.startCollecting()
        return session
    }

    /// Binds, logs in as `username` and drops the login answer from the inbox.
    static func login(
        _ exchange: ExchangeHarness, _ username: String = "trader1", heartbeatIntervalMs: UInt32 = 10_000
    ) async throws -> (UDPTestSession, LoginAccepted) {
        let session = try await connect(exchange)
        let accepted = try await session.client.login(
            username: username, password: username, heartbeatIntervalMs: heartbeatIntervalMs, timeout: .seconds(5))
        _ = await eventually {
            session.state.withLock { queue in
                guard let i = queue.firstIndex(where: { $0.message == .loginAccepted(accepted) }) else { return false }
                queue.remove(at: i)
                return true
            }
        }
        return (session, accepted)
    }

    private func startCollecting() {
        let client = client
        Task {
            for await datagram in client.datagrams {
                state.withLock { $0.append(datagram) }
            }
        }
    }

    /// Sends with the next sequence number; returns it.
    @discardableResult
    func send(_ message: ClientMessage) async throws -> UInt64 {
        try await within(5, "send") { [client] in try await client.send(message) }
    }

    func send(_ message: ClientMessage, sequence: UInt64) async throws {
        try await within(5, "send") { [client] in try await client.send(message, sequence: sequence) }
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await within(5, "send raw") { [client] in try await client.sendRaw(bytes) }
    }

    /// The next datagram (gateway heartbeats skipped) within `seconds`, or nil.
    func next(within seconds: Double = 3) async -> ReceivedDatagram? {
        var found: ReceivedDatagram?
        _ = await eventually(seconds) {
            state.withLock { queue in
                queue.removeAll(where: { $0.message.isHeartbeat && $0.header.clientSequence == 0 })
                guard !queue.isEmpty else { return false }
                found = queue.removeFirst()
                return true
            }
        }
        return found
    }

    func expectNext(
        within seconds: Double = 3, _ what: String = "a datagram", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ReceivedDatagram {
        try #require(await next(within: seconds), "no \(what) arrived", sourceLocation: sourceLocation)
    }

    /// Every datagram received so far, heartbeats included.
    func drainAll() -> [ReceivedDatagram] {
        state.withLock { queue in
            let all = queue
            queue.removeAll()
            return all
        }
    }

    /// Every datagram (unsolicited heartbeats excepted) arriving within `seconds`.
    func collect(for seconds: Double) async -> [ReceivedDatagram] {
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        return state.withLock { queue in
            let datagrams = queue.filter { !($0.message.isHeartbeat && $0.header.clientSequence == 0) }
            queue.removeAll()
            return datagrams
        }
    }

    func close() async { await client.close() }
}

// MARK: - Raw sockets

/// A raw loopback TCP connection with non-blocking I/O, for malformed, partial and unread traffic.
final class RawTCPConnection: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var sawEOF = false

    /// Connects to 127.0.0.1:`port`; `receiveBuffer` sets SO_RCVBUF before connecting.
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXFailure(call: "socket", code: errno) }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw POSIXFailure(call: "connect", code: code)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { Glibc.close(fd) }

    struct POSIXFailure: Error { var call: String; var code: Int32 }

    /// Sends all of `bytes` within `seconds`; false when the connection failed or stayed full.
    func send(_ bytes: [UInt8], within seconds: Double = 3) async -> Bool {
        var offset = 0
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if ContinuousClock.now > deadline { return false }
                try? await Task.sleep(for: .milliseconds(2))
            } else {
                return false
            }
        }
        return true
    }

    /// Sends without waiting: how many bytes the kernel took (-1 on a failed connection).
    func trySend(_ bytes: [UInt8]) -> Int {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1 }
        return sent
    }

    /// Reads what is available; false when nothing was.
    private func readAvailable() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count > 0 {
            buffer += chunk[0..<count]
            return true
        }
        if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { sawEOF = true }
        return false
    }

    /// A decoded message from the buffer, if one is complete (a framing error counts as EOF).
    private func decodeOne() -> ServerMessage? {
        while true {
            let result = buffer.withUnsafeBytes { ServerMessage.decode($0) }
            switch result {
            case .message(let message, let consumed):
                buffer.removeFirst(consumed)
                return message
            case .needMoreBytes:
                return nil
            case .error(_, let skip?):
                buffer.removeFirst(skip)
            case .error(_, nil):
                Issue.record("the gateway sent bytes that lose the framing")
                buffer.removeAll()
                sawEOF = true
                return nil
            }
        }
    }

    /// The next message (heartbeats skipped) within `seconds`; nil on timeout or EOF.
    func next(within seconds: Double = 3) async -> ServerMessage? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while true {
            while let message = decodeOne() {
                if !message.isHeartbeat { return message }
            }
            if sawEOF || ContinuousClock.now > deadline { return nil }
            if !readAvailable() { try? await Task.sleep(for: .milliseconds(2)) }
        }
    }

    /// Reads until EOF within `seconds`: whether the peer closed, and the messages read meanwhile.
    func readUntilClosed(within seconds: Double = 3) async -> (closed: Bool, messages: [ServerMessage]) {
        var messages: [ServerMessage] = []
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while true {
            while let message = decodeOne() {
                if !message.isHeartbeat { messages.append(message) }
            }
            if sawEOF { return (true, messages) }
            if ContinuousClock.now > deadline { return (false, messages) }
            if !readAvailable() { try? await Task.sleep(for: .milliseconds(2)) }
        }
    }

    /// Sends `login` and reads the answer.
    func login(_ username: String, password: String? = nil, heartbeatIntervalMs: UInt32 = 10_000) async
        -> ServerMessage?
    {
        let login = Login(
            username: Username(username)!, password: Password(password ?? username)!,
            heartbeatIntervalMs: heartbeatIntervalMs)
        guard await send(encoded(.login(login))) else { return nil }
        return await next()
    }
}

/// A TCP port that was free a moment ago (bound to port 0, then closed).
func freeTCPPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(fd, pointer, length)
            return getsockname(fd, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
