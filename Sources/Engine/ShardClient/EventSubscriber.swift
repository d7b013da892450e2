import ChronosConfig
import ChronosCore
import Messaging
import Runtime

/// Follows one shard's event stream in sequence order, with no gaps: events arrive on the
/// shard's PUB socket, and whatever the subscriber missed (it joined late, or ZeroMQ dropped
/// messages at a high-water mark) is fetched from the shard's retransmission ring.
///
/// Heartbeats carry the shard's last sequence number, so a missed tail is noticed even when the
/// shard is idle. A gap older than the ring is reported as ``Failure/lost(from:to:)``: it must
/// be recovered from persistence, and the subscriber continues after it.
///
/// A shard that says nothing — not even a heartbeat — for `silenceTimeoutMilliseconds` is taken
/// to be gone (killed, restarted): the subscriber drops its connections and connects again, so a
/// restarted shard's stream is followed on from where it was (seen with libzmq: a SUB socket
/// whose ipc peer was killed does not always resume receiving from the new peer).
public final class EventSubscriber {
    /// A gap the retransmission ring could not fill (thrown once; the events after it are then
    /// delivered), or a replay endpoint that did not answer.
    public enum Failure: Error, Equatable, Sendable {
        case lost(from: UInt64, to: UInt64)
        case replayUnavailable(from: UInt64, to: UInt64)
    }

    public let shard: ShardConfiguration
    /// The sequence number the next delivered event will have.
    public private(set) var nextSequence: UInt64
    /// Events that came from the retransmission ring instead of the live stream.
    public private(set) var replayedEvents = 0
    /// Replay requests made.
    public private(set) var replayRequests = 0
    /// Frames on the live stream that were dropped unread: truncated, failing to decode, or of
    /// another shard. None of them is delivered.
    public private(set) var rejectedFrames = 0
    /// The `clientTimestampNanos` of the frame that carried the event ``next(timeoutMilliseconds:)``
    /// returned last: with the event and the shard it re-encodes that exact frame.
    public private(set) var lastClientTimestampNanos: UInt64 = 0
    private let events: ZMQSocket
    private let replay: ZMQSocket
    private var pending: [(event: EngineEvent, clientTimestampNanos: UInt64)] = []
    private var pendingIndex = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    private let outgoing = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)
    private let replayTimeoutMilliseconds: Int32
    private let silenceNanos: UInt64
    private var lastFrameAt = SystemClock.monotonicNanoseconds()
    /// Times the subscriber reconnected after the shard fell silent.
    public private(set) var reconnects = 0
    /// The sequence the shard announced last on its live stream (an event's sequence, or a
    /// heartbeat's last sequence), delivered or not; nil before the first. A reader's lag is
    /// measured against it.
    public private(set) var announcedSequence: UInt64?
    /// Live frames that announced a sequence below what was already fetched (an event below the
    /// next expected one, a heartbeat below the last fetched): the shard numbers again from lower
    /// sequences, as an engine restarted without its history does. Those events are never delivered.
    public private(set) var regressedFrames = 0

    /// Subscribes to `shard`'s events, delivering from `startSequence` on.
    public init(
        context: ZMQContext, shard: ShardConfiguration, startSequence: UInt64 = 1,
        replayTimeoutMilliseconds: Int32 = 2_000, silenceTimeoutMilliseconds: Int = 3_000
    ) throws(ZMQError) {
        silenceNanos = UInt64(max(silenceTimeoutMilliseconds, 1)) * 1_000_000
        self.shard = shard
        nextSequence = max(startSequence, 1)
        expectedSequence = nextSequence
        self.replayTimeoutMilliseconds = replayTimeoutMilliseconds
        events = try ZMQSocket(context, .subscriber)
        try events.setReceiveHighWaterMark(1_000_000)
        try events.subscribe()
        try events.connect(shard.eventsEndpoint)
        replay = try ZMQSocket(context, .dealer)
        try replay.setReceiveTimeout(milliseconds: replayTimeoutMilliseconds)
        try replay.connect(shard.replayEndpoint)
    }

    deinit {
        events.close()
        replay.close()
        buffer.deallocate()
        outgoing.deallocate()
    }

    /// The next event in sequence, waiting up to `timeoutMilliseconds` for the live stream
    /// (-1: forever); nil when nothing arrived in time.
    public func next(timeoutMilliseconds: Int32) throws(Failure) -> EngineEvent? {
        if let event = takePending() { return event }
        try? events.setReceiveTimeout(milliseconds: timeoutMilliseconds)
        while true {
            guard case .received(let count, let truncated)? = try? events.receive(into: buffer) else {
                reconnectIfSilent()
                return nil  // nothing within the timeout
            }
            lastFrameAt = SystemClock.monotonicNanoseconds()
            guard !truncated,
                case .success(let frame) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<count])),
                Int(frame.shard) == shard.id
            else {
                rejectedFrames += 1
                continue
            }
            switch frame.message {
            case .event(let event, let clientTimestampNanos):
                announcedSequence = event.sequence
                if event.sequence < expectedSequence {  // already fetched: the shard's numbering went back
                    regressedFrames += 1
                    continue
                }
                let lost = event.sequence > expectedSequence ? try fill(upTo: event.sequence - 1) : nil
                pending.append((event, clientTimestampNanos))
                expectedSequence = event.sequence + 1
                if let lost { throw lost }
                return takePending()
            case .heartbeat(let beat):
                announcedSequence = beat.sequence
                if beat.sequence + 1 < expectedSequence { regressedFrames += 1 }
                if beat.sequence >= expectedSequence {
                    let lost = try fill(upTo: beat.sequence)
                    if let lost { throw lost }
                    if let event = takePending() { return event }
                }
            default:
                continue
            }
        }
    }

    /// Reconnects both sockets when the shard has been silent for longer than the silence timeout.
    private func reconnectIfSilent() {
        let now = SystemClock.monotonicNanoseconds()
        guard now &- lastFrameAt > silenceNanos else { return }
        lastFrameAt = now
        reconnects += 1
        try? events.disconnect(shard.eventsEndpoint)
        try? events.connect(shard.eventsEndpoint)
        try? replay.disconnect(shard.replayEndpoint)
        try? replay.connect(shard.replayEndpoint)
    }

    private func takePending() -> EngineEvent? {
        guard pendingIndex < pending.count else {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            return nil
        }
        let (event, clientTimestampNanos) = pending[pendingIndex]
        pendingIndex += 1
        nextSequence = event.sequence + 1
        lastClientTimestampNanos = clientTimestampNanos
        return event
    }

    /// The sequence after the last one fetched (delivered or waiting in `pending`).
    private var expectedSequence: UInt64 = 0

    /// Fetches `expectedSequence ... last` from the retransmission ring into `pending`.
    /// - Returns: the range the ring no longer had (skipped), if any.
    private func fill(upTo last: UInt64) throws(Failure) -> Failure? {
        var lost: Failure?
        var from = expectedSequence
        defer { expectedSequence = max(expectedSequence, from) }
        while from <= last {
            replayRequests += 1
            let request = WireFrame(
                shard: UInt16(shard.id), message: .replayRequest(.init(fromSequence: from, toSequence: last)))
            guard case .success(let length) = request.encode(into: outgoing),
                (try? replay.send(UnsafeRawBufferPointer(rebasing: outgoing[0..<length]))) == .sent,
                case .received(let count, false)? = try? replay.receive(into: buffer),
                case .success(let header) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<count])),
                case .replayResponse(let response) = header.message
            else { throw .replayUnavailable(from: from, to: last) }
            switch response.status {
            case .ok:
                for _ in 0..<response.count {
                    guard case .received(let n, false)? = try? replay.receive(into: buffer),
                        case .success(let frame) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<n])),
                        case .event(let event, let clientTimestampNanos) = frame.message
                    else { throw .replayUnavailable(from: from, to: last) }
                    pending.append((event, clientTimestampNanos))
                    replayedEvents += 1
                }
                from = response.lastSequence + 1
            case .tooOld:
                // Skip what the ring no longer has (the caller recovers it elsewhere) and go on
                // with what it still holds.
                let lostUpTo = min(last, max(response.firstSequence, 1) - 1)
                lost = .lost(from: from, to: lostUpTo)
                from = lostUpTo + 1
            default:
                throw .replayUnavailable(from: from, to: last)
            }
        }
        return lost
    }
}
