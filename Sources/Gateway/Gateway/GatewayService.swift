import CChronosSystem
import ChronosConfig
import ChronosCore
import Foundation
import Logging
import Messaging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RiskEngine
import Runtime
import ServiceLifecycle

/// The addresses the gateway listens on, once bound (nil: that listener is off).
public struct GatewayAddresses: Sendable, CustomStringConvertible {
    public var fix: SocketAddress?
    public var binary: SocketAddress?
    public var udp: SocketAddress?

    /// `fix=127.0.0.1:9878 binary=127.0.0.1:9879 udp=127.0.0.1:9880` (what `chronos` prints when ready).
    public var description: String {
        func text(_ address: SocketAddress?) -> String {
            guard let address, let ip = address.ipAddress, let port = address.port else { return "off" }
            return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        }
        return "fix=\(text(fix)) binary=\(text(binary)) udp=\(text(udp))"
    }
}

/// The gateway as a service: FIX 4.4 and binary TCP listeners, the binary UDP endpoint, the
/// sessions, and the bridge to the engine shards.
///
/// Threads: one SwiftNIO event loop holds every connection and all session state (no locks on
/// the order path); one bridge thread owns the ZeroMQ sockets to the shards. Scale out by running
/// more gateways behind an L4 load balancer, each with its own `name` and `id`.
///
/// Shutdown (SIGTERM/SIGINT through the service group): stop listening, refuse new orders,
/// wait up to `drainTimeout` for the engine's answers to commands in flight, log every session
/// out, then stop the bridge.
public final class GatewayService: Service, @unchecked Sendable {
    public let exchange: ExchangeConfiguration
    private let context: ZMQContext
    private let logger: Logger
    private let onReady: @Sendable (GatewayAddresses) -> Void
    private let makeScorer: @Sendable () throws -> SpoofingScorer?
    private let lastTradePrices: @Sendable () -> [SymbolID: Price]
    /// Hands new account limits to the running gateway's risk engine (set while it runs).
    private let accountUpdates = NIOLockedValueBox<(@Sendable (RiskConfiguration) -> Void)?>(nil)
    public var drainTimeout: Duration = .seconds(2)

    /// A gateway for `exchange` (its `[gateway]` table, symbols and shard map) that will connect to
    /// the shards in `context`; `onReady` runs once all listeners are bound. `makeScorer` loads the
    /// spoofing model for inline risk; it runs on the gateway's event loop, which owns the model.
    /// `lastTradePrices` (called once at start, after the shards recovered) gives each symbol's
    /// last trade price before this start, which seeds the inline risk engine's reference prices
    /// (market orders' notional, price bands) as if it had seen those trades.
    public init(
        exchange: ExchangeConfiguration, context: ZMQContext, logger: Logger,
        onReady: @escaping @Sendable (GatewayAddresses) -> Void = { _ in },
        makeScorer: @escaping @Sendable () throws -> SpoofingScorer? = { nil },
        lastTradePrices: @escaping @Sendable () -> [SymbolID: Price] = { [:] }
    ) {
        self.exchange = exchange
        self.context = context
        self.logger = logger
        self.makeScorer = makeScorer
        self.onReady = onReady
        self.lastTradePrices = lastTradePrices
    }

    /// Applies `[[risk.accounts]]` of a reloaded configuration (limits and kill switches) to the
    /// running gateway's inline risk engine, on its event loop. Accounts not listed keep their limits.
    public func reloadAccounts(_ risk: RiskConfiguration) {
        if let update = accountUpdates.withLockedValue({ $0 }) { update(risk) }
    }

    public func run() async throws {
        let configuration = exchange.gateway
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        let allocator = try OrderIDAllocator(
            gatewayID: UInt16(configuration.id), path: "\(configuration.stateDirectory)/order-ids")
        let symbols = SymbolDirectory(exchange.liveSymbols)
        let exchange = self.exchange
        let logger = self.logger
        let makeScorer = self.makeScorer
        let lastTrades = exchange.risk.placement == .inline ? lastTradePrices() : [:]
        // 1. The shared state and the sessions, on the loop (which owns the risk engine and its model).
        let state = try await loop.submit {
            let inline = exchange.risk.placement == .inline
            let risk = RiskEngine.live(exchange, scorer: inline ? try makeScorer() : nil)
            for (symbol, price) in lastTrades { risk.setLastTradePrice(price, for: symbol) }
            if !lastTrades.isEmpty {
                logger.info(
                    "risk reference prices seeded from the last trades", metadata: ["symbols": "\(lastTrades.count)"])
            }
            let core = GatewayCore(
                loop: loop, symbols: symbols, configuration: configuration, allocator: allocator, risk: risk,
                riskSettings: exchange.risk, logger: logger)
            let fix = try configuration.fixSessions.map {
                try FIXSessionHost(settings: $0, core: core, stateDirectory: configuration.stateDirectory)
            }
            let binary = configuration.binarySessions.enumerated().map {
                BinarySessionHost(settings: $1, sessionID: UInt32($0 + 1), core: core)
            }
            return NIOLoopBound(GatewayState(core: core, fix: fix, binary: binary), eventLoop: loop)
        }.get()
        // 2. The bridge to the shards; reports hop to the loop in batches.
        if let cpu = configuration.cpu {
            // Pinning is a request: without that core the loop still runs.
            try await loop.submit { _ = chronos_pin_current_thread(Int32(cpu)) }.get()
        }
        let sidecar =
            exchange.risk.placement == .sidecar
            ? EngineBridge.Sidecar(
                endpoint: exchange.risk.sidecarEndpoint,
                timeoutMilliseconds: Int32((exchange.risk.sidecarTimeoutMicros + 999) / 1_000)) : nil
        let bridge = try EngineBridge(
            context: context, shardMap: exchange.shardMap, name: configuration.name, cpu: configuration.cpu,
            sidecar: sidecar, logger: logger
        ) { outputs in
            loop.execute { state.value.core.handle(outputs) }
        }
        try await loop.submit { state.value.core.bridge = bridge }.get()
        accountUpdates.withLockedValue {
            $0 = { risk in
                loop.execute {
                    // Names as this gateway started with them: `[gateway.account_ids]` needs a restart.
                    let accounts = state.value.core.risk.applyAccountOverrides(
                        risk, accountIDs: exchange.gateway.accountIDs)
                    logger.notice(
                        "risk account limits reloaded",
                        metadata: [
                            "accounts": "\(accounts.count)",
                            "killed": "\(accounts.filter { state.value.core.risk.isKilled($0) }.map(\.rawValue))",
                        ])
                }
            }
        }
        // 3. Timers: heartbeats, silence, engine timeouts.
        let timer = loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            let now = SystemClock.monotonicNanoseconds()
            state.value.core.checkOverdue(now: now)
            for host in state.value.fix { host.timerTick() }
            for host in state.value.binary { host.timerTick(now: now) }
        }
        // 4. The listeners.
        var channels: [Channel] = []
        var tcpListeners: [Channel] = []
        var addresses = GatewayAddresses()
        let outbound = configuration.maxOutboundBytes
        let watermark = ChannelOptions.Types.WriteBufferWaterMark(low: outbound / 2, high: outbound)
        do {
            /// A TCP listener whose connections each get the handler `makeHandler` builds (on the loop).
            func listen(port: Int, _ makeHandler: @escaping @Sendable () -> ChannelHandler) async throws -> Channel {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .childChannelOption(.writeBufferWaterMark, value: watermark)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(makeHandler())
                        }
                    }
                    .bind(host: configuration.host, port: port).get()
                channels.append(channel)
                tcpListeners.append(channel)
                return channel
            }
            let loginTimeout = TimeAmount.milliseconds(Int64(configuration.loginTimeoutMilliseconds))
            if configuration.fixPort >= 0 {
                let maxSize = configuration.maxMessageSize
                addresses.fix = try await listen(port: configuration.fixPort) {
                    FIXConnectionHandler(
                        sessions: state.value.fix, maxMessageSize: maxSize, logonTimeout: loginTimeout, logger: logger)
                }.localAddress
            }
            if configuration.binaryPort >= 0 {
                addresses.binary = try await listen(port: configuration.binaryPort) {
                    BinaryTCPHandler(
                        logins: BinaryLogins(sessions: state.value.binary), loginTimeout: loginTimeout, logger: logger)
                }.localAddress
            }
            if configuration.udpPort >= 0 {
                let channel = try await DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                BinaryUDPHandler(logins: BinaryLogins(sessions: state.value.binary), logger: logger))
                        }
                    }
                    .bind(host: configuration.host, port: configuration.udpPort).get()
                channels.append(channel)
                addresses.udp = channel.localAddress
            }
        } catch {
            timer.cancel()
            for channel in channels { try? await channel.close() }
            bridge.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        logger.info("gateway ready", metadata: ["addresses": "\(addresses)"])
        onReady(addresses)

        // 5. Serve until shutdown, then drain in order.
        try? await gracefulShutdown()
        logger.info("gateway shutting down")
        for channel in tcpListeners { try? await channel.close() }
        try? await loop.submit { state.value.core.stopAcceptingOrders() }.get()
        let deadline = ContinuousClock.now + drainTimeout
        while ContinuousClock.now < deadline,
            (try? await loop.submit({ state.value.core.unansweredCommands }).get()) ?? 0 > 0
        {
            try? await Task.sleep(for: .milliseconds(10))
        }
        try? await loop.submit {
            for host in state.value.fix { host.logout(reason: "exchange shutting down") }
            for host in state.value.binary { host.logout(.gatewayShutdown) }
        }.get()
        // FIX clients answer the Logout (or the session's logout timeout ends it): give them a moment.
        let logoutDeadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < logoutDeadline,
            (try? await loop.submit({ state.value.fix.contains { $0.isConnected } }).get()) ?? false
        {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for channel in channels { try? await channel.close() }
        timer.cancel()
        bridge.stop()
        try? await group.shutdownGracefully()
        logger.info("gateway stopped")
    }
}

/// Everything that lives on the gateway's event loop.
final class GatewayState {
    let core: GatewayCore
    let fix: [FIXSessionHost]
    let binary: [BinarySessionHost]

    init(core: GatewayCore, fix: [FIXSessionHost], binary: [BinarySessionHost]) {
        self.core = core
        self.fix = fix
        self.binary = binary
    }
}
