import CZeroMQ

/// Waits for any of a fixed set of sockets to become readable (`zmq_poll`).
///
/// The poll items are allocated once; ``poll(timeoutMilliseconds:)`` itself never allocates.
/// Holds its sockets strongly; use it on the thread that owns them.
public final class ZMQPoller {
    private let sockets: [ZMQSocket]
    private let items: UnsafeMutablePointer<zmq_pollitem_t>

    /// A poller for reads on `sockets` (their order gives the indices of ``isReadable(_:)``).
    public init(_ sockets: [ZMQSocket]) {
        self.sockets = sockets
        items = .allocate(capacity: max(sockets.count, 1))
        for (i, socket) in sockets.enumerated() {
            items[i] = zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        }
    }

    deinit { items.deallocate() }

    /// Waits up to `timeoutMilliseconds` (0: just check, -1: forever) and returns how many sockets
    /// are readable. An interrupted wait (`EINTR`) returns 0.
    @discardableResult
    public func poll(timeoutMilliseconds: Int) throws(ZMQError) -> Int {
        let n = zmq_poll(items, Int32(sockets.count), timeoutMilliseconds)
        if n >= 0 { return Int(n) }
        let code = zmq_errno()
        if code == EINTR { return 0 }
        throw ZMQError(function: "zmq_poll", code: code)
    }

    /// True when socket `index` had a message waiting at the last poll.
    public func isReadable(_ index: Int) -> Bool {
        precondition(index >= 0 && index < sockets.count, "poll index out of range")
        return items[index].revents & Int16(ZMQ_POLLIN) != 0
    }
}

#if canImport(Glibc)
    import Glibc
#endif
