import ArgumentParser
import ChronosCore
import Workload

#if canImport(Glibc)
    import Glibc
#endif

/// `chronos generate`: the seeded realistic order flow as `chronos replay` JSON Lines.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a seeded realistic order flow as replay JSON Lines on stdout (streamed, bounded memory).",
        discussion: "Same stream as `chronos bench engine` for the same seed and parameters."
    )

    @Option(help: "Commands to write.") var count = 1_000_000
    @Option(help: "Seed.") var seed: UInt64 = 42
    @Option(help: "Symbols (named SYM0, SYM1, …).") var symbols = 1
    @Option(help: "Accounts (named A0, A1, …).") var accounts = 1_000
    @Option(help: "Target resting orders in the book.") var bookSize = 10_000

    func validate() throws {
        guard count >= 0, symbols > 0, accounts > 0, bookSize > 0 else {
            throw ValidationError("--count must be >= 0; --symbols, --accounts, --book-size > 0")
        }
    }

    func run() throws {
        var generator = try OrderFlowGenerator(
            .init(seed: seed, symbols: symbols, accounts: accounts, targetRestingOrders: bookSize))
        var remaining = count
        var chunk: [EngineCommand] = []
        var text = ""
        while remaining > 0 {
            let n = min(remaining, 50_000)
            chunk.removeAll(keepingCapacity: true)
            generator.generate(n, into: &chunk)
            text.removeAll(keepingCapacity: true)
            for command in chunk {
                text += command.replayJSONLine
                text += "\n"
            }
            try writeAll(text)
            remaining -= n
        }
    }

    private func writeAll(_ text: String) throws {
        var text = text
        try text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ExitCode(1)  // EPIPE and friends: the reader went away
                }
                offset += n
            }
        }
    }
}
