/// A liveness signal that also tells peers how far the sender's stream has got, so a subscriber
/// notices a gap even when no event arrives.
///
/// Wire frame: `heartbeat`, 32 bytes (layout in `HeartbeatFrame` and docs/wire-format.md); the
/// header's shard is the shard whose stream `sequence` counts.
@frozen
public struct Heartbeat: Hashable, Sendable {
    /// Identifies the sending service instance (assigned by configuration).
    public var senderID: UInt32
    /// The sender's high-water mark: the last sequence number it has published (0 before any).
    public var sequence: UInt64
    /// The sender's clock when it sent the heartbeat, in nanoseconds since the Unix epoch.
    public var timestampNanos: UInt64

    /// Creates a heartbeat.
    @inlinable
    public init(senderID: UInt32, sequence: UInt64, timestampNanos: UInt64) {
        self.senderID = senderID
        self.sequence = sequence
        self.timestampNanos = timestampNanos
    }
}

/// A subscriber that saw a gap asks an engine shard for its events again.
///
/// The shard is the frame header's. Wire frame: `replayRequest`, 24 bytes (layout in
/// `ReplayRequestFrame` and docs/wire-format.md).
@frozen
public struct ReplayRequest: Hashable, Sendable {
    /// The first sequence number wanted (≥ 1).
    public var fromSequence: UInt64
    /// The last sequence number wanted, inclusive (≥ `fromSequence`).
    public var toSequence: UInt64

    /// Creates a replay request for `fromSequence...toSequence`.
    @inlinable
    public init(fromSequence: UInt64, toSequence: UInt64) {
        self.fromSequence = fromSequence
        self.toSequence = toSequence
    }
}

/// The outcome of a ``ReplayRequest``.
@frozen
public enum ReplayStatus: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The events `first...last` follow, `count` of them (possibly fewer than asked for: the
    /// engine caps one answer; ask again from `last + 1`).
    case ok = 0
    /// The start of the range has left the engine's retransmission ring: ask persistence.
    case tooOld = 1
    /// `fromSequence` is 0 or greater than `toSequence`.
    case invalidRange = 2
    /// The range starts after the last event published so far.
    case beyondLatest = 3
    /// The engine is not the shard named in the header.
    case unknownShard = 4

    /// `"ok"`, `"too_old"`, `"invalid_range"`, `"beyond_latest"` or `"unknown_shard"`.
    public var description: String {
        switch self {
        case .ok: "ok"
        case .tooOld: "too_old"
        case .invalidRange: "invalid_range"
        case .beyondLatest: "beyond_latest"
        case .unknownShard: "unknown_shard"
        }
    }
}

/// The header of an engine's answer to a ``ReplayRequest``; `count` `event` frames follow it, one
/// per ZeroMQ message part, in sequence order.
///
/// Wire frame: `replayResponse`, 32 bytes (layout in `ReplayResponseFrame` and
/// docs/wire-format.md); the header's shard is the shard replayed.
@frozen
public struct ReplayResponse: Hashable, Sendable {
    /// Whether events follow, and if not, why.
    public var status: ReplayStatus
    /// With `ok`: the sequence number of the first event that follows. Otherwise the oldest
    /// sequence number the engine can still replay (0 when it holds none).
    public var firstSequence: UInt64
    /// With `ok`: the sequence number of the last event that follows. Otherwise the last sequence
    /// number the engine has published (0 before any).
    public var lastSequence: UInt64
    /// The number of `event` frames that follow (0 unless `ok`).
    public var count: UInt32

    /// Creates a replay response.
    @inlinable
    public init(status: ReplayStatus, firstSequence: UInt64, lastSequence: UInt64, count: UInt32) {
        self.status = status
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.count = count
    }
}

/// The risk sidecar's answer to one order check (`chronos risk`, docs/risk.md): what the risk
/// engine decided for the new order or replace named by ``orderID``. The raw values are the risk
/// engine's (`RiskAction`, `RiskReason`, `ModelStatus`); ChronosCore does not interpret them.
public struct RiskVerdict: Hashable, Sendable {
    /// The order the checked command named.
    public var orderID: OrderID
    /// `RiskAction` raw value: 0 pass, 1 flag, 2 throttle, 3 reject.
    public var action: UInt8
    /// `RiskReason` raw value of the deciding limit, nil for none.
    public var reason: UInt8?
    /// `ModelStatus` raw value: 0 off, 1 failed, 2 scored.
    public var modelStatus: UInt8
    /// The model's score (0…1) when ``modelStatus`` is 2 (scored); ignored (sent as 0) otherwise.
    public var score: Float?
    /// The `clientTimestampNanos` of the request, echoed (the requester matches and times answers).
    public var clientTimestampNanos: UInt64

    public init(
        orderID: OrderID, action: UInt8, reason: UInt8?, modelStatus: UInt8, score: Float?,
        clientTimestampNanos: UInt64
    ) {
        self.orderID = orderID
        self.action = action
        self.reason = reason
        self.modelStatus = modelStatus
        self.score = score
        self.clientTimestampNanos = clientTimestampNanos
    }
}
