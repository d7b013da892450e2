import ChronosConfig
import ChronosCore
import Messaging

/// Asks a shard's replay endpoint how far its stream has got: a ``ReplayRequest`` for a range
/// beyond any sequence is answered `beyond_latest` with the last sequence the shard released.
/// What the market-data service rebuilds silently on start before it publishes.
enum ShardSequenceProbe {
    /// The shard's last released sequence (0 before its first event), or nil when its replay
    /// endpoint did not answer within `timeoutMilliseconds`.
    static func lastSequence(context: ZMQContext, shard: ShardConfiguration, timeoutMilliseconds: Int32) -> UInt64? {
        guard let socket = try? ZMQSocket(context, .dealer) else { return nil }
        defer { socket.close() }
        var buffer = [UInt8](repeating: 0, count: WireFormat.maxFrameSize)
        let request = WireFrame(
            shard: UInt16(truncatingIfNeeded: shard.id),
            message: .replayRequest(ReplayRequest(fromSequence: .max, toSequence: .max)))
        return buffer.withUnsafeMutableBytes { raw -> UInt64? in
            guard (try? socket.setReceiveTimeout(milliseconds: timeoutMilliseconds)) != nil,
                (try? socket.connect(shard.replayEndpoint)) != nil,
                case .success(let count) = request.encode(into: raw),
                (try? socket.send(UnsafeRawBufferPointer(rebasing: raw[0..<count]))) == .sent,
                case .received(let n, false)? = try? socket.receive(into: raw),
                case .success(let frame) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: raw[0..<n])),
                case .replayResponse(let response) = frame.message
            else { return nil }
            return response.lastSequence
        }
    }
}
