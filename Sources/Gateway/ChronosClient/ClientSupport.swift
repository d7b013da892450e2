import BinaryProtocol
import NIOCore

/// Why a client call failed.
public enum BinaryClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The gateway answered the login with `loginRejected(code)`.
    case loginRejected(ErrorCode)
    /// The connection closed (or the client was closed) before the answer arrived.
    case connectionClosed
    /// No answer within the time allowed.
    case timedOut
    /// The call needs a logged-in session (UDP: `login` first).
    case notLoggedIn
    /// The gateway sent bytes that are not a valid message; the connection was closed.
    case protocolError(BinaryProtocolError)
    /// A host name that does not resolve, or a string that is not a valid text field.
    case invalidArgument(String)

    /// A one-line explanation for logs.
    public var description: String {
        switch self {
        case .loginRejected(let code): "login rejected: \(code.name)"
        case .connectionClosed: "connection closed"
        case .timedOut: "timed out"
        case .notLoggedIn: "not logged in"
        case .protocolError(let error): "protocol error: \(error)"
        case .invalidArgument(let text): "invalid argument: \(text)"
        }
    }
}

/// The monotonic clock the clients stamp received messages with, so callers measure round trips:
/// take ``nanoseconds()`` before sending and subtract it from the answer's `receivedAtNanos`.
public enum ClientClock {
    /// Nanoseconds on the monotonic clock (`CLOCK_MONOTONIC`, via `NIODeadline.now()`); only
    /// differences mean anything.
    @inlinable
    public static func nanoseconds() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}

/// A message from the gateway over TCP, stamped on arrival.
public struct ReceivedMessage: Hashable, Sendable {
    /// The message.
    public var message: ServerMessage
    /// ``ClientClock/nanoseconds()`` when the client's event loop decoded it.
    public var receivedAtNanos: UInt64

    /// A received message.
    public init(message: ServerMessage, receivedAtNanos: UInt64) {
        self.message = message
        self.receivedAtNanos = receivedAtNanos
    }
}

/// A datagram from the gateway over UDP, stamped on arrival.
public struct ReceivedDatagram: Hashable, Sendable {
    /// The session and the client sequence the message answers (0: unsolicited).
    public var header: UDPHeader
    /// The message.
    public var message: ServerMessage
    /// ``ClientClock/nanoseconds()`` when the client's event loop decoded it.
    public var receivedAtNanos: UInt64

    /// A received datagram.
    public init(header: UDPHeader, message: ServerMessage, receivedAtNanos: UInt64) {
        self.header = header
        self.message = message
        self.receivedAtNanos = receivedAtNanos
    }
}

extension ByteBuffer {
    /// Appends `message`'s bytes (its encoder never fails given room for the largest message).
    mutating func writeBinaryMessage(_ message: ClientMessage) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: BinaryFormat.largestMessageSize) { message.encode(into: $0) }
    }
}

/// Frames the TCP byte stream into ``ServerMessage``s. A message that is framed but invalid is
/// skipped; a lost framing (bad length) closes the connection with ``BinaryClientError/protocolError(_:)``.
struct ServerMessageDecoder: ByteToMessageDecoder {
    typealias InboundOut = ServerMessage

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let result = buffer.withUnsafeReadableBytes { ServerMessage.decode($0) }
        switch result {
        case .message(let message, let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            context.fireChannelRead(wrapInboundOut(message))
            return .continue
        case .needMoreBytes:
            return .needMoreData
        case .error(_, let skip?):
            buffer.moveReaderIndex(forwardBy: skip)
            return .continue
        case .error(let error, nil):
            throw BinaryClientError.protocolError(error)
        }
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
