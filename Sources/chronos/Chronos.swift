import ArgumentParser
import ChronosBench

/// The `chronos` executable: thin subcommands that fill configuration and start work.
@main
struct Chronos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chronos",
        abstract: "Chronos: a low-latency exchange.",
        subcommands: [
            RunCommand.self, ReplayCommand.self, EngineProcessCommand.self, GatewayProcessCommand.self,
            RiskCommand.self, BenchCommand.self, GenerateCommand.self, LoadgenCommand.self, StatusCommand.self,
            SimulateCommand.self, PersistCommand.self, AuditCommand.self, JournalCommand.self, MarketDataCommand.self,
        ]
    )
}
