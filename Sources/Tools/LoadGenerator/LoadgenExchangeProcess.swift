import ChronosConfig
import Foundation
import Runtime
import Synchronization

/// `chronos run` as a child process on a temporary configuration, for `chronos loadgen --spawn`.
///
/// The configuration has N binary sessions (username `load<i>`, password `load`, account
/// 1000 + i) and N FIX sessions (CompIDs `CHRONOS` / `LOAD<i>`, account 1000 + i), i = 1…N, every
/// port 0 (any free port), metrics off, no rate limit worth the name, and its state directory
/// in the temporary directory. The child's standard error and, after the ready line, its
/// standard output go to `exchange.log` there; the directory is removed after a clean run.
public final class LoadgenExchangeProcess: @unchecked Sendable {
    /// A listener of the gateway, from the ready line.
    public struct Endpoint: Sendable {
        public var host: String
        public var port: Int
    }

    /// The temporary directory (configuration, state, log).
    let directory: String
    public let logPath: String
    /// The configuration the child runs, as the loadgen reads it back.
    public let configuration: ExchangeConfiguration
    public let fix: Endpoint?
    public let binary: Endpoint?
    public let udp: Endpoint?
    private let process: Process
    private let reader: Thread
    /// Set and cleared by the command's task only.
    private var signalSources: [any DispatchSourceSignal] = []
    private let output: ChildOutput

    /// What the reader thread saw on the child's standard output.
    private final class ChildOutput: Sendable {
        struct State {
            var readyLine: String?
            var ended = false
        }
        let state = Mutex(State())
    }

    private init(
        directory: String, logPath: String, configuration: ExchangeConfiguration, readyLine: String,
        process: Process, reader: Thread, output: ChildOutput
    ) {
        self.directory = directory
        self.logPath = logPath
        self.configuration = configuration
        self.process = process
        self.reader = reader
        self.output = output
        var endpoints: [String: Endpoint] = [:]
        for token in readyLine.split(separator: " ") {
            let parts = token.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let colon = parts[1].lastIndex(of: ":"),
                let port = Int(parts[1][parts[1].index(after: colon)...])
            else { continue }
            var host = String(parts[1][..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            endpoints[String(parts[0])] = Endpoint(host: host, port: port)
        }
        fix = endpoints["fix"]
        binary = endpoints["binary"]
        udp = endpoints["udp"]
    }

    /// The TOML of the temporary configuration.
    static func configurationText(sessions: Int, stateDirectory: String) -> String {
        var text = """
            # Written by chronos loadgen --spawn.
            [metrics]
            enabled = false

            [gateway]
            host = "127.0.0.1"
            fix_port = 0
            binary_port = 0
            udp_port = 0
            state_dir = "\(stateDirectory)"
            max_messages_per_second = 10000000

            """
        for i in 1...sessions {
            text += """

                [[gateway.binary_sessions]]
                username = "load\(i)"
                password = "load"
                accounts = [\(1_000 + i)]

                [[gateway.fix_sessions]]
                sender_comp_id = "CHRONOS"
                target_comp_id = "LOAD\(i)"
                accounts = [\(1_000 + i)]

                """
        }
        return text
    }

    /// Writes the configuration, starts `<executable> run --config <file>` and waits up to
    /// `timeout` for its `gateway ready` line.
    ///
    /// - Parameter executable: the `chronos` binary (nil: this process's own executable, as
    ///   `chronos loadgen --spawn` runs).
    public static func start(sessions: Int, executable: String? = nil, timeout: Duration = .seconds(60))
        async throws -> LoadgenExchangeProcess
    {
        let directory =
            FileManager.default.temporaryDirectory.path
            + "/chronos-loadgen-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let configurationPath = directory + "/exchange.toml"
        let logPath = directory + "/exchange.log"
        let configuration: ExchangeConfiguration
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try configurationText(sessions: sessions, stateDirectory: directory + "/state")
                .write(toFile: configurationPath, atomically: true, encoding: .utf8)
            configuration = try ExchangeConfiguration.load(path: configurationPath)
        } catch {
            throw LoadgenError.spawnFailed("cannot write the exchange's configuration in \(directory): \(error)")
        }
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: logPath)
        else { throw LoadgenError.spawnFailed("cannot create \(logPath)") }

        let process = Process()
        let executable =
            executable ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", "--config", configurationPath]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw LoadgenError.spawnFailed("cannot start \(executable) run: \(error)")
        }

        // The child's standard output: watched for the ready line, copied to the log throughout
        // (so that the child never blocks on a full pipe).
        let output = ChildOutput()
        let readFD = pipe.fileHandleForReading.fileDescriptor
        let logFD = log.fileDescriptor
        let reader = Thread {
            var line: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4_096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                chunk.withUnsafeBytes { _ = write(logFD, $0.baseAddress, n) }
                for byte in chunk[0..<n] {
                    if byte == UInt8(ascii: "\n") {
                        let text = String(decoding: line, as: UTF8.self)
                        if text.contains("gateway ready") {
                            output.state.withLock { $0.readyLine = $0.readyLine ?? text }
                        }
                        line.removeAll(keepingCapacity: true)
                    } else {
                        line.append(byte)
                    }
                }
            }
            output.state.withLock { $0.ended = true }
        }
        reader.start()

        let deadline = ContinuousClock.now + timeout
        while true {
            let (ready, ended) = output.state.withLock { ($0.readyLine, $0.ended) }
            if let ready {
                return LoadgenExchangeProcess(
                    directory: directory, logPath: logPath, configuration: configuration, readyLine: ready,
                    process: process, reader: reader, output: output)
            }
            if ended || !process.isRunning || ContinuousClock.now > deadline {
                let why = ContinuousClock.now > deadline ? "did not print `gateway ready` within \(timeout)" : "exited"
                if process.isRunning {
                    process.terminate()
                    process.waitUntilExit()
                }
                throw LoadgenError.spawnFailed(
                    "the exchange (\(executable) run --config \(configurationPath)) \(why); its log \(logPath):\n"
                        + tail(of: logPath))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Until ``stop()``, SIGINT and SIGTERM to the loadgen stop the child first (SIGTERM, 5 s
    /// grace), so that an interrupted run leaves no exchange behind.
    public func stopOnSignals() {
        let pid = process.processIdentifier
        let directory = directory
        let sources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                kill(pid, SIGTERM)
                var status: Int32 = 0
                for _ in 0..<500 where waitpid(pid, &status, WNOHANG) == 0 { usleep(10_000) }
                kill(pid, SIGKILL)
                try? FileManager.default.removeItem(atPath: directory)
                FileHandleOutput.standardError("chronos loadgen: interrupted; the spawned exchange was stopped\n")
                exit(128 + signalNumber)
            }
            source.resume()
            return source
        }
        signalSources = sources
    }

    /// The child's user + system CPU time so far, seconds (from /proc), or nil once it is gone.
    public var cpuSeconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3 of proc(5), utime 14, stime 15.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Sends SIGTERM and waits (SIGKILL after 15 s); returns how the child ended.
    public func stop() async -> (status: Int32, description: String) {
        for source in signalSources { source.cancel() }
        signalSources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(15)
            while process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        while !output.state.withLock({ $0.ended }) { try? await Task.sleep(for: .milliseconds(5)) }
        let status = process.terminationStatus
        let description =
            process.terminationReason == .uncaughtSignal ? "killed by signal \(status)" : "exit status \(status)"
        return (process.terminationReason == .exit ? status : 128 + status, description)
    }

    /// The last lines of the child's log.
    public var logTail: String { Self.tail(of: logPath) }

    private static func tail(of path: String, lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
            .map { "  | " + $0 }.joined(separator: "\n")
    }

    /// Removes the temporary directory.
    public func removeDirectory() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// This process's user + system CPU time so far, seconds.
public func loadgenProcessCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
