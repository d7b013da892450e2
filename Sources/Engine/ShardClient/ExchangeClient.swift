import ChronosConfig
import ChronosCore
import Messaging

/// The gateway side of the engine shards: routes each command by symbol to its shard's orders
/// socket and collects the execution reports that come back.
///
/// One DEALER socket per shard, all with the same routing id (the gateway's name), with
/// `ZMQ_IMMEDIATE` so that a shard that is not connected refuses the command at once
/// (``Submission/shardUnavailable``) instead of queueing it for a peer that may never come.
/// Owned by one thread; sending and receiving never allocate.
public final class ExchangeClient {
    /// What happened to a command handed to ``submit(_:clientTimestampNanos:)``.
    public enum Submission: Equatable, Sendable {
        /// On its way to shard `shard`; its reports will arrive through ``receive(timeoutMilliseconds:)``.
        case sent(shard: Int)
        /// The symbol is not in the shard map.
        case unknownSymbol
        /// The shard has no live connection (down, or not started yet); nothing was sent.
        case shardUnavailable(shard: Int)
    }

    public let shardMap: ShardMap
    private let dealers: [ZMQSocket]
    private let poller: ZMQPoller
    private let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    private let outgoing = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)

    /// Connects to every shard's orders endpoint as `name` (the ZeroMQ routing id, 1–255 bytes).
    ///
    /// `wakeDescriptor`: a file descriptor (e.g. an eventfd) that another thread makes readable to
    /// end a waiting ``receive(timeoutMilliseconds:)`` early; the caller drains it.
    public init(
        context: ZMQContext, shardMap: ShardMap, name: String, wakeDescriptor: Int32? = nil
    ) throws(ZMQError) {
        self.shardMap = shardMap
        var dealers: [ZMQSocket] = []
        for shard in shardMap.shards {
            let dealer = try ZMQSocket(context, .dealer)
            try dealer.setRoutingID(Array(name.utf8))
            try dealer.setImmediate(true)
            try dealer.setSendHighWaterMark(100_000)
            try dealer.connect(shard.ordersEndpoint)
            dealers.append(dealer)
        }
        self.dealers = dealers
        poller = ZMQPoller(dealers, fileDescriptors: wakeDescriptor.map { [$0] } ?? [])
    }

    deinit {
        for dealer in dealers { dealer.close() }
        frame.deallocate()
        outgoing.deallocate()
    }

    /// Sends a command to the shard that trades its symbol, never blocking.
    public func submit(_ command: EngineCommand, clientTimestampNanos: UInt64 = 0) -> Submission {
        let symbol = Int(command.symbolID.rawValue)
        guard symbol < shardMap.shardOfSymbol.count else { return .unknownSymbol }
        let shard = shardMap.shardOfSymbol[symbol]
        let message: WireMessage =
            switch command {
            case .new(let order): .newOrder(order, clientTimestampNanos: clientTimestampNanos)
            case .cancel(let cancel): .cancel(cancel, clientTimestampNanos: clientTimestampNanos)
            case .replace(let replace): .replace(replace, clientTimestampNanos: clientTimestampNanos)
            }
        guard case .success(let length) = WireFrame(shard: UInt16(shard), message: message).encode(into: outgoing)
        else { preconditionFailure("outgoing holds WireFormat.maxFrameSize bytes") }
        let sent = try? dealers[shard].send(UnsafeRawBufferPointer(rebasing: outgoing[0..<length]), dontWait: true)
        return sent == .sent ? .sent(shard: shard) : .shardUnavailable(shard: shard)
    }

    /// The next report from any shard, waiting up to `timeoutMilliseconds` (0: only what is there;
    /// -1: forever) or until the wake descriptor becomes readable. Frames that do not decode are skipped.
    public func receive(timeoutMilliseconds: Int) -> WireFrame? {
        if let frame = receiveWaiting() { return frame }
        guard timeoutMilliseconds != 0, (try? poller.poll(timeoutMilliseconds: timeoutMilliseconds)) ?? 0 > 0 else {
            return nil
        }
        return receiveWaiting()
    }

    private func receiveWaiting() -> WireFrame? {
        for dealer in dealers {
            while case .received(let count, let truncated)? = try? dealer.receive(into: frame, dontWait: true) {
                if truncated || dealer.hasMoreParts {
                    dealer.discardRemainingParts()
                    continue
                }
                if case .success(let decoded) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: frame[0..<count])) {
                    return decoded
                }
            }
        }
        return nil
    }
}
