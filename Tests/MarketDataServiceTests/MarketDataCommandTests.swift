import ChronosConfig
import ChronosCore
import ExchangeAssembly
import Foundation
import Logging
import Messaging
import TestSupport
import Testing

/// `chronos marketdata` (a child process) against shards and the market-data service in this
/// process, on ipc endpoints; and `chronos run`'s assembly, which includes the service by default.
@Suite(.serialized) struct MarketDataCommandTests {
    /// The rig's configuration on ipc endpoints in `directory`, and the same as TOML.
    static func ipcRig(_ directory: String) throws -> (MarketDataRig, toml: String) {
        let rig = try MarketDataRig(shardCount: 1) { exchange in
            exchange.shards = [
                ShardConfiguration(
                    id: 0, ordersEndpoint: "ipc://\(directory)/orders", eventsEndpoint: "ipc://\(directory)/events",
                    replayEndpoint: "ipc://\(directory)/replay")
            ]
            exchange.symbols[0].priceDecimals = 2
        }
        let symbols = rig.exchange.liveSymbols.map {
            "[[symbols]]\nname = \"\($0.name)\"\nprice_decimals = \($0.priceDecimals)\n"
        }
        let toml =
            symbols.joined()
                + """
                [[shards]]
                id = 0
                orders = "ipc://\(directory)/orders"
                events = "ipc://\(directory)/events"
                replay = "ipc://\(directory)/replay"
                """
        return (rig, toml)
    }

    @Test func onceAndFollowPrintTheBookAndItsChanges() async throws {
        try await offThePool {
            let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "chronos-md-\(UInt32.random(in: 0...UInt32.max))"
            ).path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let (rig, toml) = try Self.ipcRig(directory)
            let config = directory + "/chronos.toml"
            try toml.write(toFile: config, atomically: true, encoding: .utf8)
            rig.submit([rig.new("AAPL", .buy, 10, at: 12_345), rig.new("AAPL", .sell, 3, at: 12_400)])

            // --once: the snapshot, offers above bids, prices with AAPL's 2 decimals.
            let once = Process()
            once.executableURL = binary
            once.arguments = ["marketdata", "--config", config, "--symbol", "AAPL", "--once"]
            let output = Pipe()
            once.standardOutput = output
            try once.run()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            once.waitUntilExit()
            #expect(once.terminationStatus == 0)
            #expect(
                printed.contains("offer  124.00 x 3 (1)") && printed.contains("bid    123.45 x 10 (1)"), "\(printed)")

            // Following: the top of book at once, then a trade and the new top.
            let follow = Process()
            follow.executableURL = binary
            follow.arguments = ["marketdata", "--config", config, "--symbol", "AAPL"]
            let lines = Pipe()
            follow.standardOutput = lines
            let received = Output()
            lines.fileHandleForReading.readabilityHandler = { handle in received.append(handle.availableData) }
            try follow.run()
            defer { if follow.isRunning { follow.terminate() } }
            var text: String { received.text }
            func read(until fragment: String) {
                let deadline = Date().addingTimeInterval(20)
                while !text.contains(fragment), Date() < deadline {
                    rig.drainReports()
                    usleep(10_000)
                }
            }
            read(until: "AAPL top  bid 123.45 x 10 (1)  offer 124.00 x 3 (1)")
            #expect(text.contains("AAPL top  bid 123.45 x 10 (1)  offer 124.00 x 3 (1)"), "\(text)")
            rig.submit([rig.new("AAPL", .sell, 4, at: 12_345, account: 2)])
            read(until: "offer 124.00")
            read(until: "AAPL top  bid 123.45 x 6 (1)")
            #expect(text.contains("AAPL trade 123.45 x 4 sell"), "\(text)")
            #expect(text.contains("AAPL top  bid 123.45 x 6 (1)  offer 124.00 x 3 (1)"), "\(text)")
            follow.terminate()
            follow.waitUntilExit()
            lines.fileHandleForReading.readabilityHandler = nil
        }
    }

    /// What a child printed so far, filled by a pipe's readability handler.
    final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    }

    @Test func anInprocExchangeIsRefusedWithTheReason() async throws {
        try await offThePool {
            let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
            let process = Process()
            process.executableURL = binary
            process.arguments = ["marketdata", "--symbol", "AAPL", "--once"]
            let error = Pipe()
            process.standardError = error
            try process.run()
            let message = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 2)
            #expect(message.contains("inproc://chronos-shard-0-market-data") && message.contains("market_data"))
        }
    }

    @Test func chronosRunAssemblesTheMarketDataServiceByDefault() throws {
        var logger = Logger(label: "test.assembly")
        logger.logLevel = .error
        let context = try ZMQContext()
        let standard = try ExchangeAssembly(
            ExchangeConfiguration(), context: context, logger: logger, options: .init(persister: false))
        #expect(standard.marketData != nil)
        var off = ExchangeConfiguration()
        off.marketData.enabled = false
        let without = try ExchangeAssembly(off, context: context, logger: logger, options: .init(persister: false))
        #expect(without.marketData == nil)
        #expect(standard.services.count == without.services.count + 1)
    }
}
