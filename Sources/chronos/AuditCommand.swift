import ArgumentParser
import ChronosConfig
import ChronosCore
import Persistence
import Runtime

/// `chronos audit`: what the store holds about an order or a symbol's trades (docs/persistence.md,
/// "Audit"). The store is chosen as `chronos persist` chooses it; queries are
/// ``EventStore/orderHistory(id:)`` and ``EventStore/trades(symbol:since:limit:)``, the text is
/// ``AuditReport``'s; this file only reads arguments, opens the store and prints.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print an order's history or a symbol's trades from the persisted store.",
        discussion: """
            Reads the store that `chronos persist` writes (same --config, --store, --sqlite-path and libpq \
            variables). Symbols are named and prices formatted as in the configuration's [[symbols]]. Exit \
            codes: 0 found, 1 unknown order id or a store that cannot be opened, 2 invalid configuration, \
            64 usage (unknown symbol, bad --since).
            """,
        subcommands: [AuditOrderCommand.self, AuditTradesCommand.self]
    )
}

/// `chronos audit order <id>`.
struct AuditOrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "An order's final state, then every event that concerns it in sequence order.",
        discussion: """
            Events: accepted, replaced, fills where the order was the taker or the maker (with the \
            counterparty order, trade id, price, quantity and the order's open quantity after it), canceled \
            and rejected with their reasons, across all shards. Exit 1 when the store knows nothing of the id.
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The engine order id, in decimal.") var id: String
    @Flag(help: "Print one JSON document instead of a table.") var json = false

    func validate() throws {
        guard UInt64(id) != nil else {
            throw ValidationError("order id: expected a decimal number in 0...\(UInt64.max) (got \(id))")
        }
    }

    func run() throws {
        let exchange = try storeOptions.exchange(command: "audit")
        let orderID = OrderID(UInt64(id) ?? 0)
        let store = try StoreOptions.openForReading(exchange.persistence, command: "audit")
        defer { store.close() }
        let history: OrderHistory?
        do {
            history = try store.orderHistory(id: orderID)
        } catch {
            FileHandleOutput.standardError("chronos audit: reading the store failed: \(error)\n")
            throw ExitCode(1)
        }
        guard let history else {
            FileHandleOutput.standardError(
                "chronos audit: unknown order id \(id): the store (\(StoreOptions.describe(exchange.persistence))) "
                    + "has no order or event with it\n")
            throw ExitCode(1)
        }
        let symbols = exchange.liveSymbols
        FileHandleOutput.standardOutput(
            json
                ? AuditReport.orderJSON(history, symbols: symbols) : AuditReport.orderTable(history, symbols: symbols))
    }
}

/// `chronos audit trades --symbol S [--since T] [--limit N]`.
struct AuditTradesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trades",
        abstract: "A symbol's trades in trade order.",
        discussion: """
            --since bounds the time the persister received each trade (its wall clock, stored as \
            recorded_at_ns): the engine's events carry no wall-clock time. It takes ISO-8601 with a zone \
            (2026-12-06T10:00:00Z, 2026-12-06T11:00:00+01:00), a UTC date (2026-12-06) or Unix seconds \
            (1796551200). Trades stored before the store had recorded times are left out by --since.
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The symbol's name, as in the configuration's [[symbols]].") var symbol: String
    @Option(help: "Only trades the persister received at or after this time (ISO-8601 or Unix seconds).")
    var since: String?
    @Option(help: "At most this many trades, the first in trade order (default: all).") var limit: Int?
    @Flag(help: "Print one JSON document instead of a table.") var json = false

    func validate() throws {
        if let since, AuditReport.parseTime(since) == nil {
            throw ValidationError(
                "--since: expected ISO-8601 with a zone (2026-12-06T10:00:00Z), a date (2026-12-06) "
                    + "or Unix seconds (got \(since))")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be >= 1 (got \(limit))") }
    }

    func run() throws {
        let exchange = try storeOptions.exchange(command: "audit")
        let symbols = exchange.liveSymbols
        guard let index = symbols.firstIndex(where: { $0.name == symbol }) else {
            throw ValidationError(
                "--symbol: unknown symbol \(symbol) (configured: \(symbols.map(\.name).joined(separator: ", ")))")
        }
        let sinceNanos = since.flatMap(AuditReport.parseTime)
        let store = try StoreOptions.openForReading(exchange.persistence, command: "audit")
        defer { store.close() }
        let trades: [StoredTrade]
        do {
            trades = try store.trades(symbol: SymbolID(UInt32(index)), since: sinceNanos, limit: limit)
        } catch {
            FileHandleOutput.standardError("chronos audit: reading the store failed: \(error)\n")
            throw ExitCode(1)
        }
        FileHandleOutput.standardOutput(
            json
                ? AuditReport.tradesJSON(trades, symbol: symbol, sinceNanos: sinceNanos, limit: limit, symbols: symbols)
                : AuditReport.tradesTable(trades, symbol: symbol, sinceNanos: sinceNanos, symbols: symbols))
    }
}
