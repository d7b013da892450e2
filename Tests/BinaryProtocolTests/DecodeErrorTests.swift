import BinaryProtocol
import Testing

/// Every decoding error of docs/protocol.md, "Decoding rules and errors", with its TCP `skip`.
@Suite struct DecodeErrorTests {
    /// A valid newOrder (44 bytes) to break one byte at a time.
    private let newOrder = ClientMessage.newOrder(
        NewOrderRequest(
            clientOrderID: 1, account: 101, symbol: SymbolCode("AAPL")!, side: .buy, price: 100, quantity: 5)
    ).bytes

    private func with(_ bytes: [UInt8], _ offset: Int, _ value: UInt8) -> [UInt8] {
        var copy = bytes
        copy[offset] = value
        return copy
    }

    @Test func shortBuffersNeedMoreBytes() {
        #expect(ClientMessage.decode([]) == .needMoreBytes)
        #expect(ClientMessage.decode([44]) == .needMoreBytes)
        #expect(ClientMessage.decode(Array(newOrder[0..<4])) == .needMoreBytes)
        #expect(ClientMessage.decode(Array(newOrder[0..<43])) == .needMoreBytes)
        #expect(ServerMessage.decode(hex("40 00")) == .needMoreBytes)
    }

    @Test func lengthBelowTheHeaderLosesFraming() {
        for length: UInt8 in 0..<4 {
            #expect(
                ClientMessage.decode([length, 0]) == .error(.badLength(declared: Int(length), expected: nil), skip: nil)
            )
            #expect(
                ServerMessage.decode([length, 0, 0x88, 1])
                    == .error(.badLength(declared: Int(length), expected: nil), skip: nil))
        }
    }

    @Test func lengthOtherThanTheTypeSizeLosesFraming() {
        let long = [45, 0] + newOrder[2...] + [0]
        #expect(ClientMessage.decode(long) == .error(.badLength(declared: 45, expected: 44), skip: nil))
        #expect(ClientMessage.decode(hex("05 00 05 01 00")) == .error(.badLength(declared: 5, expected: 4), skip: nil))
        #expect(ServerMessage.decode(hex("04 00 89 01")) == .error(.badLength(declared: 4, expected: 5), skip: nil))
        #expect(BinaryProtocolError.badLength(declared: 5, expected: 4).losesFraming)
    }

    @Test func oversizedLengthLosesFramingFromTwoBytes() {
        #expect(ClientMessage.decode(hex("01 01")) == .error(.messageTooLarge(declared: 257), skip: nil))
        #expect(ServerMessage.decode(hex("FF FF 85 01")) == .error(.messageTooLarge(declared: 65_535), skip: nil))
        #expect(BinaryProtocolError.messageTooLarge(declared: 257).errorCode == .messageTooLarge)
        #expect(BinaryProtocolError.messageTooLarge(declared: 257).losesFraming)
        // 256 itself is a legal length for some version: framed, so skippable once all there.
        #expect(ClientMessage.decode(hex("00 01 02 01")) == .needMoreBytes)
        #expect(ClientMessage.decode(hex("00 01 02 02") + zeros(252)) == .error(.unsupportedVersion(2), skip: 256))
    }

    @Test func badVersionIsSkippable() {
        #expect(ClientMessage.decode(with(newOrder, 3, 2)) == .error(.unsupportedVersion(2), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 3, 0)) == .error(.unsupportedVersion(0), skip: 44))
        #expect(ServerMessage.decode(hex("04 00 88 07")) == .error(.unsupportedVersion(7), skip: 4))
        #expect(BinaryProtocolError.unsupportedVersion(2).errorCode == .unsupportedVersion)
    }

    @Test func unknownTypeIsSkippable() {
        #expect(ClientMessage.decode(hex("04 00 07 01")) == .error(.unknownType(7), skip: 4))
        #expect(ClientMessage.decode(hex("04 00 00 01")) == .error(.unknownType(0), skip: 4))
        // A message sent the wrong way is an unknown type.
        #expect(ClientMessage.decode(hex("04 00 88 01")) == .error(.unknownType(0x88), skip: 4))
        #expect(ServerMessage.decode(hex("04 00 05 01")) == .error(.unknownType(5), skip: 4))
        #expect(BinaryProtocolError.unknownType(7).errorCode == .unknownMessageType)
        #expect(!BinaryProtocolError.unknownType(7).losesFraming)
    }

    @Test func badEnumValuesAreSkippable() {
        #expect(ClientMessage.decode(with(newOrder, 40, 0)) == .error(.badEnum(.side, 0), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 40, 3)) == .error(.badEnum(.side, 3), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 41, 3)) == .error(.badEnum(.orderType, 3), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 42, 0)) == .error(.badEnum(.timeInForce, 0), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 42, 4)) == .error(.badEnum(.timeInForce, 4), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 43, 2)) == .error(.badEnum(.flags, 2), skip: 44))
        #expect(BinaryProtocolError.badEnum(.side, 0).errorCode == .malformed)

        let rejected = ServerMessage.rejected(
            RejectedReport(clientOrderID: 1, requestKind: .newOrder, errorCode: .malformed)
        ).bytes
        #expect(ServerMessage.decode(with(rejected, 6, 4)) == .error(.badEnum(.requestKind, 4), skip: 24))
        #expect(ServerMessage.decode(with(rejected, 4, 10)) == .error(.badEnum(.errorCode, 10), skip: 24))
        #expect(ServerMessage.decode(with(rejected, 4, 117)) == .error(.badEnum(.errorCode, 117), skip: 24))
        #expect(ServerMessage.decode(hex("06 00 82 01 00 01")) == .error(.badEnum(.errorCode, 256), skip: 6))
        let canceled = ServerMessage.canceled(
            CanceledReport(clientOrderID: 1, requestID: 0, canceledQuantity: 1, reason: .requested)
        ).bytes
        #expect(ServerMessage.decode(with(canceled, 4, 4)) == .error(.badEnum(.cancelReason, 4), skip: 32))
        let replaced = ServerMessage.replaced(
            ReplacedReport(requestID: 1, clientOrderID: 1, price: 1, leavesQuantity: 1, keptPriority: false)
        ).bytes
        #expect(ServerMessage.decode(with(replaced, 4, 2)) == .error(.badEnum(.keptPriority, 2), skip: 40))
        let fill = ServerMessage.fill(
            FillReport(
                clientOrderID: 1, exchangeOrderID: 1, tradeID: 1, side: .buy, price: 1, quantity: 1, leavesQuantity: 0,
                cumulativeQuantity: 1)
        ).bytes
        #expect(ServerMessage.decode(with(fill, 4, 0)) == .error(.badEnum(.side, 0), skip: 64))
        #expect(ServerMessage.decode(hex("05 00 89 01 06")) == .error(.badEnum(.logoutReason, 6), skip: 5))
    }

    @Test func badTextIsSkippable() {
        // Symbol at 16…23: all padding, a control byte, a character after padding, DEL.
        #expect(
            ClientMessage.decode(newOrder[0..<16] + zeros(8) + newOrder[24...])
                == .error(.badText(.symbol, offset: 16), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 17, 0x01)) == .error(.badText(.symbol, offset: 17), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 21, 0x41)) == .error(.badText(.symbol, offset: 21), skip: 44))
        #expect(
            ClientMessage.decode(with(with(newOrder, 20, 0x20), 22, 0x41))
                == .error(.badText(.symbol, offset: 22), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 16, 0x7F)) == .error(.badText(.symbol, offset: 16), skip: 44))
        #expect(ClientMessage.decode(with(newOrder, 16, 0x20)) == .error(.badText(.symbol, offset: 16), skip: 44))

        let login = ClientMessage.login(Login(username: Username("trader1")!, password: Password("pw")!)).bytes
        #expect(
            ClientMessage.decode(login[0..<4] + zeros(16) + login[20...])
                == .error(.badText(.username, offset: 4), skip: 56))
        #expect(ClientMessage.decode(with(login, 6, 0x20)) == .error(.badText(.username, offset: 6), skip: 56))
        #expect(ClientMessage.decode(with(login, 12, 0x41)) == .error(.badText(.username, offset: 12), skip: 56))
        #expect(ClientMessage.decode(with(login, 21, 0x80)) == .error(.badText(.password, offset: 21), skip: 56))
        #expect(ClientMessage.decode(with(login, 51, 0x41)) == .error(.badText(.password, offset: 51), skip: 56))
        #expect(SymbolCode("") == nil && SymbolCode("ABCDEFGHI") == nil && SymbolCode("A B") == nil)
        #expect(SymbolCode("É") == nil && SymbolCode(rawValue: 0) == nil && SymbolCode(rawValue: 0x41_00_41) == nil)
        #expect(Username("") == nil && Username(String(repeating: "u", count: 17)) == nil && Username("a b") == nil)
        #expect(Password(String(repeating: "p", count: 33)) == nil && Password("tab\t") == nil)
    }

    @Test func nonZeroReservedBytesAreSkippable() {
        let accepted = ServerMessage.orderAccepted(
            OrderAcceptedReport(clientOrderID: 1, exchangeOrderID: 2, price: 3, quantity: 4)
        ).bytes
        #expect(ServerMessage.decode(with(accepted, 5, 1)) == .error(.nonZeroReserved(offset: 5), skip: 40))
        let rejected = ServerMessage.rejected(
            RejectedReport(clientOrderID: 1, requestKind: .newOrder, errorCode: .malformed)
        ).bytes
        #expect(ServerMessage.decode(with(rejected, 7, 1)) == .error(.nonZeroReserved(offset: 7), skip: 24))
        let gap = ServerMessage.sequenceGap(expectedSequence: 1).bytes
        #expect(ServerMessage.decode(with(gap, 4, 1)) == .error(.nonZeroReserved(offset: 4), skip: 16))
        let fill = ServerMessage.fill(
            FillReport(
                clientOrderID: 1, exchangeOrderID: 1, tradeID: 1, side: .buy, price: 1, quantity: 1, leavesQuantity: 0,
                cumulativeQuantity: 1)
        ).bytes
        #expect(ServerMessage.decode(with(fill, 7, 9)) == .error(.nonZeroReserved(offset: 7), skip: 64))
        #expect(BinaryProtocolError.nonZeroReserved(offset: 7).errorCode == .malformed)
    }

    @Test func datagramsMustHoldExactlyOneMessage() {
        let datagram = hex("03 00 00 00 88 77 66 55 44 33 22 11 02 00 00 00 00 00 00 00")
        #expect(
            Array(datagram[0..<19]).withUnsafeBytes { ClientDatagram.decode($0) }
                == .failure(.truncated(needed: 20, actual: 19)))
        #expect(datagram.withUnsafeBytes { ClientDatagram.decode($0) } == .failure(.truncated(needed: 24, actual: 20)))
        let partial = datagram + Array(newOrder[0..<30])
        #expect(partial.withUnsafeBytes { ClientDatagram.decode($0) } == .failure(.truncated(needed: 64, actual: 50)))
        let trailing = datagram + hex("04 00 05 01 00")
        #expect(
            trailing.withUnsafeBytes { ClientDatagram.decode($0) } == .failure(.trailingBytes(expected: 24, actual: 25))
        )
        let bad = datagram + hex("04 00 05 02")
        #expect(bad.withUnsafeBytes { ClientDatagram.decode($0) } == .failure(.unsupportedVersion(2)))
        #expect(
            (datagram + hex("04 00 88 01")).withUnsafeBytes { ServerDatagram.decode($0) }
                == .success(ServerDatagram(header: Samples.header, message: .heartbeat)))
        #expect(
            (datagram + hex("04 00")).withUnsafeBytes { ServerDatagram.decode($0) }
                == .failure(.truncated(needed: 24, actual: 22)))
        #expect(zeros(10).withUnsafeBytes { UDPHeader.decode($0) } == .failure(.truncated(needed: 20, actual: 10)))
    }

    @Test func encodingIntoASmallBufferWritesNothing() {
        for message in Samples.client {
            var buffer = [UInt8](repeating: 0xAA, count: message.encodedSize - 1)
            #expect(buffer.withUnsafeMutableBytes { message.encode(into: $0) } == 0)
            #expect(buffer.allSatisfy { $0 == 0xAA })
        }
        for message in Samples.server {
            var buffer = [UInt8](repeating: 0xAA, count: message.encodedSize - 1)
            #expect(buffer.withUnsafeMutableBytes { message.encode(into: $0) } == 0)
            #expect(buffer.allSatisfy { $0 == 0xAA })
        }
        var small = zeros(UDPHeader.size + 3)
        #expect(
            small.withUnsafeMutableBytes {
                ClientDatagram(header: Samples.header, message: .heartbeat).encode(into: $0)
            } == 0)
        #expect(
            small.withUnsafeMutableBytes {
                Samples.header.encode(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<19]))
            } == 0)
    }

    @Test func encodingTouchesNoByteAfterTheMessage() {
        var buffer = [UInt8](repeating: 0xAA, count: 100)
        let count = buffer.withUnsafeMutableBytes { ClientMessage.heartbeat.encode(into: $0) }
        #expect(count == 4 && buffer[4...].allSatisfy { $0 == 0xAA })
    }
}
