import ChronosConfig
import Testing

@Suite struct MarketDataSettingsTests {
    @Test func defaultsRunMarketDataOnEndpointsDerivedFromEachShards() throws {
        let configuration = try ExchangeConfiguration.parse(toml: "")
        #expect(configuration.marketData == MarketDataSettings())
        #expect(configuration.marketData.enabled)
        let shard = configuration.shards[0]
        #expect(shard.resolvedMarketDataEndpoint == "inproc://chronos-shard-0-market-data")
        #expect(shard.resolvedMarketDataSnapshotEndpoint == "inproc://chronos-shard-0-market-data-snapshots")
    }

    @Test func keysAreReadAndEndpointsDerivedOrGiven() throws {
        let configuration = try ExchangeConfiguration.parse(
            toml: """
                [market_data]
                enabled = false
                snapshot_interval_ms = 0
                heartbeat_interval_ms = 250
                send_high_water_mark = 1000
                level_capacity_per_side = 512
                [[shards]]
                id = 0
                orders = "ipc:///tmp/c0-orders"
                events = "ipc:///tmp/c0-events"
                replay = "ipc:///tmp/c0-replay"
                [[shards]]
                id = 1
                orders = "tcp://127.0.0.1:7110"
                events = "tcp://127.0.0.1:7111"
                replay = "tcp://127.0.0.1:7112"
                [[shards]]
                id = 2
                orders = "tcp://127.0.0.1:7120"
                events = "tcp://127.0.0.1:7121"
                replay = "tcp://127.0.0.1:7122"
                market_data = "tcp://127.0.0.1:7123"
                market_data_snapshots = "tcp://127.0.0.1:7124"
                """)
        var expected = MarketDataSettings()
        expected.enabled = false
        expected.snapshotIntervalMilliseconds = 0
        expected.heartbeatIntervalMilliseconds = 250
        expected.sendHighWaterMark = 1_000
        expected.levelCapacityPerSide = 512
        #expect(configuration.marketData == expected)
        let shards = configuration.shards
        #expect(shards[0].resolvedMarketDataEndpoint == "ipc:///tmp/c0-market-data")
        #expect(shards[0].resolvedMarketDataSnapshotEndpoint == "ipc:///tmp/c0-market-data-snapshots")
        #expect(shards[1].resolvedMarketDataEndpoint == "tcp://127.0.0.1:*", "a free port, logged")
        #expect(shards[2].resolvedMarketDataEndpoint == "tcp://127.0.0.1:7123")
        #expect(shards[2].resolvedMarketDataSnapshotEndpoint == "tcp://127.0.0.1:7124")
    }

    @Test func badValuesAndKeysAreNamed() {
        do {
            _ = try ExchangeConfiguration.parse(
                toml: """
                    [market_data]
                    heartbeat_interval_ms = 0
                    snapshot_interval_ms = -1
                    send_high_water_mark = 0
                    level_capacity_per_side = 0
                    depth = 3
                    [[shards]]
                    id = 0
                    orders = "inproc://o"
                    events = "inproc://e"
                    replay = "inproc://r"
                    market_data = "inproc://e"
                    market_data_snapshots = "udp://x"
                    """, source: "m.toml")
            Issue.record("expected errors")
        } catch {
            for fragment in [
                "m.toml: market_data.depth: unknown key", "m.toml: market_data.heartbeat_interval_ms: must be > 0",
                "m.toml: market_data.snapshot_interval_ms: must be >= 0",
                "m.toml: market_data.send_high_water_mark: must be in",
                "m.toml: market_data.level_capacity_per_side: must be in",
            ] {
                #expect(error.description.contains(fragment), "missing: \(fragment)\n\(error)")
            }
        }
        do {
            _ = try ExchangeConfiguration.parse(
                toml: """
                    [[shards]]
                    id = 0
                    orders = "inproc://o"
                    events = "inproc://e"
                    replay = "inproc://r"
                    market_data = "inproc://e"
                    market_data_snapshots = "udp://x"
                    """, source: "m.toml")
            Issue.record("expected errors")
        } catch {
            for fragment in [
                "m.toml: shards[0].market_data: inproc://e is also shards[0].events",
                "m.toml: shards[0].market_data_snapshots: must start with inproc://, ipc:// or tcp://",
            ] {
                #expect(error.description.contains(fragment), "missing: \(fragment)\n\(error)")
            }
        }
    }
}
