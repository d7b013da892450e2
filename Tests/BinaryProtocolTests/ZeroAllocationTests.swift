import AllocCounter
import BinaryProtocol
import Testing

/// Encoding and decoding every message kind must not touch the heap.
@Suite struct ZeroAllocationTests {
    /// One warm-up run (lazy metadata allocates once), then count the second run.
    private func mallocs(_ body: () -> Void) -> Int64 {
        body()
        alloc_counter_begin()
        body()
        return alloc_counter_end()
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func encodeAndDecodeAllocateNothing() {
        let client = Samples.client
        let server = Samples.server
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)
        defer { buffer.deallocate() }
        var checksum = 0
        let count = mallocs {
            // Index loops: a debug build's unspecialized `for … in` over an array of these enums
            // allocates an iterator box per element, which is the test's, not the codec's.
            for _ in 0..<100 {
                for index in 0..<client.count {
                    let message = client[index]
                    let size = message.encode(into: buffer)
                    if case .message(let decoded, let consumed) = ClientMessage.decode(
                        UnsafeRawBufferPointer(rebasing: buffer[0..<size]))
                    {
                        checksum &+= consumed &+ (decoded == message ? 1 : 0)
                    }
                    let datagram = ClientDatagram(header: Samples.header, message: message)
                    let datagramSize = datagram.encode(into: buffer)
                    if case .success(let decoded) = ClientDatagram.decode(
                        UnsafeRawBufferPointer(rebasing: buffer[0..<datagramSize]))
                    {
                        checksum &+= Int(decoded.header.clientSequence)
                    }
                }
                for index in 0..<server.count {
                    let message = server[index]
                    let size = message.encode(into: buffer)
                    if case .message(let decoded, let consumed) = ServerMessage.decode(
                        UnsafeRawBufferPointer(rebasing: buffer[0..<size]))
                    {
                        checksum &+= consumed &+ (decoded == message ? 1 : 0)
                    }
                    let datagram = ServerDatagram(header: Samples.header, message: message)
                    let datagramSize = datagram.encode(into: buffer)
                    if case .success(let decoded) = ServerDatagram.decode(
                        UnsafeRawBufferPointer(rebasing: buffer[0..<datagramSize]))
                    {
                        checksum &+= Int(decoded.header.clientSequence)
                    }
                }
                // Errors allocate nothing either.
                buffer.storeBytes(of: 0x0101, toByteOffset: 0, as: UInt16.self)
                if case .error(let error, _) = ClientMessage.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<4])) {
                    checksum &+= error.losesFraming ? 1 : 0
                }
            }
        }
        #expect(count == 0)
        #expect(checksum > 0)
    }
}
