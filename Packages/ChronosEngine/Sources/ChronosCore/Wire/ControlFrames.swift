// The control frames: heartbeat, replayRequest, replayResponse. Offsets are from the start of the
// frame; bytes 0–7 are the common header (`WireFormat`), whose shard field names the shard the
// heartbeat's sequence or the replay is about.

import FencedCollections

/// Encodes and decodes a `heartbeat` frame (type 7), 32 bytes:
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 7, length 32, shard, flags 0
///      8    8 UInt64  sequence              last sequence number published (high-water)
///     16    8 UInt64  timestampNanos        sender's clock, ns since the Unix epoch
///     24    4 UInt32  senderID              sending service instance
///     28    4         padding               0
/// ```
enum HeartbeatFrame {
    static func encode(_ heartbeat: Heartbeat, _ writer: ByteWriter) {
        writer.put(heartbeat.sequence, at: 8)
        writer.put(heartbeat.timestampNanos, at: 16)
        writer.put(heartbeat.senderID, at: 24)
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let heartbeat = Heartbeat(senderID: fields.u32(24), sequence: fields.u64(8), timestampNanos: fields.u64(16))
        fields.zero(28..<32)
        return .heartbeat(heartbeat)
    }
}

/// Encodes and decodes a `replayRequest` frame (type 8), 24 bytes:
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 8, length 24, shard, flags 0
///      8    8 UInt64  fromSequence          first sequence number wanted
///     16    8 UInt64  toSequence            last sequence number wanted, inclusive
/// ```
enum ReplayRequestFrame {
    static func encode(_ request: ReplayRequest, _ writer: ByteWriter) {
        writer.put(request.fromSequence, at: 8)
        writer.put(request.toSequence, at: 16)
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        .replayRequest(ReplayRequest(fromSequence: fields.u64(8), toSequence: fields.u64(16)))
    }
}

/// Encodes and decodes a `replayResponse` frame (type 9), 32 bytes; `count` `event` frames follow
/// in the next message parts:
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 9, length 32, shard, flags 0
///      8    8 UInt64  firstSequence         ok: first event that follows;
///                                           else: oldest sequence still replayable
///     16    8 UInt64  lastSequence          ok: last event that follows;
///                                           else: last sequence published
///     24    4 UInt32  count                 event frames that follow (0 unless ok)
///     28    1 UInt8   replayStatus          0 ok, 1 tooOld, 2 invalidRange, 3 beyondLatest,
///                                           4 unknownShard
///     29    3         padding               0
/// ```
enum ReplayResponseFrame {
    static func encode(_ response: ReplayResponse, _ writer: ByteWriter) {
        writer.put(response.firstSequence, at: 8)
        writer.put(response.lastSequence, at: 16)
        writer.put(response.count, at: 24)
        writer.put(response.status.rawValue, at: 28)
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let response = ReplayResponse(
            status: fields.enumeration(28, .replayStatus, placeholder: .ok), firstSequence: fields.u64(8),
            lastSequence: fields.u64(16), count: fields.u32(24))
        fields.zero(29..<32)
        return .replayResponse(response)
    }
}

/// Encodes and decodes a `riskDecision` frame (type 10), 32 bytes: the risk sidecar's answer to
/// a `newOrder` or `replace` frame sent to it.
///
/// ```
/// offset size type    field                 meaning
/// ------ ---- ------- --------------------- ----------------------------------------------
///      0    8         header                version 1, type 10, length 32, shard 0, flags 0
///      8    8 UInt64  orderID               the order the checked command named
///     16    8 UInt64  clientTimestampNanos  the request's timestamp, echoed
///     24    1 UInt8   action                0 pass, 1 flag, 2 throttle, 3 reject
///     25    1 UInt8   reason                risk reason code (docs/risk.md), 255 none
///     26    1 UInt8   modelStatus           0 off, 1 failed, 2 scored
///     27    1         padding               0
///     28    4 Float32 score                 IEEE 754 bits when modelStatus is 2 (scored), else 0
/// ```
enum RiskDecisionFrame {
    static func encode(_ verdict: RiskVerdict, _ writer: ByteWriter) {
        writer.put(verdict.orderID.rawValue, at: 8)
        writer.put(verdict.clientTimestampNanos, at: 16)
        writer.put(verdict.action, at: 24)
        writer.put(verdict.reason ?? 255, at: 25)
        writer.put(verdict.modelStatus, at: 26)
        if verdict.modelStatus == 2 { writer.put((verdict.score ?? .nan).bitPattern, at: 28) }
    }

    static func decode(_ fields: inout WireFieldDecoder) -> WireMessage {
        let action = fields.u8(24)
        if action > 3 { fields.fail(.badEnum(.riskAction, action)) }
        let status = fields.u8(26)
        if status > 2 { fields.fail(.badEnum(.modelStatus, status)) }
        fields.zero(27..<28)
        let reason = fields.u8(25)
        var score: Float?
        if status == 2 { score = Float(bitPattern: fields.u32(28)) } else { fields.zero(28..<32) }
        return .riskDecision(
            RiskVerdict(
                orderID: OrderID(fields.u64(8)), action: action, reason: reason == 255 ? nil : reason,
                modelStatus: status, score: score, clientTimestampNanos: fields.u64(16)))
    }
}
