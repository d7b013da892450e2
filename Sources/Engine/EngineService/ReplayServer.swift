import ChronosCore
import Journal
import Messaging
import Synchronization

/// A shard's replay socket on its own thread: answers ``ReplayRequest``s with the events the
/// journal holds, up to the last one the shard released (so that nothing reaches a subscriber
/// before it reached the gateways, and with `machine` durability before it is on the device).
///
/// Off the engine thread on purpose: a subscriber catching up an hour asks for millions of
/// events, which must not hold up matching.
final class ReplayServer: @unchecked Sendable {
    let configuration: EngineShard.Configuration
    let files: JournalFiles
    let counters: EngineShardCounters
    let metrics: ShardMetrics
    private var socket: ZMQSocket?
    private var reader: JournalReader?
    private let identityBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    private let inFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    private let outFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 16)

    init(_ configuration: EngineShard.Configuration, files: JournalFiles, counters: EngineShardCounters) {
        self.configuration = configuration
        self.files = files
        self.counters = counters
        metrics = ShardMetrics(shard: configuration.shard.id)
    }

    deinit {
        socket?.close()
        identityBuffer.deallocate()
        inFrame.deallocate()
        outFrame.deallocate()
    }

    /// Binds the replay endpoint and opens the journal for reading (on the server's thread).
    func bind(_ context: ZMQContext) throws {
        let socket = try ZMQSocket(context, .router)
        try socket.setRouterMandatory(true)
        try socket.bind(configuration.shard.replayEndpoint)
        self.socket = socket
        reader = try JournalReader(directory: files.directory)
    }

    func run(until stopping: borrowing Atomic<Bool>) {
        guard let socket else { return }
        let poller = ZMQPoller([socket])
        while !stopping.load(ordering: .acquiring) {
            _ = try? poller.poll(timeoutMilliseconds: 50)
            while drainOne(socket) {}
        }
        socket.close()
        self.socket = nil
    }

    /// Answers one waiting request; false when none was waiting.
    private func drainOne(_ socket: ZMQSocket) -> Bool {
        guard case .received(let idCount, let idTruncated)? = try? socket.receive(into: identityBuffer, dontWait: true)
        else { return false }
        guard socket.hasMoreParts, !idTruncated,
            case .received(let count, let truncated)? = try? socket.receive(into: inFrame, dontWait: true),
            !truncated, !socket.hasMoreParts,
            case .success(let frame) = WireFrame.decode(UnsafeRawBufferPointer(rebasing: inFrame[0..<count])),
            case .replayRequest(let request) = frame.message
        else {
            socket.discardRemainingParts()
            counters.badFrames.add(1, ordering: .relaxed)
            metrics.badFrames.increment()
            return true
        }
        counters.replayRequests.add(1, ordering: .relaxed)
        metrics.replayRequests.increment()
        answer(request, shard: frame.shard, to: UnsafeRawBufferPointer(rebasing: identityBuffer[0..<idCount]), socket)
        return true
    }

    private func answer(
        _ request: ReplayRequest, shard: UInt16, to identity: UnsafeRawBufferPointer, _ socket: ZMQSocket
    ) {
        let last = counters.releasedSequence.load(ordering: .acquiring)
        try? reader?.refresh()
        let first = max(reader?.firstSequence ?? 1, 1)
        var response = ReplayResponse(status: .ok, firstSequence: first, lastSequence: last, count: 0)
        if shard != UInt16(configuration.shard.id) {
            response.status = .unknownShard
        } else if request.fromSequence == 0 || request.fromSequence > request.toSequence {
            response.status = .invalidRange
        } else if request.fromSequence > last {
            response.status = .beyondLatest
        } else if request.fromSequence < first {
            response.status = .tooOld
        } else {
            let to = min(request.toSequence, last, request.fromSequence + UInt64(configuration.maxReplayEvents) - 1)
            response = ReplayResponse(
                status: .ok, firstSequence: request.fromSequence, lastSequence: to,
                count: UInt32(to - request.fromSequence + 1))
        }
        // The frames must all be there before the answer promises them.
        if response.status == .ok,
            let missing = (response.firstSequence...response.lastSequence).first(where: {
                (try? reader?.frame($0)) == nil
            })
        {
            if missing > response.firstSequence {
                response.lastSequence = missing - 1
                response.count = UInt32(missing - response.firstSequence)
            } else {
                // Gone from the journal (pruned, or damaged): the subscriber records the range as lost.
                var next = missing + 1
                while next <= last, (try? reader?.frame(next)) == nil { next += 1 }
                response = ReplayResponse(status: .tooOld, firstSequence: next, lastSequence: last, count: 0)
            }
        }
        guard
            case .success(let n) = WireFrame(shard: UInt16(configuration.shard.id), message: .replayResponse(response))
                .encode(into: outFrame)
        else { return }
        do {
            try socket.send(identity, more: true)
            try socket.send(UnsafeRawBufferPointer(rebasing: outFrame[0..<n]), more: response.count > 0)
            if response.status == .ok {
                for s in response.firstSequence...response.lastSequence {
                    guard let frame = try reader?.frame(s) else { return }
                    try socket.send(frame, more: s < response.lastSequence)
                }
            }
        } catch {
            counters.undeliveredReports.add(1, ordering: .relaxed)
            metrics.undeliveredReports.increment()
        }
    }
}
