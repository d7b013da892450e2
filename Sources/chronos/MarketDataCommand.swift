import ArgumentParser
import ChronosConfig
import ChronosCore
import MarketData
import MarketDataClient
import Messaging
import Runtime

/// `chronos marketdata`: follows one symbol's market data from a running exchange and prints its
/// top of book and trades as they change, or (`--once`) prints a snapshot and exits.
struct MarketDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marketdata",
        abstract: "Follow a symbol's market data (top of book, trades), or print a snapshot with --once.",
        discussion: """
            Connects to the market-data endpoints of the symbol's shard as --config's [[shards]] table \
            gives them (market_data, market_data_snapshots; they must be ipc:// or tcp://HOST:PORT to be \
            reachable from another process). Exit 0; 1 when no snapshot came within --timeout or the \
            symbol was refused; 2 for a bad configuration or symbol.
            """)

    @Option(name: .long, help: "TOML configuration of the exchange (symbols, shards).") var config: String?
    @Option(name: .long, help: "The symbol to follow, e.g. AAPL.") var symbol: String
    @Flag(name: .long, help: "Print one snapshot and exit.") var once = false
    @Option(name: .long, help: "Levels per side printed with --once.") var depth = 10
    @Option(name: .long, help: "Seconds to wait for a snapshot.") var timeout = 5.0

    /// Lines go out unbuffered: a reader at the other end of a pipe sees each at once.
    private func print(_ line: String) { FileHandleOutput.standardOutput(line + "\n") }

    func run() throws {
        let exchange = try loadConfiguration(config, command: "marketdata")
        let decimals = exchange.liveSymbols.first { $0.name == symbol }?.priceDecimals ?? 0
        let text = MarketDataText(symbol: symbol, decimals: decimals)
        let context = try ZMQContext()
        let subscriber: MarketDataSubscriber
        do {
            subscriber = try MarketDataSubscriber(context: context, exchange: exchange, symbols: [symbol])
        } catch let error as MarketDataSubscriber.SetupError {
            FileHandleOutput.standardError("chronos marketdata: \(error)\n")
            throw ExitCode(2)
        }
        guard let id = subscriber.symbols.first?.id else { throw ExitCode(2) }
        let timeoutMilliseconds = Int(timeout * 1_000)
        if once {
            switch subscriber.snapshot(id, timeoutMilliseconds: timeoutMilliseconds) {
            case .success(let snapshot)?:
                for line in text.book(snapshot, depth: depth) { print(line) }
            case .failure(let status)?:
                FileHandleOutput.standardError("chronos marketdata: snapshot refused: \(status)\n")
                throw ExitCode(1)
            case nil:
                FileHandleOutput.standardError("chronos marketdata: no snapshot within \(timeout) s\n")
                throw ExitCode(1)
            }
            return
        }
        while true {
            guard let event = subscriber.next(timeoutMilliseconds: 1_000) else { continue }
            switch event {
            case .update(.bestBidOffer(let top)):
                print(text.top(bid: top.bestBid, offer: top.bestOffer, sequence: top.sequence))
            case .update(.trade(let trade)):
                print(text.trade(trade))
            case .recovered(let snapshot):
                print(text.top(bid: snapshot.bestBid, offer: snapshot.bestOffer, sequence: snapshot.sequence))
            case .gap(_, let expected, let received):
                print("\(symbol) gap  expected \(expected), got \(received): recovering by snapshot")
            case .restarted:
                print("\(symbol) the publisher's sequence went back: starting over from a snapshot")
            case .snapshotRefused(_, let status):
                FileHandleOutput.standardError("chronos marketdata: snapshot refused: \(status)\n")
                throw ExitCode(1)
            case .update(.level), .heartbeat:
                continue
            }
        }
    }
}
