import ChronosConfig
import LoadGenerator
import NIOPosix
import TestSupport
import Testing

/// The load generator as `chronos loadgen` drives it, against real servers: its loopback echo
/// floor, and a spawned `chronos run` over binary TCP, binary UDP and FIX. Every order must get
/// its answer, and the crossing flow must trade.
@Suite(.serialized) struct LoadGeneratorTests {
    static let sessions = 2
    static let orders = 300

    @Test(arguments: [LoadgenEchoServer.Transport.tcp, .udp])
    func theFloorAnswersEveryOrder(_ transport: LoadgenEchoServer.Transport) async throws {
        let echo = try await LoadgenEchoServer.start(transport)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let result = try await LoadgenRunner.run(
            label: "floor",
            target: .init(transport: transport == .udp ? .binaryUDP : .binaryTCP, host: "127.0.0.1", port: echo.port),
            logins: (1...Self.sessions).map { .binary(username: "floor\($0)", password: "", account: 1) },
            plan: try Self.plan(ExchangeConfiguration()), duration: 60, answerTimeout: 10, loop: group.next())
        await echo.stop()
        try await group.shutdownGracefully()
        #expect(result.sent == Self.sessions * Self.orders && result.answered == result.sent, "\(result)")
        #expect(result.unanswered == 0 && result.rejected == 0)
        #expect(result.latency.totalCount == UInt64(result.answered))
    }

    @Test func aSpawnedExchangeAnswersEveryOrderOnEachProtocol() async throws {
        let binary = try #require(TestSupport.chronosBinary, "build chronos first")
        let exchange = try await LoadgenExchangeProcess.start(sessions: Self.sessions, executable: binary.path)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { exchange.removeDirectory() }
        var failures: [String] = []
        let endpoints: [(LoadgenTransport, LoadgenExchangeProcess.Endpoint?)] = [
            (.binaryTCP, exchange.binary), (.binaryUDP, exchange.udp), (.fix, exchange.fix),
        ]
        for (transport, endpoint) in endpoints {
            guard let endpoint else {
                failures.append("no \(transport) listener in the ready line")
                continue
            }
            let logins = try LoadgenLogin.first(
                Self.sessions, of: exchange.configuration, for: transport, source: "the spawned configuration")
            let result = try await LoadgenRunner.run(
                label: "exchange", target: .init(transport: transport, host: endpoint.host, port: endpoint.port),
                logins: logins, plan: try Self.plan(exchange.configuration), duration: 60, answerTimeout: 10,
                loop: group.next())
            #expect(result.sent == Self.sessions * Self.orders, "\(transport): \(result)")
            #expect(result.answered == result.sent && result.unanswered == 0, "\(transport): \(result)")
            #expect(result.rejected == 0, "\(transport): \(result.rejectReasons)")
            #expect(result.fills > 0, "\(transport): the crossing flow never traded")
        }
        try await group.shutdownGracefully()
        let (status, how) = await exchange.stop()
        #expect(status == 0, "the exchange ended with \(how): \(exchange.logTail)")
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func tooFewConfiguredSessionsIsAConfigurationError() throws {
        #expect(throws: LoadgenError.self) {
            try LoadgenLogin.first(50, of: ExchangeConfiguration(), for: .fix, source: "the default")
        }
    }

    /// The default symbols' flow for ``orders`` orders per session, 16 in flight.
    static func plan(_ exchange: ExchangeConfiguration) throws -> LoadgenPlan {
        let plan = LoadgenPlan(
            symbols: exchange.liveSymbols, ordersPerSession: orders, window: 16,
            runStamp: UInt64.random(in: 1...1_000_000))
        try #require(!plan.symbols.isEmpty)
        return plan
    }
}
