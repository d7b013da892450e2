import ArgumentParser
import Foundation
import MetricsEndpoint
import Persistence
import Runtime

/// `chronos status`: is a running service up? Asks its Prometheus endpoint; for the persister, also
/// whether events were lost.
///
/// One HTTP/1.1 `GET /metrics` (``MetricsProbe``: SwiftNIO's HTTP client codec), with one
/// deadline for resolving, connecting, sending and reading. Exit 0 with a short summary when the service answers
/// `200 OK`; exit 1 with the reason on standard error otherwise (refused, timed out, not HTTP,
/// another status). The deployment uses it as the image's health check (`deploy/Dockerfile`).
///
/// The persister (docs/persistence.md, "Status"): `--persist-port P` reads its metrics
/// (``PersisterMetrics``: readiness, per shard mark and lag) and the reasons in its status file
/// (``PersisterStatusFile``); `--persist-store` reads its store (``StoreStatus``) and checks it
/// (``StoreIntegrity``). Either prints each shard's high-water mark and an ALARM line per
/// finding — lost events, a damaged or incomplete store, another shard identity, a sequence
/// regression, a lag past its alarm — and exits 3 when there is one; a persister that is not
/// ready exits 1. The plain `--port` check never alarms: as a liveness probe it must not restart
/// a persister for events that a restart cannot bring back.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "Check a running service through its metrics endpoint (exit 0: up, 1: down or not ready, 3: persister alarm).",
        discussion: """
            GETs http://HOST:PORT/metrics and prints a summary when it answers 200 OK within the timeout. \
            Ports of the services: `chronos run` [metrics] port (9464), `chronos engine --shard K` port + 1 + K, \
            `chronos gateway` port + 100, `chronos persist` port + 300, or what --metrics-port set.

            The persister: --persist-port P checks its metrics endpoint instead of --port and prints whether \
            it is ready (and why not: failing store, with the last error from its status file on this host), \
            per shard the high-water mark, lost events and rejected frames since it started, the engine's \
            sequence and the lag, and the buffer and retries. --persist-store reads the store itself (chosen \
            as `chronos persist` chooses it: --config, --store, --sqlite-path, libpq variables): per shard \
            (configured or stored) the high-water mark and the gaps recorded as lost, ever, and checks it: \
            SQLite's quick_check, every sequence up to the mark stored or recorded as lost, each row against \
            its frame (the first --check-events per shard), and with --config each shard's identity. Both \
            may be given. Every finding prints an ALARM line and the exit code is 3 (lost events, a damaged \
            or incomplete store, another shard configuration, a sequence regression, a lag alarm); 1 when \
            something checked is down or cannot be read, or the persister is not ready; 2 for an invalid \
            configuration.
            """
    )

    /// The exit code of a check that found lost events.
    static let alarmExitCode: Int32 = 3

    @Option(help: "Address of the service's metrics endpoint.") var host = "127.0.0.1"
    @Option(help: "Port of the service's metrics endpoint (default: 9464).") var port: Int?
    @Option(help: "Port of the persister's metrics endpoint: its readiness, lag and alarms (instead of --port).")
    var persistPort: Int?
    @Flag(help: "Read and check the persister's store: marks, gaps, integrity, identities.") var persistStore = false
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Events per shard whose row is checked against its frame (--persist-store; 0: all).")
    var checkEvents = 1_000_000
    @Option(help: "Seconds for the whole check (connect, send, read).") var timeout = 2.0

    func validate() throws {
        for (flag, value) in [("--port", port), ("--persist-port", persistPort)] {
            if let value, !(1...65_535).contains(value) {
                throw ValidationError("\(flag) must be in 1...65535 (got \(value))")
            }
        }
        if port != nil && persistPort != nil { throw ValidationError("give --port or --persist-port, not both") }
        if storeOptions.isGiven && !persistStore {
            throw ValidationError("--config, --store and --sqlite-path choose the store of --persist-store")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be > 0 (got \(timeout))") }
        guard checkEvents >= 0 else { throw ValidationError("--check-events must be >= 0 (got \(checkEvents))") }
    }

    func run() throws {
        var alarms = 0
        var notReady = false
        if persistStore {
            alarms += try checkStore()
        }
        if persistPort != nil || port != nil || !persistStore {
            let probed = try probe(port: persistPort ?? port ?? 9_464, persister: persistPort != nil)
            alarms += probed.alarms
            notReady = !probed.ready
        }
        if alarms > 0 { throw ExitCode(Self.alarmExitCode) }
        if notReady { throw ExitCode(1) }
    }

    /// Reads and checks the store, prints its report and returns the number of ALARM lines. A
    /// store that cannot be opened or read exits 1, or 3 when SQLite's own check found it damaged.
    private func checkStore() throws -> Int {
        let exchange = try storeOptions.exchange(command: "status")
        let described = StoreOptions.describe(exchange.persistence)
        var damage: [String] = []
        if exchange.persistence.store == .sqlite
            && FileManager.default.fileExists(atPath: exchange.persistence.sqlitePath)
        {
            let complaints = StoreIntegrity.sqliteQuickCheck(path: exchange.persistence.sqlitePath)
            damage = complaints.prefix(StoreIntegrity.maximumListed).map { "ALARM store: SQLite quick_check: \($0)" }
            if complaints.count > StoreIntegrity.maximumListed {
                damage.append(
                    "ALARM store: SQLite quick_check: \(complaints.count - StoreIntegrity.maximumListed) more")
            }
        }
        /// The store could not be read: with damage found, that is the alarm (exit 3).
        func unreadable() -> ExitCode {
            guard !damage.isEmpty else { return ExitCode(1) }
            FileHandleOutput.standardOutput(
                "chronos status: store \(described)\n" + damage.map { $0 + "\n" }.joined())
            return ExitCode(Self.alarmExitCode)
        }
        let store: any EventStore
        do {
            store = try StoreOptions.openForReading(exchange.persistence, command: "status")
        } catch {
            throw unreadable()
        }
        defer { store.close() }
        var status: StoreStatus
        do {
            status = try StoreStatus.read(store, shards: exchange.shards.map(\.id))
        } catch {
            FileHandleOutput.standardError("chronos status: reading the store failed: \(error)\n")
            throw unreadable()
        }
        status.findings = damage
        do {
            status.findings += try StoreIntegrity.check(
                store, status: status, exchange: storeOptions.config == nil ? nil : exchange, eventLimit: checkEvents)
        } catch {
            status.findings.append("ALARM store: the check could not read the store: \(error)")
        }
        FileHandleOutput.standardOutput(status.report(store: described))
        return status.alarms.count
    }

    /// Checks the metrics endpoint at `port`, prints its summary (the persister's report when
    /// `persister`) and returns the number of ALARM lines and whether it is ready. Exits 1 when it
    /// is down or, with `persister`, serves no persister metrics.
    private func probe(port: Int, persister: Bool) throws -> (alarms: Int, ready: Bool) {
        let started = ContinuousClock.now
        let url = "http://\(host):\(port)/metrics"
        let response: MetricsProbe.Response
        do {
            response = try MetricsProbe(host: host, port: port, timeout: .seconds(timeout)).fetch()
        } catch {
            FileHandleOutput.standardError("chronos status: \(url) is down: \(error)\n")
            throw ExitCode(1)
        }
        let elapsed = (ContinuousClock.now - started).components
        let milliseconds = Double(elapsed.seconds) * 1_000 + Double(elapsed.attoseconds) / 1e15
        guard response.statusCode == 200 else {
            FileHandleOutput.standardError(
                "chronos status: \(url) answered \(response.statusLine) (expected 200 OK)\n")
            throw ExitCode(1)
        }
        let summary = MetricsSummary(exposition: response.body)
        var text = "chronos status: \(url) up (200 OK in \(Int(milliseconds.rounded())) ms): "
        text += "\(summary.samples) samples in \(summary.families) metric families\n"
        guard persister else {
            for line in summary.highlights { text += "  \(line)\n" }
            FileHandleOutput.standardOutput(text)
            return (0, true)
        }
        let metrics = PersisterMetrics(exposition: response.body)
        guard metrics.isPersister else {
            FileHandleOutput.standardOutput(text)
            FileHandleOutput.standardError(
                "chronos status: \(url) is not a persister (no chronos_persist_* metrics)\n")
            throw ExitCode(1)
        }
        text += metrics.report()
        let ready = metrics.ready ?? true
        if !ready || !metrics.alarms.isEmpty {
            // The error text metrics cannot carry, when the persister runs on this host.
            for line in PersisterStatusFile.reasons(at: PersisterStatusFile.path(port: port)) { text += "  \(line)\n" }
        }
        FileHandleOutput.standardOutput(text)
        return (metrics.alarms.count, ready)
    }
}

/// What `chronos status` prints of an exposition: how much there is, and the headline samples.
struct MetricsSummary {
    /// Sample lines (not comments).
    var samples = 0
    /// `# TYPE` lines: one per metric family.
    var families = 0
    /// Counters and gauges of Chronos itself (histogram series left out), at most ``maximumHighlights``.
    var highlights: [String] = []

    static let maximumHighlights = 12

    init(exposition: String) {
        for line in exposition.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                families += 1
            } else if !line.hasPrefix("#") && !line.allSatisfy(\.isWhitespace) {
                samples += 1
                let name = line.prefix { $0 != "{" && $0 != " " }
                let isHistogramSeries = name.hasSuffix("_bucket") || name.hasSuffix("_sum") || name.hasSuffix("_count")
                if name.hasPrefix("chronos_") && !isHistogramSeries && highlights.count < Self.maximumHighlights {
                    highlights.append(String(line))
                }
            }
        }
    }
}
