import CZeroMQ

/// A failed ZeroMQ call: which C function and its `errno`.
public struct ZMQError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The C function that failed, e.g. `"zmq_bind"`.
    public var function: StaticString
    /// The `errno` it reported.
    public var code: Int32

    public init(function: StaticString, code: Int32) {
        self.function = function
        self.code = code
    }

    /// The last error of the calling thread.
    static func last(_ function: StaticString) -> ZMQError { ZMQError(function: function, code: zmq_errno()) }

    /// True for `EAGAIN`: a non-blocking call that would have blocked.
    public var wouldBlock: Bool { code == EAGAIN }

    /// True when the context was terminated (the socket must be closed).
    public var contextTerminated: Bool { code == ETERM }

    public var description: String { "\(function): \(String(cString: zmq_strerror(code))) (errno \(code))" }

    public static func == (lhs: ZMQError, rhs: ZMQError) -> Bool {
        lhs.code == rhs.code && lhs.function.description == rhs.function.description
    }
}

#if canImport(Glibc)
    import Glibc
#endif
