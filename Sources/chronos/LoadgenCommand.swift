import ArgumentParser
import ChronosConfig
import Foundation
import Histogram
import LoadGenerator
import NIOCore
import NIOPosix
import Runtime

/// `chronos loadgen`: load and latency of a running exchange through its gateway, bounded in
/// orders and time, beside a floor measured in the same run.
///
/// 1. The target: `--spawn` starts `chronos run` on a temporary configuration with N sessions
///    (``LoadgenExchangeProcess``); otherwise `--host`/`--port` (default: the configuration's
///    gateway listener) and the first N sessions of `--config` (or of the embedded default).
/// 2. The floor: the same sessions, window and orders against an echo server in this process
///    over loopback (``LoadgenEchoServer``): the cost of the client, the kernel and the wake-ups.
/// 3. The exchange: every session logs in, then sends its orders (``LoadgenPlan``) with
///    `--window` in flight, each order timed to its first answer (``LoadgenRunner``).
/// 4. The summary, and the verdict: exit 1 when a login fails, the gateway is unreachable, or
///    fewer than 99 % of the orders sent were answered within `--answer-timeout`.
struct LoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Load and latency of a running exchange through its gateway, beside a loopback floor.",
        discussion: """
            Each session logs in and sends --orders limit GTC orders (100 lots at 150.00, or the \
            nearest valid price and quantity, cycling through the configured symbols, buying one \
            cycle and selling the next, so that orders cross and fill and the book stays small), \
            keeping --window orders in flight. Latency is order → first answer (orderAccepted or \
            rejected; over FIX an ExecutionReport with ExecType 0 or 8) on this process's \
            monotonic clock. Before the load, the same sessions and orders run against an echo \
            server in this process over loopback (the floor: a 44-byte message answered with 40 \
            bytes over TCP, or the same behind the UDP header) and both are reported side by side.

            Examples:
              chronos loadgen --spawn --protocol binary --sessions 10 --orders 200
              chronos loadgen --config chronos.toml --protocol fix --sessions 2 --window 8
            """
    )

    enum WireProtocol: String, ExpressibleByArgument, CaseIterable, Sendable {
        case binary, udp, fix
    }

    enum Floor: String, ExpressibleByArgument, CaseIterable, Sendable {
        case tcp, udp, none
    }

    @Option(
        name: .customLong("protocol"),
        help: "binary (the binary protocol over TCP), udp (binary over UDP) or fix (FIX 4.4 over TCP).")
    var wireProtocol: WireProtocol = .binary
    @Option(help: "Sessions, each its own connection and login.") var sessions = 10
    @Option(help: "Orders per session.") var orders = 1_000
    @Option(help: "Seconds after which sending stops, every order sent or not.") var duration = 30.0
    @Option(help: "Orders in flight per session (1: closed loop).") var window = 1
    @Option(help: "The first orders of each session, sent and counted but not in the latency figures.")
    var warmup = 20
    @Option(help: "The gateway's address (default: the configuration's gateway host).") var host: String?
    @Option(help: "The gateway's port for --protocol (default: the configuration's binary, udp or fix port).")
    var port: Int?
    @Option(
        help: "The exchange's TOML: the first N sessions of [[gateway.binary_sessions]] or [[gateway.fix_sessions]].")
    var config: String?
    @Flag(help: "Start `chronos run` with N sessions on a temporary configuration, load it, then stop it.")
    var spawn = false
    @Option(help: "Seconds an order may wait for its first answer before it counts as unanswered.")
    var answerTimeout = 5.0
    @Option(help: "The floor: tcp, udp or none (default: udp for --protocol udp, tcp otherwise).")
    var floor: Floor?

    func validate() throws {
        guard (1...10_000).contains(sessions) else { throw ValidationError("--sessions must be in 1...10000") }
        guard (1...OrderWindow.maximumOrders).contains(orders) else {
            throw ValidationError("--orders must be in 1...\(OrderWindow.maximumOrders)")
        }
        guard (1...OrderWindow.maximumWindow).contains(window) else {
            throw ValidationError("--window must be in 1...\(OrderWindow.maximumWindow)")
        }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0") }
        guard duration > 0, answerTimeout > 0 else {
            throw ValidationError("--duration and --answer-timeout must be > 0")
        }
        if spawn && (config != nil || host != nil || port != nil) {
            throw ValidationError(
                "--spawn writes its own configuration and picks free ports: drop --config, --host, --port")
        }
    }

    private var transport: LoadgenTransport {
        switch wireProtocol {
        case .binary: .binaryTCP
        case .udp: .binaryUDP
        case .fix: .fix
        }
    }

    func run() async throws {
        // 1. The target.
        var child: LoadgenExchangeProcess?
        let exchange: ExchangeConfiguration
        let target: LoadgenRunner.Target
        do {
            if spawn {
                FileHandleOutput.standardOutput("chronos loadgen: starting chronos run with \(sessions) sessions…\n")
                let process = try await LoadgenExchangeProcess.start(sessions: sessions)
                process.stopOnSignals()
                child = process
                exchange = process.configuration
                let endpoint: LoadgenExchangeProcess.Endpoint? =
                    switch wireProtocol {
                    case .binary: process.binary
                    case .udp: process.udp
                    case .fix: process.fix
                    }
                guard let endpoint else {
                    throw LoadgenError.spawnFailed("the exchange's ready line names no \(wireProtocol) listener")
                }
                target = .init(transport: transport, host: endpoint.host, port: endpoint.port)
            } else {
                exchange = try loadConfiguration(config, command: "loadgen")
                target = try configuredTarget(exchange.gateway)
            }
        } catch let error as LoadgenError {
            FileHandleOutput.standardError("chronos loadgen: \(error)\n")
            if let child { _ = await child.stop() }
            throw ExitCode(1)
        } catch {
            if let child { _ = await child.stop() }
            throw error
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var failure: String?
        do {
            try await measure(exchange: exchange, target: target, child: child, loop: group.next())
        } catch let error as LoadgenError {
            failure = "\(error)"
        } catch is ExitCode {
            failure = ""  // already reported
        } catch {
            failure = "\(error)"
        }
        try? await group.shutdownGracefully()

        // 6. Stop the spawned exchange.
        if let child {
            let (status, how) = await child.stop()
            if status != 0 {
                FileHandleOutput.standardError(
                    "chronos loadgen: the spawned exchange ended with \(how); its log \(child.logPath):\n"
                        + child.logTail + "\n"
                )
                failure = failure ?? ""
            } else if failure == nil {
                child.removeDirectory()
            } else {
                FileHandleOutput.standardError("chronos loadgen: the spawned exchange's log: \(child.logPath)\n")
            }
        }
        if let failure {
            if !failure.isEmpty { FileHandleOutput.standardError("chronos loadgen: \(failure)\n") }
            throw ExitCode(1)
        }
    }

    /// Floor, exchange, summary; throws ``LoadgenError`` or `ExitCode(1)` when the run fails.
    private func measure(
        exchange: ExchangeConfiguration, target: LoadgenRunner.Target, child: LoadgenExchangeProcess?,
        loop: any EventLoop
    ) async throws {
        let logins = try sessionLogins(exchange)
        let wallClock = SystemClock.wallClockNanoseconds()
        var plan = LoadgenPlan(
            symbols: exchange.liveSymbols, ordersPerSession: orders, window: window,
            runStamp: wallClock / 10_000_000)
        plan.warmup = warmup
        guard !plan.symbols.isEmpty else {
            throw LoadgenError.configuration("no configured symbol fits the binary protocol's 8 characters")
        }
        let floorTransport = floor ?? (wireProtocol == .udp ? .udp : .tcp)
        #if DEBUG
            let build = "debug build"
        #else
            let build = "release build"
        #endif
        say(
            "chronos loadgen — \(target.transport.rawValue) to \(target.host):\(target.port)"
                + "\(child == nil ? "" : " (chronos run spawned for this run)"), \(sessions) sessions × "
                + "\(ReportFormat.grouped(orders)) orders (the first \(warmup) not timed), window \(window), "
                + "at most \(ReportFormat.fixed(duration, 1)) s, \(build)")
        let first = plan.symbols[0]
        say(
            "orders: limit GTC, \(first.quantity) @ \(first.decimalPrice) on "
                + plan.symbols.map(\.name).joined(separator: " ") + ", buy and sell cycles alternating")
        switch floorTransport {
        case .tcp:
            say("floor: TCP loopback, 44-byte newOrder → 40-byte orderAccepted from an echo server in this process")
        case .udp:
            say(
                "floor: UDP loopback, 64-byte newOrder datagram → 60-byte orderAccepted datagram "
                    + "from an echo server in this process"
            )
        case .none:
            say("floor: none")
        }

        // 2. The exchange's sessions log in first, so that a bad target fails before the floor.
        let exchangeRun = try await LoadgenRunner.prepare(
            label: "exchange", target: target, logins: logins, plan: plan, duration: duration,
            answerTimeout: answerTimeout, loop: loop)

        // 3. The floor, while the exchange's sessions wait.
        var floorResult: LoadgenResult?
        if floorTransport != .none {
            do {
                let echo = try await LoadgenEchoServer.start(floorTransport == .udp ? .udp : .tcp)
                let floorLogins = (1...sessions).map {
                    LoadgenLogin.binary(username: "floor\($0)", password: "", account: 1)
                }
                do {
                    floorResult = try await LoadgenRunner.run(
                        label: "floor",
                        target: .init(
                            transport: floorTransport == .udp ? .binaryUDP : .binaryTCP, host: "127.0.0.1",
                            port: echo.port),
                        logins: floorLogins, plan: plan, duration: duration, answerTimeout: answerTimeout, loop: loop)
                } catch {
                    await echo.stop()
                    throw error
                }
                await echo.stop()
            } catch {
                await LoadgenRunner.abandon(exchangeRun)
                throw error
            }
        }

        // 4. The exchange.
        let cpuBefore = (loadgen: loadgenProcessCPUSeconds(), exchange: child?.cpuSeconds)
        let result = try await LoadgenRunner.drive(exchangeRun)
        let cpuAfter = (loadgen: loadgenProcessCPUSeconds(), exchange: child?.cpuSeconds)

        // 5. The summary and the verdict.
        say("")
        printSummary(floor: floorResult, exchange: result)
        if result.seconds > 0 {
            var line = "CPU during the exchange run (\(ReportFormat.fixed(result.seconds, 2)) s): loadgen "
            line += cpuText(cpuAfter.loadgen - cpuBefore.loadgen, over: result.seconds)
            if let before = cpuBefore.exchange, let after = cpuAfter.exchange {
                line += ", exchange " + cpuText(after - before, over: result.seconds)
            }
            say(line)
        }
        var failed = false
        for run in [floorResult, result].compactMap({ $0 }) {
            let answeredShare = run.sent > 0 ? Double(run.answered) / Double(run.sent) : 0
            if answeredShare < 0.99 {
                FileHandleOutput.standardError(
                    "chronos loadgen: \(run.label): \(ReportFormat.grouped(run.answered)) of "
                        + "\(ReportFormat.grouped(run.sent)) orders answered within \(answerTimeout) s "
                        + "(\(ReportFormat.fixed(answeredShare * 100, 2)) %; at least 99 % needed)\n")
                failed = true
            }
        }
        if result.sent > 0 && Double(result.rejected) > 0.01 * Double(result.sent) {
            FileHandleOutput.standardError(
                "chronos loadgen: warning: \(ReportFormat.grouped(result.rejected)) of "
                    + "\(ReportFormat.grouped(result.sent)) orders were rejected: "
                    + "the latency is mostly the reject path\n"
            )
        }
        if failed { throw ExitCode(1) }
    }

    /// A line on standard output, unbuffered like the progress lines (which come from the event loop).
    private func say(_ line: String) {
        FileHandleOutput.standardOutput(line + "\n")
    }

    private func cpuText(_ seconds: Double, over wall: Double) -> String {
        "\(ReportFormat.fixed(seconds, 2)) s (\(Int((seconds / wall * 100).rounded())) % of one core)"
    }

    private func printSummary(floor: LoadgenResult?, exchange: LoadgenResult) {
        let runs = [floor, exchange].compactMap { $0 }
        say("path       sessions       sent   answered   rejected     filled  unanswered    wall s     orders/s")
        for run in runs {
            say(
                ReportFormat.left(run.label, 9) + ReportFormat.right(String(run.sessions), 10)
                    + ReportFormat.right(ReportFormat.grouped(run.sent), 11)
                    + ReportFormat.right(ReportFormat.grouped(run.answered), 11)
                    + ReportFormat.right(ReportFormat.grouped(run.rejected), 11)
                    + ReportFormat.right(run.label == "floor" ? "-" : ReportFormat.grouped(run.filled), 11)
                    + ReportFormat.right(ReportFormat.grouped(run.unanswered), 12)
                    + ReportFormat.right(ReportFormat.fixed(run.seconds, 3), 10)
                    + ReportFormat.right(ReportFormat.grouped(Int(run.throughput.rounded())), 13))
        }
        say("order → first answer (µs)   p50       p99     p99.9       max")
        for run in runs {
            let h = run.latency
            func us(_ p: Double) -> String {
                h.totalCount > 0 ? ReportFormat.microseconds(h.valueAtPercentile(p)) : "-"
            }
            say(
                ReportFormat.left("  " + run.label, 22) + ReportFormat.right(us(50), 10)
                    + ReportFormat.right(us(99), 10)
                    + ReportFormat.right(us(99.9), 10)
                    + ReportFormat.right(h.totalCount > 0 ? ReportFormat.microseconds(h.maxRecorded) : "-", 10))
        }
        if let floor, floor.latency.totalCount > 0, exchange.latency.totalCount > 0 {
            let ratio =
                Double(exchange.latency.valueAtPercentile(99)) / Double(max(floor.latency.valueAtPercentile(99), 1))
            say("p99 ratio exchange ÷ floor: \(ReportFormat.fixed(ratio, 2))")
        }
        for run in runs {
            var notes: [String] = []
            if run.fills > 0 || run.canceled > 0 {
                notes.append(
                    "\(ReportFormat.grouped(run.fills)) fill reports, "
                        + "\(ReportFormat.grouped(run.canceled)) unsolicited cancels (self-trade prevention)"
                )
            }
            if !run.rejectReasons.isEmpty {
                let reasons = run.rejectReasons.sorted { $0.value > $1.value }.prefix(5)
                    .map { "\($0.key) \(ReportFormat.grouped($0.value))" }.joined(separator: ", ")
                notes.append("rejects: " + reasons)
            }
            if run.resent > 0 { notes.append("\(ReportFormat.grouped(run.resent)) datagrams sent again") }
            if run.stoppedByDuration {
                notes.append(
                    "--duration ended sending: \(ReportFormat.grouped(run.sent)) of "
                        + "\(ReportFormat.grouped(run.planned)) orders sent"
                )
            }
            notes.append(contentsOf: run.warnings.prefix(5))
            if run.warnings.count > 5 { notes.append("… and \(run.warnings.count - 5) more warnings") }
            for note in notes { say("\(run.label): \(note)") }
        }
    }

    /// `--host`/`--port`, or the configuration's listener for `--protocol`.
    private func configuredTarget(_ gateway: GatewayConfiguration) throws -> LoadgenRunner.Target {
        var host = self.host ?? gateway.host
        if host == "0.0.0.0" { host = "127.0.0.1" } else if host == "::" { host = "::1" }
        let (key, configured) =
            switch wireProtocol {
            case .binary: ("binary_port", gateway.binaryPort)
            case .udp: ("udp_port", gateway.udpPort)
            case .fix: ("fix_port", gateway.fixPort)
            }
        let port = self.port ?? configured
        guard (1...65_535).contains(port) else {
            throw LoadgenError.configuration(
                "the configuration's gateway.\(key) is \(port) (\(port == 0 ? "any free port" : "off")): give --port")
        }
        return .init(transport: transport, host: host, port: port)
    }

    /// The first `sessions` sessions of the configuration for `--protocol`.
    private func sessionLogins(_ exchange: ExchangeConfiguration) throws -> [LoadgenLogin] {
        let source = spawn ? "the spawned configuration" : (config ?? "the embedded default configuration")
        return try LoadgenLogin.first(sessions, of: exchange, for: transport, source: source)
    }
}
