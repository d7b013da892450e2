/// The header before the one message of every UDP datagram, both directions:
///
/// ```
/// offset size type    field           meaning
/// ------ ---- ------- --------------- -----------------------------------------------------
///      0    4 UInt32  sessionID       the session (0 in a client's login datagram)
///      4    8 UInt64  sessionToken    the session's secret (0 in a client's login datagram)
///     12    8 UInt64  clientSequence  client → gateway: 1, 2, 3… per session (0 for login);
///                                     gateway → client: the sequence answered (0: unsolicited)
///     20    …         message         one message, header included, filling the datagram
/// ```
///
/// docs/protocol.md, "UDP", has the sequencing and idempotency contract.

import FencedCollections

@frozen
public struct UDPHeader: Hashable, Sendable {
    /// Size of the header in bytes.
    public static let size = 20

    /// The session's id from ``LoginAccepted/sessionID``; 0 in a login datagram.
    public var sessionID: UInt32
    /// The session's secret from ``LoginAccepted/sessionToken``; 0 in a login datagram.
    public var sessionToken: UInt64
    /// From the client: its sequence number of this datagram, 1 for the first after login and
    /// one more for each new datagram (0 for login). From the gateway: the client sequence this
    /// datagram answers, 0 for unsolicited messages (fills, unrequested cancels, heartbeats).
    public var clientSequence: UInt64

    /// A header.
    public init(sessionID: UInt32, sessionToken: UInt64, clientSequence: UInt64) {
        self.sessionID = sessionID
        self.sessionToken = sessionToken
        self.clientSequence = clientSequence
    }

    /// Writes the header at the start of `buffer`.
    ///
    /// - Returns: ``size``, or 0 when `buffer` is smaller (nothing is written).
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard buffer.count >= Self.size else { return 0 }
        let writer = ByteWriter(buffer, size: Self.size)
        writer.put(sessionID, at: 0)
        writer.put(sessionToken, at: 4)
        writer.put(clientSequence, at: 12)
        return Self.size
    }

    /// Reads the header at the start of `bytes`.
    ///
    /// - Returns: the header, or ``BinaryProtocolError/truncated(needed:actual:)`` when `bytes`
    ///   is shorter than ``size``.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<UDPHeader, BinaryProtocolError> {
        guard bytes.count >= size else { return .failure(.truncated(needed: size, actual: bytes.count)) }
        let reader = ByteReader(bytes, size: size)
        return .success(
            UDPHeader(sessionID: reader.u32(0), sessionToken: reader.u64(4), clientSequence: reader.u64(12)))
    }
}

/// One UDP datagram from a client: a ``UDPHeader`` and exactly one ``ClientMessage``.
@frozen
public struct ClientDatagram: Hashable, Sendable {
    /// The session and sequence.
    public var header: UDPHeader
    /// The message.
    public var message: ClientMessage

    /// A datagram.
    public init(header: UDPHeader, message: ClientMessage) {
        self.header = header
        self.message = message
    }

    /// Writes the datagram at the start of `buffer`.
    ///
    /// - Returns: the datagram's size, or 0 when `buffer` is too small (a buffer of
    ///   ``BinaryFormat/largestDatagramSize`` bytes always suffices).
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let size = UDPHeader.size + message.encodedSize
        guard buffer.count >= size else { return 0 }
        _ = header.encode(into: buffer)
        return UDPHeader.size + message.encode(into: UnsafeMutableRawBufferPointer(rebasing: buffer[UDPHeader.size...]))
    }

    /// Reads one whole datagram: the header, then one message that ends exactly where the datagram
    /// does.
    ///
    /// - Returns: the datagram, or the first problem: `truncated` (shorter than the header or than
    ///   the message's length field), `trailingBytes` (longer than header and message), or the
    ///   message's own error. A gateway drops a datagram whose header does not name a live session
    ///   before looking at this.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<ClientDatagram, BinaryProtocolError> {
        let header: UDPHeader
        switch UDPHeader.decode(bytes) {
        case .success(let value): header = value
        case .failure(let error): return .failure(error)
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[UDPHeader.size...])
        switch ClientMessage.decode(body) {
        case .message(let message, let consumed):
            guard consumed == body.count else {
                return .failure(.trailingBytes(expected: UDPHeader.size + consumed, actual: bytes.count))
            }
            return .success(ClientDatagram(header: header, message: message))
        case .needMoreBytes:
            return .failure(.truncated(needed: UDPHeader.size + Datagram.neededLength(body), actual: bytes.count))
        case .error(let error, _):
            return .failure(error)
        }
    }
}

/// One UDP datagram from the gateway: a ``UDPHeader`` and exactly one ``ServerMessage``.
@frozen
public struct ServerDatagram: Hashable, Sendable {
    /// The session and the client sequence answered (0: unsolicited).
    public var header: UDPHeader
    /// The message.
    public var message: ServerMessage

    /// A datagram.
    public init(header: UDPHeader, message: ServerMessage) {
        self.header = header
        self.message = message
    }

    /// Writes the datagram at the start of `buffer`.
    ///
    /// - Returns: the datagram's size, or 0 when `buffer` is too small (a buffer of
    ///   ``BinaryFormat/largestDatagramSize`` bytes always suffices).
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let size = UDPHeader.size + message.encodedSize
        guard buffer.count >= size else { return 0 }
        _ = header.encode(into: buffer)
        return UDPHeader.size + message.encode(into: UnsafeMutableRawBufferPointer(rebasing: buffer[UDPHeader.size...]))
    }

    /// Reads one whole datagram; see ``ClientDatagram/decode(_:)``.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<ServerDatagram, BinaryProtocolError> {
        let header: UDPHeader
        switch UDPHeader.decode(bytes) {
        case .success(let value): header = value
        case .failure(let error): return .failure(error)
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[UDPHeader.size...])
        switch ServerMessage.decode(body) {
        case .message(let message, let consumed):
            guard consumed == body.count else {
                return .failure(.trailingBytes(expected: UDPHeader.size + consumed, actual: bytes.count))
            }
            return .success(ServerDatagram(header: header, message: message))
        case .needMoreBytes:
            return .failure(.truncated(needed: UDPHeader.size + Datagram.neededLength(body), actual: bytes.count))
        case .error(let error, _):
            return .failure(error)
        }
    }
}

/// Helpers shared by the datagram decoders.
enum Datagram {
    /// The message length a too-short message part needs: its length field when it has one, else
    /// the header size.
    static func neededLength(_ body: UnsafeRawBufferPointer) -> Int {
        guard body.count >= 2 else { return BinaryFormat.headerSize }
        return Int(UInt16(littleEndian: body.loadUnaligned(fromByteOffset: 0, as: UInt16.self)))
    }
}
