import BinaryProtocol
import FIX

// Feeds arbitrary bytes to every parser a gateway client can reach: the FIX framer and a
// logged-on FIX session (so that validation, sequence handling and rejects run too), the
// binary protocol's TCP stream decoder and its UDP datagram decoder. Under AddressSanitizer any
// out-of-bounds access is a crash; a trap anywhere is a finding.

/// A valid Logon from TW to ISLD, so that the input reaches a logged-on session.
private let logon: [UInt8] = {
    var body = FIXOutboundMessage(msgType: "A")
    body.append(98, "0")
    body.append(108, "30")
    return FIXEncoder.encode(
        body, header: FIXOutboundHeader(senderCompID: "TW", targetCompID: "ISLD", msgSeqNum: 1, sendingTime: now))
}()

/// 2026-11-25 12:00:00 UTC, the session's clock throughout.
private let now: Int64 = 1_795_608_000_000_000_000

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // 1. FIX: the input as a stream after a logon, cut in two reads at a point the input chooses.
    if let session = try? FIXSession(
        configuration: FIXSessionConfiguration(senderCompID: "ISLD", targetCompID: "TW", password: nil),
        store: FIXMemoryStore())
    {
        session.connected(now: now)
        var framer = FIXFramer(maxMessageSize: 4096)
        logon.withUnsafeBytes { framer.append($0) }
        let cut = size == 0 ? 0 : Int(bytes[0]) % (size + 1)
        framer.append(UnsafeRawBufferPointer(rebasing: bytes[0..<cut]))
        var frames = 0
        while let frame = framer.next(), frames < 1_000 {
            _ = session.receive(frame, now: now)
            frames += 1
        }
        framer.append(UnsafeRawBufferPointer(rebasing: bytes[cut..<size]))
        while let frame = framer.next(), frames < 2_000 {
            _ = session.receive(frame, now: now)
            frames += 1
        }
        _ = session.timerTick(now: now + 31_000_000_000)
    }
    // 2. Binary over TCP: decode as a stream, skipping as the server does.
    var offset = 0
    while offset < size {
        switch ClientMessage.decode(UnsafeRawBufferPointer(rebasing: bytes[offset..<size])) {
        case .message(_, let consumed): offset += max(consumed, 1)
        case .needMoreBytes: offset = size
        case .error(_, let skip?): offset += max(skip, 1)
        case .error(_, nil): offset = size
        }
    }
    // 3. Binary over UDP: the whole input as one datagram, both directions.
    _ = ClientDatagram.decode(bytes)
    _ = ServerDatagram.decode(bytes)
    _ = ServerMessage.decode(bytes)
    return 0
}
