import ChronosCore
import Messaging

/// A connection to the `chronos risk` sidecar (a ZeroMQ DEALER): send checks, read decisions.
/// One thread owns it (the gateway's bridge thread, or a benchmark).
///
/// Requests may be pipelined: answers come back in the order the sidecar handled them, which is
/// the order they were sent. ``awaitVerdict(for:timestamp:timeoutMilliseconds:)`` skips answers to
/// earlier requests that were given up on.
public final class RiskSidecarClient {
    private let socket: ZMQSocket
    private let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    /// Answers that named no request waiting (late answers to requests given up on), and frames
    /// that did not decode.
    public private(set) var discardedAnswers = 0

    /// Connects to `endpoint` (the sidecar need not be up yet: ZeroMQ reconnects).
    public init(context: ZMQContext, endpoint: String) throws(ZMQError) {
        socket = try ZMQSocket(context, .dealer)
        try socket.setLinger(milliseconds: 0)
        try socket.setSendHighWaterMark(100_000)
        try socket.connect(endpoint)
    }

    deinit {
        socket.close()
        frame.deallocate()
    }

    /// Sends a check of a new order or replace (any other command is not sent: returns false),
    /// or false when the socket cannot take it now.
    @discardableResult
    public func requestCheck(_ command: EngineCommand, timestamp: UInt64) -> Bool {
        let message: WireMessage
        switch command {
        case .new(let order): message = .newOrder(order, clientTimestampNanos: timestamp)
        case .replace(let replace): message = .replace(replace, clientTimestampNanos: timestamp)
        case .cancel: return false
        }
        return send(message)
    }

    /// Tells the sidecar that a new order it passed never reached the engine (no answer comes).
    public func release(_ order: NewOrder) {
        _ = send(
            .cancel(CancelOrder(id: order.id, account: order.account, symbol: order.symbol), clientTimestampNanos: 0))
    }

    private func send(_ message: WireMessage) -> Bool {
        guard case .success(let length) = WireFrame(message: message).encode(into: frame) else { return false }
        return (try? socket.send(UnsafeRawBufferPointer(rebasing: frame[0..<length]), dontWait: true)) == .sent
    }

    /// The answer to the request for `orderID` sent with `timestamp`, waiting up to
    /// `timeoutMilliseconds` (0: only what already arrived); nil when it does not come in time.
    public func awaitVerdict(for orderID: OrderID, timestamp: UInt64, timeoutMilliseconds: Int32) -> RiskVerdict? {
        try? socket.setReceiveTimeout(milliseconds: timeoutMilliseconds)
        while true {
            guard case .received(let count, let truncated)? = try? socket.receive(into: frame) else { return nil }
            if socket.hasMoreParts { socket.discardRemainingParts() }
            guard !truncated,
                case .success(let decoded) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: frame[0..<count])),
                case .riskDecision(let verdict) = decoded.message
            else {
                discardedAnswers += 1
                continue
            }
            if verdict.orderID == orderID && verdict.clientTimestampNanos == timestamp { return verdict }
            discardedAnswers += 1
        }
    }
}
