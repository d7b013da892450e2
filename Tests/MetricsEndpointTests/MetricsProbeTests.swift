import Logging
import MetricsEndpoint
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import TestSupport
import Testing

/// `chronos status`'s HTTP probe against the real metrics endpoint, and against servers that
/// refuse, never answer, answer something that is not HTTP, or close without answering: each
/// gives its operator-worded failure, none hangs past the probe's timeout.
@Suite struct MetricsProbeTests {
    @Test func theMetricsEndpointAnswersWithItsExposition() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "chronos_probe_test_total").increment(by: Int64(42))
        let (bound, continuation) = AsyncStream<Int>.makeStream()
        let server = MetricsServer(port: 0, registry: registry, logger: Logger(label: "test")) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        var ports = bound.makeAsyncIterator()
        let port = try #require(await ports.next())
        try await offThePool {
            let answer = try MetricsProbe(host: "127.0.0.1", port: port, timeout: .seconds(5)).fetch()
            #expect(answer.statusCode == 200 && answer.statusLine == "HTTP/1.1 200 OK")
            #expect(answer.body.contains("chronos_probe_test_total 42"), "\(answer.body)")
            let missing = try MetricsProbe(host: "127.0.0.1", port: port, path: "/nothing", timeout: .seconds(5))
                .fetch()
            #expect(missing.statusCode == 404 && missing.body == "try /metrics\n")
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func aPortWhereNothingListensIsRefused() async throws {
        let port = try await TinyServer.start(.closeAtOnce).closedPort()
        try await offThePool {
            #expect(throws: MetricsProbe.Failure("connect: Connection refused")) {
                try MetricsProbe(host: "127.0.0.1", port: port, timeout: .seconds(5)).fetch()
            }
        }
    }

    @Test(arguments: [
        (TinyServer.Behaviour.silent, "timed out reading the response"),
        (.garbage, "not an HTTP response"),
        (.closeAtOnce, "connection closed without an answer"),
    ])
    func aServerThatDoesNotAnswerHTTPFails(_ behaviour: TinyServer.Behaviour, _ failure: String) async throws {
        let server = try await TinyServer.start(behaviour)
        try await offThePool {
            #expect(throws: MetricsProbe.Failure(failure)) {
                try MetricsProbe(host: "127.0.0.1", port: server.port, timeout: .milliseconds(500)).fetch()
            }
        }
        try await server.channel.close()
    }

    @Test func aNameThatDoesNotResolveFails() async throws {
        try await offThePool {
            do {
                _ = try MetricsProbe(host: "no-such-host.invalid", port: 9464, timeout: .seconds(5)).fetch()
                Issue.record("a name that does not resolve answered")
            } catch {
                #expect("\(error)".contains("no-such-host.invalid"), "\(error)")
            }
        }
    }
}

/// A loopback TCP server that misbehaves as told.
struct TinyServer {
    enum Behaviour: Sendable, CustomStringConvertible {
        /// Accepts and never writes.
        case silent
        /// Answers with bytes that are not HTTP, then closes.
        case garbage
        /// Closes each connection as it is accepted.
        case closeAtOnce

        var description: String {
            switch self {
            case .silent: "silent"
            case .garbage: "garbage"
            case .closeAtOnce: "closeAtOnce"
            }
        }
    }

    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    static func start(_ behaviour: Behaviour) async throws -> TinyServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                switch behaviour {
                case .silent:
                    return child.eventLoop.makeSucceededVoidFuture()
                case .garbage:
                    return child.pipeline.addHandler(GarbageAnswer())
                case .closeAtOnce:
                    return child.close()
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TinyServer(channel: channel)
    }

    /// Closes the server and returns its port, where nothing listens any more.
    func closedPort() async throws -> Int {
        let port = self.port
        try await channel.close()
        return port
    }
}

/// Answers a new connection with bytes that are not HTTP, then closes it.
final class GarbageAnswer: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(ByteBuffer(string: "SSH-2.0-OpenSSH\r\n\r\n\r\n")), promise: nil)
        context.close(promise: nil)
    }
}
