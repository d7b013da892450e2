internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One HTTP/1.1 `GET` of a service's metrics endpoint (``MetricsServer``), as `chronos status`
/// and the container health check make it: SwiftNIO's HTTP client codec over one connection,
/// `Connection: close`, and one deadline for resolving, connecting, sending and reading.
///
/// Every failure is a ``Failure`` worded for an operator: `connect: Connection refused`,
/// `timed out connecting`, `timed out reading the response`, `not an HTTP response`,
/// `connection closed without an answer`, `response larger than … bytes`.
public struct MetricsProbe: Sendable {
    /// An answer: its status line, code and body.
    public struct Response: Sendable, Equatable {
        /// E.g. `HTTP/1.1 200 OK`.
        public var statusLine: String
        public var statusCode: Int
        public var body: String
    }

    /// Why the probe got no answer.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public let host: String
    public let port: Int
    public let path: String
    /// The whole probe's bound.
    public let timeout: Duration

    /// The largest response read (a Prometheus exposition of a Chronos service is a few kB).
    public static let maximumResponseBytes = 16 << 20

    public init(host: String, port: Int, path: String = "/metrics", timeout: Duration) {
        self.host = host
        self.port = port
        self.path = path
        self.timeout = timeout
    }

    /// Connects, sends the request and waits for the whole response (blocks the calling thread,
    /// which must not be one of SwiftNIO's event loops).
    public func fetch() throws(Failure) -> Response {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let nanoseconds =
            Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let deadline = NIODeadline.now() + .nanoseconds(max(1, nanoseconds))
        let exchange = ProbeExchange(promise: loop.makePromise(of: Response.self))
        let timer = loop.scheduleTask(deadline: deadline) { exchange.fail(Failure("timed out \(exchange.step)")) }
        exchange.promise.futureResult.whenComplete { _ in timer.cancel() }
        let remaining = Int64(deadline.uptimeNanoseconds) - Int64(NIODeadline.now().uptimeNanoseconds)
        let connecting: EventLoopFuture<any Channel> = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(max(1, remaining)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(exchange))
                }
            }
            .connect(host: host, port: port)
        let request = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: path,
            headers: ["Host": host, "Connection": "close", "Accept": "text/plain"])
        connecting.whenFailure { error in exchange.fail(Self.describe(error, during: "connect")) }
        connecting.whenSuccess { channel in Self.send(request, on: channel, exchange) }
        do {
            return try exchange.promise.futureResult.wait()
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Self.describe(error, during: "read")
        }
    }

    /// Sends `request` on the connected `channel`; the answer or the deadline closes it.
    private static func send(_ request: HTTPRequestHead, on channel: any Channel, _ exchange: ProbeExchange) {
        exchange.step = "sending the request"
        exchange.promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        channel.write(HTTPClientRequestPart.head(request), promise: nil)
        let sent = channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        sent.whenFailure { error in
            let closed = (error as? IOError).map { $0.errnoCode == EPIPE || $0.errnoCode == ECONNRESET } ?? false
            exchange.fail(
                closed ? Failure("connection closed without an answer") : Self.describe(error, during: "send"))
        }
        sent.whenSuccess { exchange.step = "reading the response" }
    }

    /// A SwiftNIO error in an operator's words: `call: strerror` for a system call's error
    /// (`connect: Connection refused`) made while the probe did `call`.
    static func describe(_ error: any Error, during call: String) -> Failure {
        switch error {
        case let failure as Failure: return failure
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return describe(first.error, during: call) }
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return Failure("cannot resolve \(error.host)")
            }
            return Failure("no address for \(error.host)")
        case let error as IOError: return Failure("\(call): \(String(cString: strerror(error.errnoCode)))")
        case ChannelError.connectTimeout: return Failure("timed out connecting")
        case is HTTPParserError: return Failure("not an HTTP response")
        default: return Failure("\(error)")
        }
    }
}

/// The probe's one request and answer: completed once, by the first of the answer, an error or
/// the deadline.
private final class ProbeExchange: Sendable {
    let promise: EventLoopPromise<MetricsProbe.Response>
    private let state = Mutex((step: "connecting", finished: false))

    init(promise: EventLoopPromise<MetricsProbe.Response>) { self.promise = promise }

    /// What the probe is doing, for a timeout's message.
    var step: String {
        get { state.withLock { $0.step } }
        set { state.withLock { $0.step = newValue } }
    }

    func succeed(_ response: MetricsProbe.Response) {
        if finish() { promise.succeed(response) }
    }

    func fail(_ failure: MetricsProbe.Failure) {
        if finish() { promise.fail(failure) }
    }

    /// True for the first caller only.
    private func finish() -> Bool {
        state.withLock { state in
            defer { state.finished = true }
            return !state.finished
        }
    }
}

/// Collects the response's head and body; the end of the message (or the connection) completes it.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let exchange: ProbeExchange
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(_ exchange: ProbeExchange) { self.exchange = exchange }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let chunk):
            body += chunk.readableBytesView
            if body.count > MetricsProbe.maximumResponseBytes {
                exchange.fail(.init("response larger than \(MetricsProbe.maximumResponseBytes) bytes"))
                context.close(promise: nil)
            }
        case .end:
            guard let head else { return }
            exchange.succeed(
                .init(
                    statusLine:
                        "HTTP/\(head.version.major).\(head.version.minor) \(head.status.code) \(head.status.reasonPhrase)",
                    statusCode: Int(head.status.code), body: String(decoding: body, as: UTF8.self)))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A peer that resets the connection before answering closed it without an answer.
        if head == nil, let error = error as? IOError, error.errnoCode == ECONNRESET {
            exchange.fail(.init("connection closed without an answer"))
        } else {
            exchange.fail(MetricsProbe.describe(error, during: "read"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        exchange.fail(.init(head == nil ? "connection closed without an answer" : "connection closed mid-answer"))
        context.fireChannelInactive()
    }
}
