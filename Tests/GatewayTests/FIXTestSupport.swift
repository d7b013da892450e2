import FIX
import Foundation
import Glibc
import Testing

// A FIX 4.4 initiator for black-box tests of the gateway's FIX side (FIXGatewayTests): a raw
// non-blocking loopback socket, the FIX module's encoder and framer, and bounded waits that poll
// with `Task.sleep`, so no test blocks a cooperative thread.

/// One FIX client connection: logs on, sends application messages with consecutive MsgSeqNum and
/// reads the gateway's messages (heartbeats skipped; test requests answered).
final class FIXTestClient: @unchecked Sendable {
    let connection: RawTCPConnection
    /// The client's CompID (the gateway's TargetCompID).
    let senderCompID: String
    /// The gateway's CompID.
    let targetCompID: String
    /// MsgSeqNum of the next message this client sends.
    var nextSeqNum = 1
    private var framer = FIXFramer()
    private var inbox: [FIXMessage] = []
    private(set) var sawEOF = false

    init(port: Int, senderCompID: String = "CLIENT1", targetCompID: String = "CHRONOS") throws {
        connection = try RawTCPConnection(port: port)
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
    }

    /// Sends a message of `msgType` with `fields` in order (MsgSeqNum: `seqNum`, else the next one).
    @discardableResult
    func send(_ msgType: String, _ fields: [(Int, String)], seqNum: Int? = nil) async -> Bool {
        var message = FIXOutboundMessage(msgType: msgType)
        for (tag, value) in fields { message.append(tag, value) }
        let seq = seqNum ?? nextSeqNum
        nextSeqNum = seq + 1
        let header = FIXOutboundHeader(
            senderCompID: senderCompID, targetCompID: targetCompID, msgSeqNum: seq,
            sendingTime: Int64(Date().timeIntervalSince1970 * 1e9))
        return await connection.send(FIXEncoder.encode(message, header: header))
    }

    /// Sends a Logon (HeartBtInt 30, `extra` fields after it) and returns the gateway's answer.
    func logon(_ extra: [(Int, String)] = [], seqNum: Int? = nil) async throws -> FIXMessage {
        await send("A", [(98, "0"), (108, "30")] + extra, seqNum: seqNum)
        let answer = try await expect(within: 5, "the Logon answer")
        try #require(answer.msgType == "A", "expected a Logon, got \(answer.text)")
        return answer
    }

    /// A NewOrderSingle: a limit order unless `price` is nil; `extra` fields (e.g. Account, TimeInForce) after it.
    @discardableResult
    func newOrder(
        _ clOrdID: String, side: String = "1", quantity: Int, price: String?, symbol: String = "AAPL",
        _ extra: [(Int, String)] = []
    ) async -> Bool {
        var fields: [(Int, String)] = [(11, clOrdID)] + extra + [(55, symbol), (54, side)]
        fields.append((60, FIXTimestamp.string(Int64(Date().timeIntervalSince1970 * 1e9))))
        fields.append((38, String(quantity)))
        if let price {
            fields += [(40, "2"), (44, price)]
        } else {
            fields.append((40, "1"))
        }
        return await send("D", fields.sorted { order($0.0) < order($1.0) })
    }

    /// Body tags in the order the FIX 4.4 dictionary lists them for NewOrderSingle (the gateway
    /// rejects fields out of order only inside groups, but keep them tidy).
    private func order(_ tag: Int) -> Int {
        [11: 0, 1: 1, 18: 2, 55: 3, 54: 4, 60: 5, 38: 6, 40: 7, 44: 8, 59: 9][tag] ?? 100 + tag
    }

    /// The next message (heartbeats skipped, test requests answered) within `seconds`, or nil.
    func next(within seconds: Double = 3) async -> FIXMessage? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while true {
            while !inbox.isEmpty {
                let message = inbox.removeFirst()
                if message.msgType == "0" { continue }
                if message.msgType == "1" {
                    await send("0", [(112, message.string(112) ?? "")])
                    continue
                }
                return message
            }
            if sawEOF { return nil }
            if !readAvailable() {
                // Look once more after the deadline: a message may have arrived meanwhile.
                if ContinuousClock.now > deadline {
                    if readAvailable() { continue }
                    return nil
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    /// The next message, or a failed test.
    func expect(
        within seconds: Double = 3, _ what: String = "a FIX message", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> FIXMessage {
        try #require(await next(within: seconds), "no \(what) arrived", sourceLocation: sourceLocation)
    }

    /// Every message arriving within `seconds` (heartbeats skipped).
    func collect(for seconds: Double) async -> [FIXMessage] {
        var messages: [FIXMessage] = []
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while let message = await next(within: max(0.001, secondsLeft(until: deadline))) {
            messages.append(message)
            if ContinuousClock.now > deadline { break }
        }
        return messages
    }

    /// Reads what is available into the framer; false when nothing was.
    private func readAvailable() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes {
            Glibc.recv(connection.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
        }
        if count > 0 {
            framer.append(Array(chunk[0..<count]))
            while let frame = framer.next() {
                if case .message(let message) = frame { inbox.append(message) }
            }
            return true
        }
        if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { sawEOF = true }
        return false
    }
}

extension FIXMessage {
    /// The message as `tag=value|…`, for failure messages.
    var text: String { fields.map { "\($0.tag)=\($0.value)" }.joined(separator: "|") }
}

extension ExchangeHarness {
    /// The FIX port (0 when the server is off).
    var fixPort: Int { addresses.fix?.testPort ?? 0 }
}
