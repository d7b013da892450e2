import ArgumentParser
import ChronosCore
import MarketSimulation
import MatchingEngine
import Runtime

#if canImport(Glibc)
    import Glibc
#endif

/// `chronos simulate`: labeled spoofing-feature rows from agent populations run through the real
/// engine (docs/risk-model.md), and optionally the same days as replay JSON Lines with `ts`.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run simulated traders (incl. spoofers) through the engine; write labeled feature rows as CSV.",
        discussion: """
            Rows: day_seed,ts,agent_type,agent_id,episode_id,order_id,label, then the risk engine's spoofing \
            features in schema order. Same seed and options: byte-identical output. Manipulator kinds: \
            spoofer, layerer, and the variants kept out of training: split_spoofer, mimic_spoofer. \
            Training: tools/model/train.py (make model); docs/risk-model.md.
            """
    )

    @Option(help: "Seed of the run (day d's seed derives from it).") var seed: UInt64 = 1
    @Option(help: "Simulated days (1...\(SimulationConfiguration.maxDays)).") var days = 1
    @Option(help: "Feature rows (new orders and replaces) per day.") var ordersPerDay = 50_000
    @Option(help: "Manipulator kinds that populate the days, comma-separated (empty: none).")
    var manipulators = "spoofer,layerer"
    @Option(help: "Rows CSV file ('-' for stdout).") var out = "-"
    @Option(help: "Also write every command as replay JSON Lines with ts to this file.") var commands: String?
    @Flag(help: "No progress on stderr.") var quiet = false

    func validate() throws {
        _ = try simulationConfiguration()
    }

    private func simulationConfiguration() throws -> SimulationConfiguration {
        var kinds: [AgentKind] = []
        for name in manipulators.split(separator: ",").map({ String($0) }) where !name.isEmpty {
            guard let kind = AgentKind(name: name), kind.isManipulator else {
                let known = AgentKind.manipulators.map(\.name).joined(separator: ", ")
                throw ValidationError("--manipulators: unknown kind '\(name)' (known: \(known))")
            }
            kinds.append(kind)
        }
        let configuration = SimulationConfiguration(
            seed: seed, days: days, ordersPerDay: ordersPerDay, manipulators: kinds)
        if let problem = configuration.validationErrors.first { throw ValidationError(problem) }
        return configuration
    }

    func run() throws {
        let configuration = try simulationConfiguration()
        let rowsFile = try OutputFile(path: out)
        let commandsFile = try commands.map { try OutputFile(path: $0) }
        let writer = SimulationFileWriter(rows: rowsFile, commands: commandsFile, days: days, quiet: quiet)
        rowsFile.write(Array(SimulationFormat.csvHeader.utf8))
        let simulator = try MarketSimulator(configuration)
        simulator.run(output: writer)
        writer.finish()
        for file in [rowsFile] + (commandsFile.map { [$0] } ?? []) {
            if let error = file.close() {
                FileHandleOutput.standardError("chronos simulate: \(error)\n")
                throw ExitCode(1)
            }
        }
    }
}

/// Buffers rows and commands and writes them out in large chunks; reports each day on stderr.
private final class SimulationFileWriter: SimulationOutput {
    private let rows: OutputFile
    private let commandsFile: OutputFile?
    private let days: Int
    private let quiet: Bool
    private var rowBuffer: [UInt8] = []
    private var commandBuffer: [UInt8] = []
    private static let chunk = 1 << 20

    init(rows: OutputFile, commands: OutputFile?, days: Int, quiet: Bool) {
        self.rows = rows
        self.commandsFile = commands
        self.days = days
        self.quiet = quiet
        rowBuffer.reserveCapacity(Self.chunk + 4096)
        if commands != nil { commandBuffer.reserveCapacity(Self.chunk + 4096) }
    }

    func row(_ row: SimulatedOrderRow, features: UnsafeBufferPointer<Float>) {
        SimulationFormat.appendCSV(row, features: features, to: &rowBuffer)
        if rowBuffer.count >= Self.chunk { flushRows() }
    }

    func command(_ command: EngineCommand, ts: UInt64) {
        guard commandsFile != nil else { return }
        SimulationFormat.appendJSONLine(command, ts: ts, to: &commandBuffer)
        if commandBuffer.count >= Self.chunk { flushCommands() }
    }

    func dayFinished(_ summary: DaySummary) {
        guard !quiet else { return }
        let percent = (Double(summary.labeledRows) / Double(max(summary.rows, 1)) * 1000).rounded() / 10
        let fillShare = (summary.genuineFillShare * 100).rounded()
        var kinds: [String] = []
        for kind in AgentKind.allCases where summary[kind].agents > 0 {
            let counts = summary[kind]
            let ratio = (counts.cancelRatio * 100).rounded() / 100
            kinds.append("\(kind.name) ×\(counts.agents) \(counts.newOrders + counts.replaces) rows c/o \(ratio)")
        }
        FileHandleOutput.standardError(
            "chronos simulate: day \(summary.day + 1)/\(days) seed \(summary.daySeed): \(summary.rows) rows, "
                + "\(summary.labeledRows) labeled (\(percent)%), \(summary.episodes) episodes "
                + "(genuine filled \(Int(fillShare))%), \(summary.fills) fills, "
                + "\(Int(summary.seconds.rounded())) s simulated, mid \(summary.openMid)→\(summary.closeMid); "
                + kinds.joined(separator: ", ") + "\n")
    }

    func finish() {
        flushRows()
        flushCommands()
    }

    private func flushRows() {
        rows.write(rowBuffer)
        rowBuffer.removeAll(keepingCapacity: true)
    }

    private func flushCommands() {
        commandsFile?.write(commandBuffer)
        commandBuffer.removeAll(keepingCapacity: true)
    }
}

/// A file (or stdout for "-") written with plain `write(2)`; the first error is kept.
private final class OutputFile {
    private let fd: Int32
    private let path: String
    private var error: String?

    init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = 1
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else {
                FileHandleOutput.standardError(
                    "chronos simulate: cannot open \(path): \(String(cString: strerror(errno)))\n")
                throw ExitCode(1)
            }
        }
    }

    func write(_ bytes: [UInt8]) {
        guard error == nil else { return }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    error = "writing \(path) failed: \(String(cString: strerror(errno)))"
                    return
                }
                offset += n
            }
        }
    }

    /// Closes the file; returns the first error, if any.
    func close() -> String? {
        if fd != 1 && Glibc.close(fd) != 0 && error == nil {
            error = "closing \(path) failed: \(String(cString: strerror(errno)))"
        }
        return error
    }
}
