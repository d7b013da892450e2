import ChronosCore
import MarketData
import Messaging

/// Encodes market-data frames into one reusable buffer and sends them as message parts: the
/// only place the service writes to a socket. Never blocks (`ZMQ_DONTWAIT`): a full queue is a
/// ``SendOutcome/wouldBlock``, an error a thrown ``ZMQError``, and both count as not sent.
///
/// Owned by the shard's market-data thread, like its sockets.
final class FrameSender {
    let shard: UInt16
    private let buffer = UnsafeMutableRawBufferPointer.allocate(
        byteCount: MarketDataFrameType.maxFrameSize, alignment: 16)

    init(shard: Int) { self.shard = UInt16(truncatingIfNeeded: shard) }

    deinit { buffer.deallocate() }

    /// Sends `message` as one part on `socket` (`more`: further parts follow). True when sent.
    /// No allocation in Swift (libzmq copies a part over 33 bytes to its heap).
    func send(_ message: MarketDataMessage, on socket: ZMQSocket, more: Bool = false) -> Bool {
        guard case .success(let count) = MarketDataFrame(shard: shard, message: message).encode(into: buffer) else {
            return false
        }
        let outcome = try? socket.send(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), more: more, dontWait: true)
        return outcome == .sent
    }

    /// Sends raw `bytes` (a topic, a routing id) as one part followed by more. True when sent.
    func sendPrefix(_ bytes: UnsafeRawBufferPointer, on socket: ZMQSocket) -> Bool {
        (try? socket.send(bytes, more: true, dontWait: true)) == .sent
    }

    /// Sends `header` then, with status ok, each level of `snapshot` (bids, then offers) as
    /// `marketDataLevel` parts, the last part closing the message. The caller has sent the
    /// message's leading parts (topic, or routing id) with `more`. True when every part went.
    func sendSnapshot(_ header: SnapshotHeader, _ snapshot: MarketDataSnapshot?, on socket: ZMQSocket) -> Bool {
        let levels = snapshot.map { $0.bids.count + $0.offers.count } ?? 0
        guard send(.snapshot(header), on: socket, more: levels > 0) else { return false }
        guard let snapshot, levels > 0 else { return true }
        var sent = 0
        for (side, sideLevels) in [(Side.buy, snapshot.bids), (.sell, snapshot.offers)] {
            for level in sideLevels {
                sent += 1
                guard send(.update(.level(header.levelUpdate(side, level))), on: socket, more: sent < levels) else {
                    return false
                }
            }
        }
        return true
    }
}
