import CChronosSystem
import ChronosConfig
import ChronosCore
import Logging
import Messaging
import NIOConcurrencyHelpers
import NIOCore
import RiskEngine
import Runtime
import ShardClient

#if canImport(Glibc)
    import Glibc
#endif

/// What the bridge hands back to the gateway's event loop.
public enum BridgeOutput: Sendable {
    /// A report from a shard (an execution report or a shard-local reject).
    case frame(WireFrame)
    /// A command that never left the gateway: its shard has no live connection, its symbol is not
    /// in the shard map, or the risk sidecar refused it. `sentAt` is the timestamp it was submitted with.
    case notSent(EngineCommand, sentAt: UInt64, reason: NotSentReason)
}

/// Why a command never left the gateway.
public enum NotSentReason: Sendable, Equatable {
    case unknownSymbol
    case shardUnavailable
    /// The risk sidecar rejected it (or did not answer in time: ``RiskReason/unavailable``).
    case risk(RiskReason)
}

/// The gateway's one thread that talks ZeroMQ to the engine shards.
///
/// ZeroMQ sockets belong to one thread, and the gateway's sessions live on a SwiftNIO event
/// loop: the bridge owns the ``ExchangeClient`` on its own thread, takes commands from the event
/// loop through a locked queue plus a pipe whose read end wakes its `zmq_poll`, and hands reports back
/// to the event loop in batches (one `execute` per batch, not per report).
public final class EngineBridge: @unchecked Sendable {
    private let queue = NIOLockedValueBox<[(EngineCommand, UInt64)]>([])
    /// The wake-up pipe: the event loop writes a byte, `zmq_poll` sees the read end readable.
    private let wakeDescriptor: Int32
    private let wakeWriter: Int32
    private let stopping = NIOLockedValueBox(false)
    private let deliver: @Sendable ([BridgeOutput]) -> Void
    private let logger: Logger
    private var thread: ServiceThread?
    private let shardMap: ShardMap
    private let name: String
    private let context: ZMQContext
    private let cpu: Int?
    private let sidecar: Sidecar?

    /// The risk sidecar the bridge asks before sending new orders and replaces (sidecar placement).
    public struct Sidecar: Sendable {
        public var endpoint: String
        /// How long a batch waits for the sidecar's answers; unanswered commands are refused
        /// `risk_unavailable`.
        public var timeoutMilliseconds: Int32

        public init(endpoint: String, timeoutMilliseconds: Int32) {
            self.endpoint = endpoint
            self.timeoutMilliseconds = timeoutMilliseconds
        }
    }

    /// Starts the bridge thread, connected to every shard of `shardMap` as `name` (and to the risk
    /// `sidecar`, if any). `deliver` runs on the bridge thread with each batch; it must hop to the
    /// event loop itself.
    public init(
        context: ZMQContext, shardMap: ShardMap, name: String, cpu: Int? = nil, sidecar: Sidecar? = nil,
        logger: Logger, deliver: @escaping @Sendable ([BridgeOutput]) -> Void
    ) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw GatewayError.system("pipe", errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeDescriptor = fds[0]
        wakeWriter = fds[1]
        self.deliver = deliver
        self.logger = logger
        self.shardMap = shardMap
        self.name = name
        self.context = context
        self.cpu = cpu
        self.sidecar = sidecar
        thread = try ServiceThread { [self] in
            let (client, riskClient) = try connect()
            return { [self] in run(client, riskClient) }
        }
    }

    deinit {
        close(wakeDescriptor)
        close(wakeWriter)
    }

    /// Makes the bridge's poll return (a full pipe is already readable, so a failed write is fine).
    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }

    /// Queues a command for its shard (never blocks on the engine).
    public func submit(_ command: EngineCommand, timestampNanos: UInt64) {
        queue.withLockedValue { $0.append((command, timestampNanos)) }
        wake()
    }

    /// Stops the thread after sending what is queued and handing over the reports waiting;
    /// returns when it has ended.
    public func stop() {
        stopping.withLockedValue { $0 = true }
        wake()
        thread?.join()
        thread = nil
    }

    /// On the bridge thread: pins it and connects to the shards (and the risk sidecar).
    private func connect() throws -> (ExchangeClient, RiskSidecarClient?) {
        if let cpu { _ = chronos_pin_current_thread(Int32(cpu)) }
        let client = try ExchangeClient(
            context: context, shardMap: shardMap, name: name, wakeDescriptor: wakeDescriptor)
        let riskClient = try sidecar.map { try RiskSidecarClient(context: context, endpoint: $0.endpoint) }
        return (client, riskClient)
    }

    private func run(_ client: ExchangeClient, _ riskClient: RiskSidecarClient?) {
        var pending: [(EngineCommand, UInt64)] = []
        /// Per pending command with the sidecar: the refusal reason, or nil to send it on.
        var verdicts: [RiskReason?] = []
        var outputs: [BridgeOutput] = []
        outputs.reserveCapacity(256)
        while true {
            // 1. Commands from the event loop, in arrival order.
            var drain = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            _ = withUnsafeMutableBytes(of: &drain) { read(wakeDescriptor, $0.baseAddress, $0.count) }
            queue.withLockedValue { swap(&$0, &pending) }
            // With the risk sidecar: every new order and replace of the batch is checked first (all
            // requests out, then the answers in order), and only what passes goes on, in order.
            if let riskClient, let sidecar, !pending.isEmpty {
                for (command, timestamp) in pending { riskClient.requestCheck(command, timestamp: timestamp) }
                verdicts.removeAll(keepingCapacity: true)
                let deadline = SystemClock.monotonicNanoseconds() + UInt64(sidecar.timeoutMilliseconds) * 1_000_000
                for (command, timestamp) in pending {
                    if case .cancel = command {
                        verdicts.append(nil)
                        continue
                    }
                    let now = SystemClock.monotonicNanoseconds()
                    let left = now < deadline ? Int32((deadline - now + 999_999) / 1_000_000) : 0
                    let verdict = riskClient.awaitVerdict(
                        for: command.orderID, timestamp: timestamp, timeoutMilliseconds: left)
                    verdicts.append(Self.refusal(verdict))
                }
            }
            for (i, (command, timestamp)) in pending.enumerated() {
                if i < verdicts.count, let refusal = verdicts[i] {
                    outputs.append(.notSent(command, sentAt: timestamp, reason: .risk(refusal)))
                    continue
                }
                let outcome = client.submit(command, clientTimestampNanos: timestamp)
                if case .sent = outcome {
                } else if let riskClient, case .new(let order) = command {
                    riskClient.release(order)  // passed by the sidecar, never sent: free its reservation
                }
                switch outcome {
                case .sent: break
                case .unknownSymbol: outputs.append(.notSent(command, sentAt: timestamp, reason: .unknownSymbol))
                case .shardUnavailable: outputs.append(.notSent(command, sentAt: timestamp, reason: .shardUnavailable))
                }
            }
            verdicts.removeAll(keepingCapacity: true)
            pending.removeAll(keepingCapacity: true)
            // 2. Reports, as many as are waiting (bounded batch), then hand them over.
            while outputs.count < 1024, let frame = client.receive(timeoutMilliseconds: 0) {
                outputs.append(.frame(frame))
            }
            if !outputs.isEmpty {
                deliver(outputs)
                outputs = []
                outputs.reserveCapacity(256)
                continue
            }
            if stopping.withLockedValue({ $0 }) && queue.withLockedValue({ $0.isEmpty }) { break }
            // 3. Sleep until a report arrives or the event loop queues a command.
            if let frame = client.receive(timeoutMilliseconds: 100) { outputs.append(.frame(frame)) }
        }
    }
}

extension EngineBridge {
    /// The reason to refuse a command the sidecar answered `verdict` for (nil: send it on): its
    /// reject reason, or `unavailable` when it did not answer in time.
    static func refusal(_ verdict: RiskVerdict?) -> RiskReason? {
        guard let verdict else { return .unavailable }
        guard RiskAction(rawValue: verdict.action) == .reject else { return nil }
        return verdict.reason.flatMap(RiskReason.init(rawValue:)) ?? .unavailable
    }
}

/// Problems starting the gateway.
public enum GatewayError: Error, CustomStringConvertible {
    case system(String, Int32)
    case configuration(String)

    public var description: String {
        switch self {
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        case .configuration(let text): text
        }
    }
}
