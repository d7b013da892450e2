import Logging
internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix
import Prometheus
import ServiceLifecycle

/// Serves the Prometheus registry as `GET /metrics` (text exposition format 0.0.4) on a
/// loopback or configured address, as a service: bound when it starts, closed on graceful shutdown.
public struct MetricsServer: Service {
    public let host: String
    /// The port to bind; 0 picks a free one (logged).
    public let port: Int
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    /// Called with the bound port once listening (tests, logs).
    let onBound: @Sendable (Int) -> Void

    public init(
        host: String = "127.0.0.1", port: Int, registry: PrometheusCollectorRegistry, logger: Logger,
        onBound: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let registry = self.registry
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
                }
            }
            .bind(host: host, port: port).get()
        let boundPort = channel.localAddress?.port ?? port
        logger.info("metrics endpoint listening", metadata: ["url": "http://\(host):\(boundPort)/metrics"])
        onBound(boundPort)
        try? await gracefulShutdown()
        try await channel.close()
    }
}

/// Answers `GET /metrics` with the registry's exposition, anything else with 404 or 405.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private var head: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let (status, body, contentType): (HTTPResponseStatus, [UInt8], String) =
                if head.method != .GET {
                    (.methodNotAllowed, Array("only GET\n".utf8), "text/plain")
                } else if head.uri.split(separator: "?").first != "/metrics" {
                    (.notFound, Array("try /metrics\n".utf8), "text/plain")
                } else {
                    (.ok, registry.emitToBuffer(), "text/plain; version=0.0.4; charset=utf-8")
                }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in loopBound.value.close(promise: nil) }
            }
        }
    }
}
