import ChronosCore
import MarketData
import Messaging

/// One shard's snapshot endpoint (a ROUTER): answers each ``SnapshotRequest`` with the symbol's
/// snapshot from the shard's ``MarketDataBook``.
///
/// A request is `[marketDataSnapshotRequest]` from a DEALER (or `[empty][request]` from a REQ
/// socket); the answer mirrors the envelope: `[marketDataSnapshot][marketDataLevel]…`. A symbol
/// that is not the shard's gets status `unknown_symbol`; anything that is not one request frame
/// gets `bad_request` (request id 0 when it could not be read) and is counted — never a crash.
/// Answers never block: a requester whose queue is full, or gone, loses the answer (it asks again).
final class SnapshotResponder {
    /// What ``drain(book:isShardSymbol:)`` did, for the counters.
    struct Tally {
        var served = 0
        var unknownSymbol = 0
        var badRequests = 0
        var failedSends = 0
    }

    let socket: ZMQSocket
    /// The bound endpoint (the real port when the configuration asked for `tcp://HOST:*`).
    let endpoint: String
    private let sender: FrameSender
    private let identity = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    private let request = UnsafeMutableRawBufferPointer.allocate(
        byteCount: MarketDataFrameType.maxFrameSize, alignment: 16)

    init(context: ZMQContext, endpoint: String, shard: Int) throws(ZMQError) {
        socket = try ZMQSocket(context, .router)
        try socket.setRouterMandatory(true)
        try socket.bind(endpoint)
        self.endpoint = (try? socket.lastEndpoint()) ?? endpoint
        sender = FrameSender(shard: shard)
    }

    deinit {
        socket.close()
        identity.deallocate()
        request.deallocate()
    }

    /// Answers up to `limit` waiting requests from `book`; `isShardSymbol` tells the shard's
    /// symbols. Returns what it did.
    func drain(book: MarketDataBook, limit: Int = 64, isShardSymbol: (SymbolID) -> Bool) -> Tally {
        var tally = Tally()
        for _ in 0..<limit {
            guard case .received(let idCount, let idTruncated)? = try? socket.receive(into: identity, dontWait: true)
            else { break }
            let routingID = UnsafeRawBufferPointer(rebasing: identity[0..<min(idCount, identity.count)])
            guard !idTruncated, socket.hasMoreParts else {
                socket.discardRemainingParts()
                tally.badRequests += 1
                continue  // no body, or an identity we cannot echo: nothing to answer
            }
            var delimited = false
            var part = try? socket.receive(into: request, dontWait: true)
            if case .received(0, _)? = part, socket.hasMoreParts {  // REQ's empty delimiter
                delimited = true
                part = try? socket.receive(into: request, dontWait: true)
            }
            let answer: SnapshotHeader
            var snapshot: MarketDataSnapshot?
            if case .received(let count, false)? = part, !socket.hasMoreParts,
                case .success(let frame) = MarketDataFrame.decode(UnsafeRawBufferPointer(rebasing: request[0..<count])),
                case .snapshotRequest(let asked) = frame.message
            {
                if isShardSymbol(asked.symbol),
                    let taken = book.snapshot(asked.symbol, depth: asked.depth == 0 ? .max : Int(asked.depth))
                {
                    snapshot = taken
                    answer = SnapshotHeader(taken, requestID: asked.requestID, impaired: book.isImpaired(asked.symbol))
                    tally.served += 1
                } else {
                    answer = SnapshotHeader(requestID: asked.requestID, status: .unknownSymbol, symbol: asked.symbol)
                    tally.unknownSymbol += 1
                }
            } else {
                socket.discardRemainingParts()
                answer = SnapshotHeader(requestID: 0, status: .badRequest, symbol: SymbolID(0))
                tally.badRequests += 1
            }
            var sent = sender.sendPrefix(routingID, on: socket)
            if sent, delimited { sent = sender.sendPrefix(UnsafeRawBufferPointer(start: nil, count: 0), on: socket) }
            if sent { sent = sender.sendSnapshot(answer, snapshot, on: socket) }
            if !sent { tally.failedSends += 1 }
        }
        return tally
    }
}
