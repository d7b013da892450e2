import ChronosCore
import MarketData
import Messaging

/// One shard's market-data PUB socket: every update, heartbeat and periodic snapshot as a
/// message `[topic][frame]…` whose first part is the symbol's ``MarketDataTopic``, so that
/// subscribers filter by symbol.
///
/// ZeroMQ's PUB socket never blocks: a subscriber whose queue holds `send_high_water_mark`
/// messages loses the next ones (it sees a gap and recovers by snapshot); the others are not
/// held up. Those drops happen inside libzmq and are invisible here; what the publisher can see —
/// a send refused or failing — is counted in ``failedSends``.
final class MarketDataPublisher {
    let socket: ZMQSocket
    /// The bound endpoint (the real port when the configuration asked for `tcp://HOST:*`).
    let endpoint: String
    /// Messages that could not be sent (refused or failed), since the start.
    private(set) var failedSends = 0
    private let sender: FrameSender
    /// The topic of each symbol, by `SymbolID` raw value.
    private let topics: [[UInt8]]

    /// Binds `endpoint` with `highWaterMark` messages per subscriber; `symbolNames` by `SymbolID`.
    init(
        context: ZMQContext, endpoint: String, shard: Int, symbolNames: [String], highWaterMark: Int
    ) throws(ZMQError) {
        socket = try ZMQSocket(context, .publisher)
        try socket.setSendHighWaterMark(Int32(clamping: highWaterMark))
        try socket.bind(endpoint)
        self.endpoint = (try? socket.lastEndpoint()) ?? endpoint
        sender = FrameSender(shard: shard)
        topics = symbolNames.map(MarketDataTopic.bytes)
    }

    deinit { socket.close() }

    /// Publishes one update: `[topic][frame]`. No allocation in Swift.
    @discardableResult
    func publish(_ update: MarketDataUpdate) -> Bool {
        send(update.symbol) { sender.send(.update(update), on: socket) }
    }

    /// Publishes a symbol's heartbeat: `[topic][marketDataHeartbeat]`.
    @discardableResult
    func publish(_ heartbeat: MarketDataHeartbeat) -> Bool {
        send(heartbeat.symbol) { sender.send(.heartbeat(heartbeat), on: socket) }
    }

    /// Publishes a periodic snapshot: `[topic][marketDataSnapshot][marketDataLevel]…`, request id 0.
    @discardableResult
    func publish(_ snapshot: MarketDataSnapshot, impaired: Bool) -> Bool {
        send(snapshot.symbol) {
            sender.sendSnapshot(SnapshotHeader(snapshot, requestID: 0, impaired: impaired), snapshot, on: socket)
        }
    }

    private func send(_ symbol: SymbolID, _ body: () -> Bool) -> Bool {
        let index = Int(symbol.rawValue)
        guard index < topics.count else {
            failedSends += 1
            return false
        }
        let sent = topics[index].withUnsafeBytes { sender.sendPrefix($0, on: socket) } && body()
        if !sent { failedSends += 1 }
        return sent
    }
}
