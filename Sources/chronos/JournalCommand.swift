import ArgumentParser
import ChronosConfig
import ChronosCore
import Journal
import MatchingEngine
import Runtime

/// `chronos journal`: read a shard's journal without changing it (docs/persistence.md, "The
/// engine journal").
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Inspect a shard's journal: verify it, or print its events.",
        subcommands: [JournalVerifyCommand.self, JournalDumpCommand.self]
    )
}

/// The configuration and shard options both journal subcommands take.
struct JournalOptions: ParsableArguments {
    @Option(name: .long, help: "TOML configuration ([journal] dir, symbols, shards).") var config: String?
    @Option(name: .long, help: "The shard whose journal to read.") var shard = 0
    @Option(name: .long, help: "The journal root instead of the configuration's [journal] dir.") var dir: String?

    func load(command: String) throws -> (ExchangeConfiguration, String) {
        var exchange = try loadConfiguration(config, command: command)
        if let dir { exchange.journal.root = dir }
        guard exchange.shards.indices.contains(shard) else {
            FileHandleOutput.standardError("chronos \(command): no shard \(shard) in the configuration\n")
            throw ExitCode(2)
        }
        return (exchange, JournalDirectory.path(root: exchange.journal.root, shard: shard))
    }
}

/// `chronos journal verify`: rebuilds the shard's engine from the journal as a restart would
/// (read-only), and prints what it found; exit 1 when the journal cannot be recovered.
struct JournalVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Rebuild the shard from its journal, read-only: identity, snapshots, records, state hash.",
        discussion: """
            Checks every segment's header and identity against the configuration, reads the newest \
            snapshot that is whole, replays every valid record after it and compares each rebuilt event \
            with the stored one, exactly as the shard does when it starts, without changing a file. \
            Prints the segments, the snapshot used, the last journaled sequence and the rebuilt state \
            hash (the same hash the engine logs when it stops). Exit 0: recoverable; 1: not (the \
            reason is printed); 2: bad arguments or configuration.
            """
    )

    @OptionGroup var options: JournalOptions

    func run() throws {
        let (exchange, directory) = try options.load(command: "journal verify")
        let identity = exchange.shardIdentity(options.shard)
        do {
            let engine = try Engine(configuration: exchange.engine)
            for symbol in exchange.liveSymbols { try engine.addSymbol(symbol) }
            let segments = try JournalDirectory.segments(directory)
            let snapshots = try JournalDirectory.snapshots(directory)
            let recovery = try ShardJournal.rebuild(
                directory: directory, identityText: identity.canonical, fingerprint: identity.fingerprint,
                engine: engine)
            var report = "chronos journal: \(directory)\n"
            report += "  identity: \(identity)\n"
            report += "  segments: \(segments.count)"
            if let first = segments.first?.first { report += " (first sequence \(first))" }
            report += "\n  snapshots: \(snapshots.count)"
            if let path = recovery.snapshotPath { report += "; recovering from \(path)" }
            report += "\n"
            for skipped in recovery.skippedSnapshots { report += "  WARNING unusable snapshot: \(skipped)\n" }
            report += "  snapshot sequence: \(recovery.snapshotSequence)\n"
            report += "  journal records replayed: \(recovery.replay.events) (\(recovery.replay.commands) commands)\n"
            report += "  last journaled sequence: \(recovery.lastJournaled)\n"
            if !recovery.replay.unpublishedTail.isEmpty {
                report +=
                    "  last command journaled in part: \(recovery.replay.unpublishedTail.count) events to publish on start\n"
            }
            report += "  next sequence: \(engine.nextSequence)\n"
            report += "  resting orders: \(engine.restingOrderCount)\n"
            report += "  state hash: \(ShardIdentity.hex(engine.stateHash()))\n"
            FileHandleOutput.standardOutput(report)
        } catch {
            FileHandleOutput.standardError("chronos journal verify: \(directory): \(error)\n")
            throw ExitCode(1)
        }
    }
}

/// `chronos journal dump`: the journal's events as JSON lines.
struct JournalDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print a shard's journaled events as JSON lines, in sequence order.",
        discussion: """
            One line per valid record from --from (default: the oldest kept) while the records are \
            contiguous, up to --to: {"seq":…,"ev":"accepted"|"rejected"|"fill"|"canceled"|"replaced",…} \
            with the event's fields (ids, accounts, symbol id, side, prices in ticks, quantities in lots, \
            client_ts: the client timestamp echoed in its frame). Stops at the first missing or damaged \
            record and says so on standard error (exit 0 unless the journal cannot be read).
            """
    )

    @OptionGroup var options: JournalOptions
    @Option(help: "First sequence to print.") var from: UInt64?
    @Option(help: "Last sequence to print.") var to: UInt64?

    func run() throws {
        let (_, directory) = try options.load(command: "journal dump")
        do {
            let reader = try JournalReader(directory: directory)
            var sequence = from ?? reader.firstSequence ?? 1
            var out = ""
            while sequence <= (to ?? .max), let frame = try reader.frame(sequence) {
                guard case .success(let wire) = WireFrame.decode(frame), case .event(let event, let ts) = wire.message
                else {
                    FileHandleOutput.standardError("chronos journal dump: record \(sequence) is not an event\n")
                    throw ExitCode(1)
                }
                out += Self.json(event, clientTimestamp: ts)
                out += "\n"
                if out.utf8.count > 1 << 16 {
                    FileHandleOutput.standardOutput(out)
                    out = ""
                }
                sequence += 1
            }
            FileHandleOutput.standardOutput(out)
            if let to, sequence <= to {
                FileHandleOutput.standardError("chronos journal dump: no valid record of sequence \(sequence)\n")
            }
        } catch let error as JournalError {
            FileHandleOutput.standardError("chronos journal dump: \(directory): \(error)\n")
            throw ExitCode(1)
        }
    }

    static func json(_ event: EngineEvent, clientTimestamp: UInt64) -> String {
        func side(_ s: Side) -> String { s == .buy ? "buy" : "sell" }
        switch event {
        case .accepted(let e):
            return
                "{\"seq\":\(e.sequence),\"ev\":\"accepted\",\"id\":\(e.id.rawValue),\"account\":\(e.account.rawValue),"
                + "\"symbol\":\(e.symbol.rawValue),\"side\":\"\(side(e.side))\",\"price\":\(e.price),\"qty\":\(e.quantity),"
                + "\"client_ts\":\(clientTimestamp)}"
        case .rejected(let e):
            return
                "{\"seq\":\(e.sequence),\"ev\":\"rejected\",\"id\":\(e.id.rawValue),\"account\":\(e.account.rawValue),"
                + "\"symbol\":\(e.symbol.rawValue),\"reason\":\(e.reason.rawValue),\"client_ts\":\(clientTimestamp)}"
        case .fill(let e):
            return
                "{\"seq\":\(e.sequence),\"ev\":\"fill\",\"trade\":\(e.tradeID.rawValue),\"taker\":\(e.takerID.rawValue),"
                + "\"maker\":\(e.makerID.rawValue),\"symbol\":\(e.symbol.rawValue),\"price\":\(e.price),"
                + "\"qty\":\(e.quantity),\"taker_leaves\":\(e.takerLeaves),\"maker_leaves\":\(e.makerLeaves),"
                + "\"client_ts\":\(clientTimestamp)}"
        case .canceled(let e):
            return
                "{\"seq\":\(e.sequence),\"ev\":\"canceled\",\"id\":\(e.id.rawValue),\"account\":\(e.account.rawValue),"
                + "\"symbol\":\(e.symbol.rawValue),\"side\":\"\(side(e.side))\",\"qty\":\(e.quantity),"
                + "\"reason\":\(e.reason.rawValue),\"client_ts\":\(clientTimestamp)}"
        case .replaced(let e):
            return
                "{\"seq\":\(e.sequence),\"ev\":\"replaced\",\"id\":\(e.id.rawValue),\"account\":\(e.account.rawValue),"
                + "\"symbol\":\(e.symbol.rawValue),\"price\":\(e.price),\"qty\":\(e.quantity),"
                + "\"client_ts\":\(clientTimestamp)}"
        }
    }
}
