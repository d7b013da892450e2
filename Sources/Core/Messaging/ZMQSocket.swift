import CZeroMQ

/// The ZeroMQ socket patterns Chronos uses.
public enum SocketType: Sendable, CaseIterable {
    case pair, publisher, subscriber, request, reply, dealer, router, pull, push

    var cValue: Int32 {
        switch self {
        case .pair: ZMQ_PAIR
        case .publisher: ZMQ_PUB
        case .subscriber: ZMQ_SUB
        case .request: ZMQ_REQ
        case .reply: ZMQ_REP
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .pull: ZMQ_PULL
        case .push: ZMQ_PUSH
        }
    }
}

/// What a send did.
@frozen
public enum SendOutcome: Equatable, Sendable {
    /// Queued for delivery.
    case sent
    /// Non-blocking send and the queue is full (high-water mark) or no peer is ready.
    case wouldBlock
}

/// What a receive did.
@frozen
public enum ReceiveOutcome: Equatable, Sendable {
    /// A message part arrived. `byteCount` is its full size; when it is larger than the
    /// buffer, only the buffer's length was copied and `truncated` is true.
    case received(byteCount: Int, truncated: Bool)
    /// Non-blocking receive (or a receive timeout) and nothing was waiting.
    case wouldBlock
}

/// One ZeroMQ socket. Owned by one thread (ZeroMQ sockets are not thread-safe), closed exactly
/// once: by ``close()`` or, failing that, by `deinit`.
///
/// Sends and receives work on caller-owned buffers: the wrapper itself never allocates per
/// message (libzmq allocates internally for messages over 33 bytes). Failures are typed
/// ``ZMQError``s; a non-blocking call that would block is a normal ``SendOutcome/wouldBlock``
/// or ``ReceiveOutcome/wouldBlock``. `EINTR` is retried inside.
///
/// New sockets have `ZMQ_LINGER` 0, so closing never waits for unsent messages to unreachable
/// peers; set ``setLinger(milliseconds:)`` where a clean shutdown should flush.
public final class ZMQSocket {
    /// The socket's pattern.
    public let type: SocketType
    /// The context must outlive its sockets: the socket keeps it alive.
    public let context: ZMQContext
    private(set) var handle: UnsafeMutableRawPointer?

    /// Creates a socket (`zmq_socket`).
    public init(_ context: ZMQContext, _ type: SocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.cValue) else { throw ZMQError.last("zmq_socket") }
        self.handle = handle
        self.type = type
        self.context = context
        try setOption(ZMQ_LINGER, Int32(0))
    }

    deinit { close() }

    /// Closes the socket (`zmq_close`); later calls do nothing.
    public func close() {
        guard let handle else { return }
        zmq_close(handle)
        self.handle = nil
    }

    /// True until ``close()``.
    public var isOpen: Bool { handle != nil }

    private func open(_ function: StaticString) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(function: function, code: ENOTSOCK) }
        return handle
    }

    // MARK: Endpoints

    /// Binds to an endpoint (`zmq_bind`), e.g. `inproc://orders`, `ipc:///tmp/x`, `tcp://127.0.0.1:*`.
    public func bind(_ endpoint: String) throws(ZMQError) {
        let h = try open("zmq_bind")
        if zmq_bind(h, endpoint) != 0 { throw ZMQError.last("zmq_bind") }
    }

    /// Connects to an endpoint (`zmq_connect`); the connection is made in the background.
    public func connect(_ endpoint: String) throws(ZMQError) {
        let h = try open("zmq_connect")
        if zmq_connect(h, endpoint) != 0 { throw ZMQError.last("zmq_connect") }
    }

    /// Drops a connection (`zmq_disconnect`).
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        let h = try open("zmq_disconnect")
        if zmq_disconnect(h, endpoint) != 0 { throw ZMQError.last("zmq_disconnect") }
    }

    /// Stops listening on an endpoint (`zmq_unbind`).
    public func unbind(_ endpoint: String) throws(ZMQError) {
        let h = try open("zmq_unbind")
        if zmq_unbind(h, endpoint) != 0 { throw ZMQError.last("zmq_unbind") }
    }

    /// The endpoint last bound (`ZMQ_LAST_ENDPOINT`): the real port after binding `tcp://…:*`.
    public func lastEndpoint() throws(ZMQError) -> String {
        let h = try open("zmq_getsockopt")
        var buffer = [CChar](repeating: 0, count: 1_024)
        var size = buffer.count
        if zmq_getsockopt(h, ZMQ_LAST_ENDPOINT, &buffer, &size) != 0 { throw ZMQError.last("zmq_getsockopt") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Messages

    /// Sends one message part (`zmq_send`). `more` marks a part followed by others of the same message.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, dontWait: Bool = false)
        throws(ZMQError) -> SendOutcome
    {
        let h = try open("zmq_send")
        let flags = (more ? ZMQ_SNDMORE : 0) | (dontWait ? ZMQ_DONTWAIT : 0)
        while true {
            if zmq_send(h, bytes.baseAddress, bytes.count, flags) >= 0 { return .sent }
            let code = zmq_errno()
            if code == EINTR { continue }
            if code == EAGAIN { return .wouldBlock }
            throw ZMQError(function: "zmq_send", code: code)
        }
    }

    /// Sends `bytes` as one message part.
    @discardableResult
    public func send(_ bytes: [UInt8], more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> SendOutcome {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ZMQError) -> SendOutcome in try send(raw, more: more, dontWait: dontWait) }
        }
        return try result.get()
    }

    /// Receives one message part into `buffer` (`zmq_recv`).
    public func receive(into buffer: UnsafeMutableRawBufferPointer, dontWait: Bool = false)
        throws(ZMQError) -> ReceiveOutcome
    {
        let h = try open("zmq_recv")
        let flags = dontWait ? ZMQ_DONTWAIT : 0
        while true {
            let n = zmq_recv(h, buffer.baseAddress, buffer.count, flags)
            if n >= 0 { return .received(byteCount: Int(n), truncated: Int(n) > buffer.count) }
            let code = zmq_errno()
            if code == EINTR { continue }
            if code == EAGAIN { return .wouldBlock }
            throw ZMQError(function: "zmq_recv", code: code)
        }
    }

    /// Receives one message part into a new array (allocates: for tests and tools, not hot paths).
    public func receiveBytes(maxCount: Int = 1 << 16, dontWait: Bool = false) throws(ZMQError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: maxCount)
        let result = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(ZMQError) -> ReceiveOutcome in try receive(into: raw, dontWait: dontWait) }
        }
        let outcome = try result.get()
        guard case .received(let count, _) = outcome else { return nil }
        return Array(buffer.prefix(min(count, maxCount)))
    }

    /// True when the part just received is followed by more parts of the same message (`ZMQ_RCVMORE`).
    public var hasMoreParts: Bool {
        (try? getOption(ZMQ_RCVMORE)) ?? 0 != 0
    }

    /// Discards the remaining parts of the message being received (e.g. after a malformed part).
    public func discardRemainingParts() {
        var scratch: (UInt64, UInt64) = (0, 0)
        while hasMoreParts {
            let outcome = withUnsafeMutableBytes(of: &scratch) { try? receive(into: $0, dontWait: true) }
            if outcome == nil || outcome == .wouldBlock { return }
        }
    }

    // MARK: Options

    /// `ZMQ_LINGER`: how long `close` waits to deliver queued messages (-1 forever, 0 not at all).
    public func setLinger(milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_LINGER, milliseconds) }

    /// `ZMQ_SNDHWM`: queued outgoing messages per peer before sends block or drop (0: unlimited).
    public func setSendHighWaterMark(_ messages: Int32) throws(ZMQError) { try setOption(ZMQ_SNDHWM, messages) }

    /// `ZMQ_RCVHWM`: queued incoming messages per peer.
    public func setReceiveHighWaterMark(_ messages: Int32) throws(ZMQError) { try setOption(ZMQ_RCVHWM, messages) }

    /// `ZMQ_RCVTIMEO`: a blocking receive gives ``ReceiveOutcome/wouldBlock`` after this (-1: wait forever).
    public func setReceiveTimeout(milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_RCVTIMEO, milliseconds) }

    /// `ZMQ_SNDTIMEO`: a blocking send gives ``SendOutcome/wouldBlock`` after this (-1: wait forever).
    public func setSendTimeout(milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_SNDTIMEO, milliseconds) }

    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections (a dead peer makes sends block or fail fast).
    public func setImmediate(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_IMMEDIATE, Int32(on ? 1 : 0)) }

    /// `ZMQ_ROUTER_MANDATORY`: a ROUTER send to an unknown peer fails with `EHOSTUNREACH` instead of
    /// being dropped silently.
    public func setRouterMandatory(_ on: Bool) throws(ZMQError) {
        try setOption(ZMQ_ROUTER_MANDATORY, Int32(on ? 1 : 0))
    }

    /// `ZMQ_ROUTING_ID`: this socket's identity as seen by a ROUTER peer (set before connecting).
    public func setRoutingID(_ id: [UInt8]) throws(ZMQError) {
        let h = try open("zmq_setsockopt")
        let rc = id.withUnsafeBytes { zmq_setsockopt(h, ZMQ_ROUTING_ID, $0.baseAddress, $0.count) }
        if rc != 0 { throw ZMQError.last("zmq_setsockopt") }
    }

    /// `ZMQ_SUBSCRIBE`: a SUB socket receives messages starting with `prefix` (empty: everything).
    public func subscribe(_ prefix: [UInt8] = []) throws(ZMQError) {
        let h = try open("zmq_setsockopt")
        let rc = prefix.withUnsafeBytes { zmq_setsockopt(h, ZMQ_SUBSCRIBE, $0.baseAddress, $0.count) }
        if rc != 0 { throw ZMQError.last("zmq_setsockopt") }
    }

    private func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        let h = try open("zmq_setsockopt")
        var v = value
        if zmq_setsockopt(h, option, &v, MemoryLayout<Int32>.size) != 0 { throw ZMQError.last("zmq_setsockopt") }
    }

    private func getOption(_ option: Int32) throws(ZMQError) -> Int32 {
        let h = try open("zmq_getsockopt")
        var v: Int32 = 0
        var size = MemoryLayout<Int32>.size
        if zmq_getsockopt(h, option, &v, &size) != 0 { throw ZMQError.last("zmq_getsockopt") }
        return v
    }
}

#if canImport(Glibc)
    import Glibc
#endif
