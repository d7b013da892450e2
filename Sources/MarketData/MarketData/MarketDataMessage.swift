import ChronosCore

/// A symbol's last market-data sequence number, announced periodically so that a consumer
/// notices lost updates even while the symbol is quiet (``MarketDataReplica/applyHeartbeat(lastSequence:)``).
///
/// Wire frame: `marketDataHeartbeat`, 32 bytes (``MarketDataFrame``, docs/wire-format.md).
@frozen
public struct MarketDataHeartbeat: Hashable, Sendable {
    /// The symbol.
    public var symbol: SymbolID
    /// The symbol's last published market-data sequence number (0 before its first update).
    public var lastSequence: UInt64
    /// The per-shard sequence number of the last engine event the publisher's book applied.
    public var eventSequence: UInt64
    /// True when the publisher's book of the symbol may differ from the engine's (lost events, a
    /// full table: ``MarketDataBook/isImpaired(_:)``).
    public var impaired: Bool

    /// Creates a heartbeat.
    @inlinable
    public init(symbol: SymbolID, lastSequence: UInt64, eventSequence: UInt64, impaired: Bool = false) {
        self.symbol = symbol
        self.lastSequence = lastSequence
        self.eventSequence = eventSequence
        self.impaired = impaired
    }
}

/// A consumer asks for one symbol's snapshot (on the snapshot endpoint, a ROUTER).
///
/// Wire frame: `marketDataSnapshotRequest`, 24 bytes.
@frozen
public struct SnapshotRequest: Hashable, Sendable {
    /// Any number the consumer chooses; the answer echoes it (0 is the periodic snapshots' number).
    public var requestID: UInt64
    /// The symbol wanted.
    public var symbol: SymbolID
    /// The best `depth` levels per side; 0 for every level (a replica needs every level).
    public var depth: UInt32

    /// Creates a request.
    @inlinable
    public init(requestID: UInt64, symbol: SymbolID, depth: UInt32 = 0) {
        self.requestID = requestID
        self.symbol = symbol
        self.depth = depth
    }
}

/// Whether a snapshot answer carries a snapshot (an `Error` too: the reason of a refusal).
@frozen
public enum SnapshotStatus: UInt8, Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The snapshot follows: `bidCount` then `offerCount` level frames.
    case ok = 0
    /// The symbol is not one of the shard's: no levels follow.
    case unknownSymbol = 1
    /// The request was not a valid `marketDataSnapshotRequest` frame: no levels follow (the
    /// request id is 0 when it could not be read).
    case badRequest = 2

    /// `"ok"`, `"unknown_symbol"` or `"bad_request"`.
    public var description: String {
        switch self {
        case .ok: "ok"
        case .unknownSymbol: "unknown_symbol"
        case .badRequest: "bad_request"
        }
    }
}

/// The first frame of a snapshot: on the PUB socket (periodic, request id 0) and as the answer to
/// a ``SnapshotRequest``. With ``SnapshotStatus/ok``, `bidCount` bid levels (best first) then
/// `offerCount` offer levels follow, one `marketDataLevel` frame per message part (action `new`,
/// numbered with the snapshot's sequence).
///
/// Wire frame: `marketDataSnapshot`, 48 bytes.
@frozen
public struct SnapshotHeader: Hashable, Sendable {
    /// The request answered; 0 for a periodic snapshot.
    public var requestID: UInt64
    /// Whether levels follow.
    public var status: SnapshotStatus
    /// The symbol.
    public var symbol: SymbolID
    /// See ``MarketDataSnapshot/sequence``.
    public var sequence: UInt64
    /// See ``MarketDataSnapshot/eventSequence``.
    public var eventSequence: UInt64
    /// Bid levels that follow.
    public var bidCount: UInt32
    /// Offer levels that follow (after the bids).
    public var offerCount: UInt32
    /// See ``MarketDataSnapshot/isComplete``.
    public var isComplete: Bool
    /// See ``MarketDataHeartbeat/impaired``.
    public var impaired: Bool

    /// Creates a snapshot header.
    @inlinable
    public init(
        requestID: UInt64, status: SnapshotStatus, symbol: SymbolID, sequence: UInt64 = 0, eventSequence: UInt64 = 0,
        bidCount: UInt32 = 0, offerCount: UInt32 = 0, isComplete: Bool = false, impaired: Bool = false
    ) {
        self.requestID = requestID
        self.status = status
        self.symbol = symbol
        self.sequence = sequence
        self.eventSequence = eventSequence
        self.bidCount = bidCount
        self.offerCount = offerCount
        self.isComplete = isComplete
        self.impaired = impaired
    }

    /// The header of `snapshot`, answering `requestID`.
    public init(_ snapshot: MarketDataSnapshot, requestID: UInt64, impaired: Bool) {
        self.init(
            requestID: requestID, status: .ok, symbol: snapshot.symbol, sequence: snapshot.sequence,
            eventSequence: snapshot.eventSequence, bidCount: UInt32(clamping: snapshot.bids.count),
            offerCount: UInt32(clamping: snapshot.offers.count), isComplete: snapshot.isComplete, impaired: impaired)
    }

    /// The level frame of `level` on `side`, as a snapshot under this header carries it.
    public func levelUpdate(_ side: Side, _ level: LevelSummary) -> LevelUpdate {
        LevelUpdate(
            symbol: symbol, sequence: sequence, eventSequence: eventSequence, action: .new, side: side,
            price: level.price, quantity: level.quantity, orderCount: level.orderCount)
    }
}

/// Everything the market-data service and its consumers exchange: what one ``MarketDataFrame``
/// holds.
@frozen
public enum MarketDataMessage: Hashable, Sendable {
    /// A level, trade or best bid/offer update (frames `marketDataLevel`, `marketDataTrade`,
    /// `marketDataBestBidOffer`).
    case update(MarketDataUpdate)
    /// A symbol's last sequence number (`marketDataHeartbeat`).
    case heartbeat(MarketDataHeartbeat)
    /// A snapshot request (`marketDataSnapshotRequest`).
    case snapshotRequest(SnapshotRequest)
    /// The first frame of a snapshot or of a refusal (`marketDataSnapshot`).
    case snapshot(SnapshotHeader)
}
