import ChronosConfig
import Testing

@Suite struct ShardMapTests {
    @Test func defaultIsOneInprocShardTradingTheDefaultSymbols() throws {
        let configuration = try ExchangeConfiguration.parse(toml: "")
        #expect(configuration.shards == [.inproc(id: 0)])
        let map = configuration.shardMap
        #expect(map.symbolNames == ["AAPL", "MSFT", "GOOG", "AMZN"])
        #expect(map.route("MSFT")! == (1, 0))
        #expect(map.route("NOPE") == nil)
    }

    @Test func listedSymbolsGoToTheirShardAndIdsAreGlobal() throws {
        let configuration = try ExchangeConfiguration.parse(
            toml: """
                [[symbols]]
                name = "AAPL"
                [[symbols]]
                name = "MSFT"
                [[symbols]]
                name = "GOOG"

                [[shards]]
                id = 0
                orders = "ipc:///tmp/c0-orders"
                events = "ipc:///tmp/c0-events"
                replay = "ipc:///tmp/c0-replay"
                symbols = ["GOOG"]
                idle = "spin"
                cpu = 1

                [[shards]]
                id = 1
                orders = "tcp://127.0.0.1:7100"
                events = "tcp://127.0.0.1:7101"
                replay = "tcp://127.0.0.1:7102"
                symbols = ["AAPL", "MSFT"]
                poll_timeout_us = 250
                retransmission_capacity = 4096
                """)
        let map = configuration.shardMap
        #expect(map.route("AAPL")! == (0, 1))
        #expect(map.route("MSFT")! == (1, 1))
        #expect(map.route("GOOG")! == (2, 0))
        #expect(configuration.shards[0].idle == .spin && configuration.shards[0].cpu == 1)
        #expect(configuration.shards[1].pollTimeoutMicroseconds == 250)
        #expect(configuration.shards[1].retransmissionCapacity == 4_096)
    }

    @Test func withoutListsSymbolsAreSpreadRoundRobin() throws {
        var configuration = ExchangeConfiguration()
        configuration.shards = [.inproc(id: 0), .inproc(id: 1)]
        let map = configuration.shardMap
        #expect(map.shardOfSymbol == [0, 1, 0, 1])
    }

    @Test func shardMistakesAreNamedByKey() {
        do {
            _ = try ExchangeConfiguration.parse(
                toml: """
                    [[shards]]
                    id = 1
                    orders = "udp://x"
                    events = "inproc://e"
                    replay = "inproc://e"
                    symbols = ["AAPL", "ZZZZ"]
                    colour = "red"
                    idle = "nap"
                    [[shards]]
                    id = 2
                    orders = "inproc://o2"
                    events = "inproc://e2"
                    replay = "inproc://r2"
                    symbols = ["AAPL"]
                    [[shards]]
                    events = "inproc://e3"
                    """, source: "s.toml")
            Issue.record("expected errors")
        } catch {
            let text = error.description
            for fragment in [
                "s.toml: shards[0].colour: unknown key", "s.toml: shards[0].idle: must be \"spin\" or \"poll\"",
                "s.toml: shards[2].id: missing", "s.toml: shards[2].orders: missing",
            ] {
                #expect(text.contains(fragment), "missing: \(fragment)\n\(text)")
            }
        }
        do {
            _ = try ExchangeConfiguration.parse(
                toml: """
                    [[shards]]
                    id = 1
                    orders = "udp://x"
                    events = "inproc://e"
                    replay = "inproc://e"
                    symbols = ["AAPL", "ZZZZ"]
                    [[shards]]
                    id = 2
                    orders = "inproc://o2"
                    events = "inproc://e2"
                    replay = "inproc://r2"
                    symbols = ["AAPL"]
                    """, source: "s.toml")
            Issue.record("expected errors")
        } catch {
            let text = error.description
            for fragment in [
                "s.toml: shards[0].id: must be 0", "s.toml: shards[1].id: must be 1",
                "s.toml: shards[0].orders: must start with inproc://, ipc:// or tcp://",
                "s.toml: shards[0].replay: inproc://e is also shards[0].events",
                "s.toml: shards[0].symbols: unknown symbol ZZZZ",
                "s.toml: shards[1].symbols: AAPL is already in shards[0]",
                "s.toml: shards: symbol MSFT is in no shard's symbols list",
            ] {
                #expect(text.contains(fragment), "missing: \(fragment)\n\(text)")
            }
        }
    }
}
