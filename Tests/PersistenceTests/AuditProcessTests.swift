import ChronosCore
import Foundation
import Persistence
import TestSupport
import Testing

/// The `chronos audit` binary against a store the tests wrote, on SQLite and PostgreSQL: output,
/// JSON and exit codes (0 found, 1 unknown order id or no store, 64 usage).
@Suite(.serialized) struct AuditProcessTests {
    struct Result {
        var code: Int32
        var output: String
        var error: String
    }

    /// Runs `chronos` with `arguments` and `environment` added to this process's.
    static func chronos(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for key in ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGPASSFILE"] {
            merged[key] = nil
        }
        process.environment = merged.merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            code: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
            error: String(decoding: err, as: UTF8.self))
    }

    /// A configuration naming the audit symbols and a store holding ``auditItems()``: the
    /// arguments and environment that select it.
    struct AuditStore {
        let arguments: [String]
        let environment: [String: String]
        let dir: URL

        init(_ kind: StoreKind) throws {
            dir = temporaryDirectory()
            let sqlitePath = dir.appendingPathComponent("chronos.sqlite").path
            let config = dir.appendingPathComponent("chronos.toml").path
            try """
            [[symbols]]
            name = "AAPL"
            max_qty = 1000000
            max_price = 100000000
            [[symbols]]
            name = "MSFT"
            max_qty = 1000000
            max_price = 100000000

            [persistence]
            sqlite_path = "\(sqlitePath)"
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let store: any EventStore
            switch kind {
            case .sqlite:
                store = try SQLiteEventStore(path: sqlitePath)
                arguments = ["--config", config]
                environment = [:]
            case .postgresql:
                let endpoint = try StoreKind.postgresEndpoint()
                store = try PostgresEventStore(endpoint)
                arguments = ["--config", config, "--store", "postgresql"]
                environment = [
                    "PGHOST": endpoint.host, "PGPORT": String(endpoint.port), "PGUSER": endpoint.user,
                    "PGDATABASE": endpoint.database,
                ]
            }
            defer { store.close() }
            try store.write(batch: auditItems())
        }

        func run(_ command: [String]) throws -> Result {
            try AuditProcessTests.chronos(["audit"] + command + arguments, environment: environment)
        }
    }

    @Test(arguments: StoreKind.available)
    func orderHistoryAsATableAndAsJSON(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try AuditStore(kind)
            let table = try store.run(["order", "10"])
            #expect(table.code == 0, "\(table.error)")
            #expect(table.output.hasPrefix("order 10 on shard 0: AAPL sell limit gtc, account 1\n"))
            #expect(table.output.contains("status canceled, price 101.00, quantity 9, filled 6, leaves 0"))
            #expect(table.output.split(separator: "\n").filter { $0.contains(" maker ") }.count == 2)
            #expect(table.output.contains("unknown_order"))

            let json = try store.run(["order", "10", "--json"])
            #expect(json.code == 0, "\(json.error)")
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
            #expect(document["order_id"] as? String == "10")
            let events = try #require(document["events"] as? [[String: Any]])
            #expect(events.map { $0["sequence"] as? Int } == [1, 3, 4, 6, 7, 8])
            #expect(
                events.filter { $0["kind"] as? String == "fill" }.map { $0["counter_order_id"] as? String } == [
                    "11", "12",
                ])
            #expect((document["orders"] as? [[String: Any]])?.first?["status"] as? String == "canceled")
        }
    }

    @Test(arguments: StoreKind.available)
    func tradesBySymbolSinceAndLimit(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try AuditStore(kind)
            let all = try store.run(["trades", "--symbol", "AAPL"])
            #expect(all.code == 0, "\(all.error)")
            #expect(all.output.hasPrefix("trades of AAPL: 2\n"))
            let since = try store.run(["trades", "--symbol", "AAPL", "--since", "2026-12-06T10:30:00Z"])
            #expect(since.code == 0, "\(since.error)")
            #expect(since.output.hasPrefix("trades of AAPL recorded since 2026-12-06T10:30:00.000Z: 1\n"))
            #expect(since.output.contains("101.00"))
            let unix = try store.run(["trades", "--symbol", "AAPL", "--since", "1796553000", "--json"])
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(unix.output.utf8)) as? [String: Any])
            #expect(document["count"] as? Int == 1)
            #expect((document["trades"] as? [[String: Any]])?.first?["trade_id"] as? String == "2")
            let limited = try store.run(["trades", "--symbol", "AAPL", "--limit", "1", "--json"])
            let first = try #require(
                try JSONSerialization.jsonObject(with: Data(limited.output.utf8)) as? [String: Any])
            #expect((first["trades"] as? [[String: Any]])?.map { $0["trade_id"] as? String } == ["1"])
            let msft = try store.run(["trades", "--symbol", "MSFT"])
            #expect(msft.output.hasPrefix("trades of MSFT: 1\n") && msft.output.contains("20.00"))
        }
    }

    @Test(arguments: StoreKind.available)
    func unknownOrderIDExitsOneWithAMessage(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try AuditStore(kind)
            let unknown = try store.run(["order", "999"])
            #expect(unknown.code == 1)
            #expect(unknown.output.isEmpty)
            #expect(unknown.error.contains("chronos audit: unknown order id 999"))
            #expect(!unknown.error.contains("Fatal error"))
        }
    }

    @Test func badInputIsAUsageError() async throws {
        try await offThePool {
            let store = try AuditStore(.sqlite)
            let symbol = try store.run(["trades", "--symbol", "NOPE"])
            #expect(symbol.code == 64)
            #expect(symbol.error.contains("unknown symbol NOPE (configured: AAPL, MSFT)"))
            for since in ["yesterday", "2026-12-06T10:00:00", "2026-02-30"] {
                let bad = try store.run(["trades", "--symbol", "AAPL", "--since", since])
                #expect(bad.code == 64, "\(since)")
                #expect(bad.error.contains("--since: expected ISO-8601"), "\(since)")
            }
            let id = try store.run(["order", "12abc"])
            #expect(id.code == 64)
            #expect(id.error.contains("order id: expected a decimal number"))
            let negative = try store.run(["trades", "--symbol", "AAPL", "--limit", "0"])
            #expect(negative.code == 64)
            let kind = try store.run(["order", "10", "--store", "mysql"])
            #expect(kind.code == 64)
        }
    }

    @Test func aMissingStoreIsNotCreated() async throws {
        try await offThePool {
            let dir = temporaryDirectory()
            let path = dir.appendingPathComponent("none/chronos.sqlite").path
            let result = try Self.chronos(["audit", "order", "1", "--sqlite-path", path])
            #expect(result.code == 1)
            #expect(result.error.contains("no store: \(path) does not exist"))
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }
}
