import CZeroMQ

/// Waits for any of a fixed set of sockets to become readable (`zmq_poll`).
///
/// The poll items are allocated once; ``poll(timeoutMilliseconds:)`` itself never allocates.
/// Holds its sockets strongly; use it on the thread that owns them.
public final class ZMQPoller {
    private let sockets: [ZMQSocket]
    private let count: Int
    private let items: UnsafeMutablePointer<zmq_pollitem_t>

    /// A poller for reads on `sockets` and then on plain file descriptors `fileDescriptors` (e.g. an
    /// eventfd another thread writes to wake this one); their order gives the indices of
    /// ``isReadable(_:)``: sockets first, then the descriptors.
    public init(_ sockets: [ZMQSocket], fileDescriptors: [Int32] = []) {
        self.sockets = sockets
        count = sockets.count + fileDescriptors.count
        items = .allocate(capacity: max(count, 1))
        for (i, socket) in sockets.enumerated() {
            items[i] = zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        }
        for (i, fd) in fileDescriptors.enumerated() {
            items[sockets.count + i] = zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0)
        }
    }

    deinit { items.deallocate() }

    /// Waits up to `timeoutMilliseconds` (0: just check, -1: forever) and returns how many sockets
    /// are readable. An interrupted wait (`EINTR`) returns 0.
    @discardableResult
    public func poll(timeoutMilliseconds: Int) throws(ZMQError) -> Int {
        let n = zmq_poll(items, Int32(count), timeoutMilliseconds)
        if n >= 0 { return Int(n) }
        let code = zmq_errno()
        if code == EINTR { return 0 }
        throw ZMQError(function: "zmq_poll", code: code)
    }

    /// True when socket or descriptor `index` was readable at the last poll.
    public func isReadable(_ index: Int) -> Bool {
        precondition(index >= 0 && index < count, "poll index out of range")
        return items[index].revents & Int16(ZMQ_POLLIN) != 0
    }
}

#if canImport(Glibc)
    import Glibc
#endif
