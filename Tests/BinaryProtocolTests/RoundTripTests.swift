import BinaryProtocol
import Testing

/// Every message kind encodes and decodes back to itself, alone, in a TCP stream and in a datagram.
@Suite struct RoundTripTests {
    @Test func everyClientMessageRoundTrips() {
        for message in Samples.client {
            let bytes = message.bytes
            #expect(bytes.count == message.encodedSize)
            #expect(bytes.count == message.type.size)
            #expect(Int(bytes[0]) | Int(bytes[1]) << 8 == bytes.count)
            #expect(bytes[2] == message.type.rawValue && bytes[3] == 1)
            #expect(ClientMessage.decode(bytes) == .message(message, consumed: bytes.count))
        }
        #expect(Set(Samples.client.map(\.type)) == Set(ClientMessageType.allCases))
    }

    @Test func everyServerMessageRoundTrips() {
        for message in Samples.server {
            let bytes = message.bytes
            #expect(bytes.count == message.encodedSize)
            #expect(Int(bytes[0]) | Int(bytes[1]) << 8 == bytes.count)
            #expect(bytes[2] == message.type.rawValue && bytes[3] == 1)
            #expect(ServerMessage.decode(bytes) == .message(message, consumed: bytes.count))
        }
        #expect(Set(Samples.server.map(\.type)) == Set(ServerMessageType.allCases))
    }

    @Test func largestMessageSizeIsTheLargestType() {
        let sizes = ClientMessageType.allCases.map(\.size) + ServerMessageType.allCases.map(\.size)
        #expect(sizes.max() == BinaryFormat.largestMessageSize)
        #expect(BinaryFormat.largestMessageSize <= BinaryFormat.maxMessageSize)
    }

    /// A TCP stream: all messages back to back, fed to the decoder in random-sized chunks the way a
    /// socket delivers them; each comes out once, in order.
    @Test(arguments: [1, 3, 7, 64, 1_000])
    func streamOfMessagesDecodesInOrderWhateverTheChunking(maxChunk: Int) {
        var generator = SeededGenerator(seed: UInt64(maxChunk))
        let clientStream = Samples.client.flatMap(\.bytes)
        var received: [ClientMessage] = []
        var buffered: [UInt8] = []
        var offset = 0
        while offset < clientStream.count {
            let chunk = Int.random(in: 1...maxChunk, using: &generator)
            buffered += clientStream[offset..<min(offset + chunk, clientStream.count)]
            offset += chunk
            decoding: while true {
                switch ClientMessage.decode(buffered) {
                case .message(let message, let consumed):
                    received.append(message)
                    buffered.removeFirst(consumed)
                case .needMoreBytes:
                    break decoding
                case .error(let error, _):
                    Issue.record("unexpected \(error)")
                    return
                }
            }
        }
        #expect(received == Samples.client)
        #expect(buffered.isEmpty)

        let serverStream = Samples.server.flatMap(\.bytes)
        var serverReceived: [ServerMessage] = []
        var position = 0
        while position < serverStream.count {
            guard case .message(let message, let consumed) = ServerMessage.decode(Array(serverStream[position...]))
            else {
                Issue.record("server stream broke at \(position)")
                return
            }
            serverReceived.append(message)
            position += consumed
        }
        #expect(serverReceived == Samples.server)
    }

    @Test func everyMessageRoundTripsInADatagram() {
        var buffer = zeros(BinaryFormat.largestDatagramSize)
        for message in Samples.client {
            let datagram = ClientDatagram(header: Samples.header, message: message)
            let count = buffer.withUnsafeMutableBytes { datagram.encode(into: $0) }
            #expect(count == UDPHeader.size + message.encodedSize)
            let decoded = buffer.withUnsafeBytes {
                ClientDatagram.decode(UnsafeRawBufferPointer(rebasing: $0[0..<count]))
            }
            #expect(decoded == .success(datagram))
        }
        for message in Samples.server {
            let datagram = ServerDatagram(header: Samples.header, message: message)
            let count = buffer.withUnsafeMutableBytes { datagram.encode(into: $0) }
            #expect(count == UDPHeader.size + message.encodedSize)
            let decoded = buffer.withUnsafeBytes {
                ServerDatagram.decode(UnsafeRawBufferPointer(rebasing: $0[0..<count]))
            }
            #expect(decoded == .success(datagram))
        }
    }

    @Test func udpHeaderRoundTrips() {
        var buffer = zeros(UDPHeader.size)
        for header in [
            Samples.header, UDPHeader(sessionID: 0, sessionToken: 0, clientSequence: 0),
            UDPHeader(sessionID: .max, sessionToken: .max, clientSequence: .max),
        ] {
            #expect(buffer.withUnsafeMutableBytes { header.encode(into: $0) } == UDPHeader.size)
            #expect(buffer.withUnsafeBytes { UDPHeader.decode($0) } == .success(header))
        }
    }

    @Test func textValuesRoundTripThroughTheirStrings() {
        #expect(SymbolCode("AAPL")?.name == "AAPL")
        #expect(SymbolCode("ABCDEFGH")?.name == "ABCDEFGH")
        #expect(SymbolCode("AAPL")?.rawValue == 0x4C50_4141)
        #expect(SymbolCode(rawValue: 0x2020_2020_4C50_4141) == SymbolCode("AAPL"))
        #expect(Username("trader1")?.string == "trader1")
        #expect(Password("with spaces")?.string == "with spaces")
        #expect(Password(String(repeating: "x", count: 32))?.string == String(repeating: "x", count: 32))
        #expect(Password("secret")?.description == "<password>")
    }

    @Test func errorCodeNamesAreStableAndUnique() {
        #expect(Set(ErrorCode.allCases.map(\.name)).count == ErrorCode.allCases.count)
        for code in ErrorCode.allCases { #expect(ErrorCode(name: code.name) == code) }
        // The engine's RejectReason codes, 0...9, in order (docs/protocol.md).
        let engine = [
            "malformed", "duplicate_id", "unknown_order", "not_owner", "invalid_price", "invalid_qty",
            "post_only_would_cross", "fok_unfillable", "unknown_symbol", "capacity_exhausted",
        ]
        for (raw, name) in engine.enumerated() { #expect(ErrorCode(rawValue: UInt16(raw))?.name == name) }
        #expect(ErrorCode.allCases.allSatisfy { $0.rawValue < 10 || $0.rawValue >= 100 })
    }
}
