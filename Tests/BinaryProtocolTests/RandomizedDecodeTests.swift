import BinaryProtocol
import Testing

/// Decoding never traps, and whatever decodes is consistent: on random buffers and on valid
/// messages with bytes flipped, cut or extended (seeded, a few thousand inputs each).
@Suite struct RandomizedDecodeTests {
    /// Checks the contract of one stream decode of `bytes`.
    private func checkClient(_ bytes: [UInt8]) {
        switch ClientMessage.decode(bytes) {
        case .message(let message, let consumed):
            #expect(consumed == message.encodedSize && consumed <= bytes.count)
            // What decodes encodes to bytes that decode to the same message.
            #expect(ClientMessage.decode(message.bytes) == .message(message, consumed: consumed))
        case .needMoreBytes:
            #expect(bytes.count < 2 || bytes.count < Int(bytes[0]) | Int(bytes[1]) << 8)
        case .error(let error, let skip):
            #expect(skip == nil || skip == Int(bytes[0]) | Int(bytes[1]) << 8)
            #expect((skip == nil) == error.losesFraming)
        }
        _ = bytes.withUnsafeBytes { ClientDatagram.decode($0) }
    }

    private func checkServer(_ bytes: [UInt8]) {
        switch ServerMessage.decode(bytes) {
        case .message(let message, let consumed):
            #expect(consumed == message.encodedSize && consumed <= bytes.count)
            #expect(message.bytes == Array(bytes[0..<consumed]))
        case .needMoreBytes:
            #expect(bytes.count < 2 || bytes.count < Int(bytes[0]) | Int(bytes[1]) << 8)
        case .error(let error, let skip):
            #expect(skip == nil || skip == Int(bytes[0]) | Int(bytes[1]) << 8)
            #expect((skip == nil) == error.losesFraming)
        }
        _ = bytes.withUnsafeBytes { ServerDatagram.decode($0) }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SeededGenerator(seed: 2_024)
        for _ in 0..<4_000 {
            let count = Int.random(in: 0...90, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half the time, a plausible header so the body checks are reached too.
            if count >= 4 && Bool.random(using: &generator) {
                let types =
                    ClientMessageType.allCases.map { ($0.rawValue, $0.size) }
                    + ServerMessageType.allCases.map { ($0.rawValue, $0.size) }
                let (type, size) = types.randomElement(using: &generator)!
                bytes[0] = UInt8(size)
                bytes[1] = 0
                bytes[2] = type
                bytes[3] = 1
            }
            checkClient(bytes)
            checkServer(bytes)
        }
    }

    @Test func mutatedMessagesNeverTrap() {
        var generator = SeededGenerator(seed: 7)
        let clientMessages = Samples.client.map(\.bytes)
        let serverMessages = Samples.server.map(\.bytes)
        for round in 0..<4_000 {
            var bytes = (round.isMultiple(of: 2) ? clientMessages : serverMessages).randomElement(using: &generator)!
            switch Int.random(in: 0..<4, using: &generator) {
            case 0, 1:  // flip 1–3 bytes
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(
                        in: 0...255, using: &generator)
                }
            case 2:  // cut
                bytes = Array(bytes[0..<Int.random(in: 0..<bytes.count, using: &generator)])
            default:  // extend
                bytes += (0..<Int.random(in: 1...20, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            }
            checkClient(bytes)
            checkServer(bytes)
        }
    }
}
