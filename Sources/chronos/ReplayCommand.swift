import ArgumentParser
import ChronosConfig
import Logging
import MatchingEngine
import Replay
import RiskEngine
import RiskService
import Runtime

#if canImport(Glibc)
    import Glibc
#endif

/// `chronos replay`: the engine's deterministic JSON Lines interface.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Read order commands as JSON Lines on stdin, write engine events as JSON Lines on stdout.",
        discussion: "Contract: ../shared/spec/replay-protocol.md; Chronos's choices: docs/replay.md."
    )

    @Option(name: .long, help: "TOML configuration: only its symbols exist, with their limits.")
    var config: String?

    @Option(name: .long, help: "Resting-order capacity of the engine (overrides the config file).")
    var orderCapacity: Int?

    @Option(name: .long, help: "Blocks of 64 used order ids the engine remembers (overrides the config file).")
    var idCapacity: Int?

    @Flag(name: .long, help: "Risk mode: every new and replace passes the risk engine ([risk] limits) first.")
    var risk = false

    func run() throws {
        var configuration = try loadConfiguration(config, command: "replay")
        if orderCapacity != nil || idCapacity != nil {
            configuration.engine = EngineConfiguration(
                orderCapacity: orderCapacity ?? configuration.engine.orderCapacity,
                symbolCapacity: configuration.engine.symbolCapacity,
                usedIDBlockCapacity: idCapacity ?? configuration.engine.usedIDBlockCapacity)
        }
        // Risk mode scores with a model only when the configuration names one ([risk.model] path):
        // the replay's output then depends on the input and the configuration alone.
        var scorer: SpoofingScorer?
        if risk, configuration.risk.model.path != nil {
            let logger = Logger(label: "chronos.replay") { StreamLogHandler.standardError(label: $0) }
            // No time budget: a slow call must not change a replay's output.
            var model = configuration.risk.model
            model.timeBudgetMicros = 0
            do {
                scorer = try SpoofingModelLoader.load(model, logger: logger)
            } catch {
                FileHandleOutput.standardError("chronos replay: \(error)\n")
                throw ExitCode(2)
            }
        }
        let session: ReplaySession
        do {
            session = try ReplaySession(
                configuration: configuration, risk: risk, scorer: scorer, output: .fileDescriptor(1))
        } catch {
            FileHandleOutput.standardError("chronos replay: \(error)\n")
            throw ExitCode(2)
        }
        let readOK = session.run(inputFileDescriptor: 0)
        if !readOK {
            FileHandleOutput.standardError(
                "chronos replay: reading stdin failed: \(String(cString: strerror(errno)))\n")
            throw ExitCode(1)
        }
        if let error = session.outputError {
            FileHandleOutput.standardError("chronos replay: \(error)\n")
            throw ExitCode(1)
        }
    }
}

/// The configuration file at `path`, or the embedded default without one. An unusable file is
/// reported on standard error, every problem naming its key, and ends the command with exit code 2.
func loadConfiguration(_ path: String?, command: String) throws -> ExchangeConfiguration {
    guard let path else { return ExchangeConfiguration() }
    do {
        return try ExchangeConfiguration.load(path: path)
    } catch {
        FileHandleOutput.standardError("chronos \(command): invalid configuration\n\(error)\n")
        throw ExitCode(2)
    }
}
