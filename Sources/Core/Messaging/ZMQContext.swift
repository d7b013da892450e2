import CZeroMQ

/// A ZeroMQ context: the I/O threads and the `inproc` namespace that sockets share.
///
/// Thread-safe (ZeroMQ contexts may be shared between threads); sockets are not. Terminated
/// on `deinit` (`zmq_ctx_term`), which waits for every socket of the context to be closed:
/// close sockets first.
public final class ZMQContext: @unchecked Sendable {
    /// The `void *` context handle; valid until `deinit`.
    let handle: UnsafeMutableRawPointer

    /// Creates a context (`zmq_ctx_new`) with `ioThreads` I/O threads (`ZMQ_IO_THREADS`).
    public init(ioThreads: Int32 = 1) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        if zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) != 0 {
            let error = ZMQError.last("zmq_ctx_set")
            zmq_ctx_term(handle)
            throw error
        }
    }

    /// Makes every blocking call on this context's sockets fail with `ETERM` (`zmq_ctx_shutdown`),
    /// so threads blocked in a receive wake up and close their sockets.
    public func shutdown() { zmq_ctx_shutdown(handle) }

    deinit {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// The libzmq version, e.g. `(4, 3, 4)`.
    public static var version: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
