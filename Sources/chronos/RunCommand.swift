import ArgumentParser
import ChronosConfig
import ChronosCore
import MatchingEngine
import Workload

/// `chronos run`: the exchange on its embedded default.
///
/// Until the gateway and the ZeroMQ services exist (issues 3 and 4), the embedded default is
/// the matching engine driven by the seeded order-flow generator: it builds the configured
/// symbols (or one default symbol), runs the stream, checks the book's invariants, and prints
/// a summary with the top of each book.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the exchange on its embedded default (for now: the engine on a generated stream)."
    )

    @Option(name: .long, help: "TOML configuration (engine capacities, symbols).") var config: String?
    @Option(help: "Commands to generate.") var commands = 1_000_000
    @Option(help: "Seed of the generated stream.") var seed: UInt64 = 7

    func run() throws {
        let configuration = try loadConfiguration(config, command: "run")
        let symbols = configuration.symbols.isEmpty ? [SymbolConfiguration(name: "SYM0")] : configuration.symbols
        var generator = try OrderFlowGenerator(.init(seed: seed, symbols: symbols.count))
        print("chronos run: generating \(commands) commands over \(symbols.count) symbol(s)…")
        let stream = generator.generate(commands)
        let engine = try Engine(configuration: configuration.engine)
        for symbol in symbols {
            var plain = symbol
            // The generator prices around 100000 ticks with tick and lot 1.
            plain.tickSize = 1
            plain.lotSize = 1
            plain.minPrice = 1
            plain.maxPrice = .max
            plain.minQuantity = 1
            plain.maxQuantity = .max
            try engine.addSymbol(plain)
        }
        var accepted = 0, rejected = 0, fills = 0, canceled = 0, replaced = 0
        var volume: Int64 = 0
        let start = monotonicNanoseconds()
        for command in stream {
            engine.submit(command)
            for event in engine.events {
                switch event {
                case .accepted: accepted += 1
                case .rejected: rejected += 1
                case .fill(let f):
                    fills += 1
                    volume += f.quantity
                case .canceled: canceled += 1
                case .replaced: replaced += 1
                }
            }
        }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let problems = engine.invariantViolations()
        print(
            "processed \(stream.count) commands in \(String(format3(seconds))) s "
                + "(\(Int(Double(stream.count) / seconds)) commands/s)")
        print(
            "events: \(accepted) accepted, \(rejected) rejected, \(fills) fills (\(volume) lots), "
                + "\(canceled) canceled, \(replaced) replaced; last sequence \(engine.nextSequence - 1)")
        for (i, symbol) in symbols.enumerated() {
            let id = SymbolID(UInt32(i))
            let bid = engine.bestBid(id).map { "\($0.quantity) @ \($0.price)" } ?? "none"
            let ask = engine.bestAsk(id).map { "\($0.quantity) @ \($0.price)" } ?? "none"
            print("  \(symbol.name): \(engine.restingOrderCount(id)) resting; best bid \(bid); best ask \(ask)")
        }
        print("book invariants: \(problems.isEmpty ? "ok" : problems.prefix(5).joined(separator: "; "))")
        if !problems.isEmpty { throw ExitCode(1) }
    }
}

func format3(_ x: Double) -> String {
    let scaled = Int((x * 1000).rounded())
    let fraction = String(scaled % 1000)
    return "\(scaled / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
