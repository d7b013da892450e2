/// Constants of the binary order-entry protocol (docs/protocol.md): little-endian, fixed-layout
/// messages, each starting with the same 4-byte header:
///
/// ```
/// offset size type    field    meaning
/// ------ ---- ------- -------- ---------------------------------------------------------------
///      0    2 UInt16  length   whole message in bytes, header included: the type's fixed size
///      2    1 UInt8   type     message type (client 0x01…0x06, server 0x81…0x8A)
///      3    1 UInt8   version  protocol version, 1
/// ```
///
/// The length comes first so that a reader can frame a TCP stream from two bytes, whatever the
/// version or type. Over UDP a ``UDPHeader`` precedes the message in each datagram.

import FencedCollections

public enum BinaryFormat {
    /// The protocol version this code reads and writes (header byte 3).
    public static let version: UInt8 = 1

    /// Size of the message header in bytes.
    public static let headerSize = 4

    /// The largest length field any version may declare. A larger one is
    /// ``BinaryProtocolError/messageTooLarge(declared:)``: the stream cannot be trusted any more.
    /// Version 1 messages are at most ``largestMessageSize`` bytes.
    public static let maxMessageSize = 256

    /// The largest version 1 message (`fill`, 64 bytes): a buffer this large holds any message.
    public static let largestMessageSize = 64

    /// The largest datagram of version 1: a ``UDPHeader`` and the largest message.
    public static let largestDatagramSize = UDPHeader.size + largestMessageSize
}

/// The type byte (header byte 2) of a message from a client to the gateway. Each type has one
/// fixed size.
@frozen
public enum ClientMessageType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// ``Login``, 56 bytes.
    case login = 0x01
    /// ``NewOrderRequest``, 44 bytes.
    case newOrder = 0x02
    /// ``CancelRequest``, 32 bytes.
    case cancel = 0x03
    /// ``ReplaceRequest``, 48 bytes.
    case replace = 0x04
    /// Heartbeat, 4 bytes (header only).
    case heartbeat = 0x05
    /// Logout, 4 bytes (header only).
    case logout = 0x06

    /// The fixed size in bytes of a message of this type, header included.
    @inlinable
    public var size: Int {
        switch self {
        case .login: 56
        case .newOrder: 44
        case .cancel: 32
        case .replace: 48
        case .heartbeat: 4
        case .logout: 4
        }
    }

    /// The type's name as in docs/protocol.md, e.g. `"newOrder"`.
    public var description: String {
        switch self {
        case .login: "login"
        case .newOrder: "newOrder"
        case .cancel: "cancel"
        case .replace: "replace"
        case .heartbeat: "heartbeat"
        case .logout: "logout"
        }
    }
}

/// The type byte (header byte 2) of a message from the gateway to a client. Each type has one
/// fixed size.
@frozen
public enum ServerMessageType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// ``LoginAccepted``, 20 bytes.
    case loginAccepted = 0x81
    /// Login rejected with an ``ErrorCode``, 6 bytes.
    case loginRejected = 0x82
    /// ``OrderAcceptedReport``, 40 bytes.
    case orderAccepted = 0x83
    /// ``RejectedReport``, 24 bytes.
    case rejected = 0x84
    /// ``FillReport``, 64 bytes.
    case fill = 0x85
    /// ``CanceledReport``, 32 bytes.
    case canceled = 0x86
    /// ``ReplacedReport``, 40 bytes.
    case replaced = 0x87
    /// Heartbeat, 4 bytes (header only).
    case heartbeat = 0x88
    /// Logout with a ``LogoutReason``, 5 bytes.
    case logout = 0x89
    /// UDP only: the expected client sequence number, 16 bytes.
    case sequenceGap = 0x8A

    /// The fixed size in bytes of a message of this type, header included.
    @inlinable
    public var size: Int {
        switch self {
        case .loginAccepted: 20
        case .loginRejected: 6
        case .orderAccepted: 40
        case .rejected: 24
        case .fill: 64
        case .canceled: 32
        case .replaced: 40
        case .heartbeat: 4
        case .logout: 5
        case .sequenceGap: 16
        }
    }

    /// The type's name as in docs/protocol.md, e.g. `"orderAccepted"`.
    public var description: String {
        switch self {
        case .loginAccepted: "loginAccepted"
        case .loginRejected: "loginRejected"
        case .orderAccepted: "orderAccepted"
        case .rejected: "rejected"
        case .fill: "fill"
        case .canceled: "canceled"
        case .replaced: "replaced"
        case .heartbeat: "heartbeat"
        case .logout: "logout"
        case .sequenceGap: "sequenceGap"
        }
    }
}

/// What decoding the start of a byte stream found.
@frozen
public enum BinaryDecodeResult<Message> {
    /// A whole, valid message, which took the first `consumed` bytes.
    case message(Message, consumed: Int)
    /// The bytes are the start of a message that is not complete yet: read more and decode again
    /// from the same position. Over UDP (one message per datagram) this means a truncated datagram.
    case needMoreBytes
    /// The bytes do not start with a valid message. When `skip` is not `nil` the message was framed
    /// correctly and the next one starts `skip` bytes on: a TCP reader may answer the error and
    /// carry on there. When `skip` is `nil` the framing is lost (a bad or oversized length): the
    /// reader must disconnect.
    case error(BinaryProtocolError, skip: Int?)
}

extension BinaryDecodeResult: Sendable where Message: Sendable {}
extension BinaryDecodeResult: Equatable where Message: Equatable {}

/// The header fields at fixed offsets (see ``BinaryFormat``).
enum BinaryHeader {
    static let length = 0
    static let type = 2
    static let version = 3

    /// The header checks shared by client and server messages, in the documented order.
    enum Check {
        case needMoreBytes
        case error(BinaryProtocolError, skip: Int?)
        /// A framed message of the current version: its type byte and size, all bytes present.
        case message(type: UInt8, size: Int)
    }

    /// Frames the message at the start of `bytes`; `size` gives the fixed size of a known type.
    @inline(__always)
    static func check(_ bytes: UnsafeRawBufferPointer, size: (UInt8) -> Int?) -> Check {
        guard bytes.count >= 2 else { return .needMoreBytes }
        let declared = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: length, as: UInt16.self)))
        guard declared >= BinaryFormat.headerSize else {
            return .error(.badLength(declared: declared, expected: nil), skip: nil)
        }
        guard declared <= BinaryFormat.maxMessageSize else {
            return .error(.messageTooLarge(declared: declared), skip: nil)
        }
        guard bytes.count >= declared else { return .needMoreBytes }
        let versionByte = bytes.loadUnaligned(fromByteOffset: version, as: UInt8.self)
        guard versionByte == BinaryFormat.version else {
            return .error(.unsupportedVersion(versionByte), skip: declared)
        }
        let typeByte = bytes.loadUnaligned(fromByteOffset: type, as: UInt8.self)
        guard let expected = size(typeByte) else { return .error(.unknownType(typeByte), skip: declared) }
        guard declared == expected else {
            return .error(.badLength(declared: declared, expected: expected), skip: nil)
        }
        return .message(type: typeByte, size: expected)
    }

    /// Writes the header of a message of `type` and `size`.
    @inline(__always)
    static func write(type: UInt8, size: Int, _ writer: ByteWriter) {
        writer.put(UInt16(truncatingIfNeeded: size), at: length)
        writer.put(type, at: BinaryHeader.type)
        writer.put(BinaryFormat.version, at: version)
    }
}
