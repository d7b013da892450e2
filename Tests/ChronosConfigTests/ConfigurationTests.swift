import ChronosConfig
import ChronosCore
import Testing

@Suite struct ConfigurationTests {
    @Test func emptyFileGivesTheEmbeddedDefaults() throws {
        let configuration = try ExchangeConfiguration.parse(toml: "")
        #expect(configuration == ExchangeConfiguration())
        #expect(configuration.engine.orderCapacity == 1_000_000)
        #expect(configuration.symbols.isEmpty)
    }

    @Test func readsEngineCapacitiesAndSymbolsInFileOrder() throws {
        let configuration = try ExchangeConfiguration.parse(
            toml: """
                [engine]
                order_capacity = 5000
                symbol_capacity = 8
                id_capacity = 4096

                [[symbols]]
                name = "AAPL"
                tick_size = 5
                lot_size = 100
                min_qty = 100
                max_qty = 1000000
                min_price = 5
                max_price = 1000000
                price_decimals = 2

                [[symbols]]
                name = "MSFT"
                """)
        #expect(configuration.engine.orderCapacity == 5_000)
        #expect(configuration.engine.symbolCapacity == 8)
        #expect(configuration.engine.usedIDBlockCapacity == 4_096)
        #expect(configuration.symbols.map(\.name) == ["AAPL", "MSFT"])
        #expect(
            configuration.symbols[0]
                == SymbolConfiguration(
                    name: "AAPL", tickSize: 5, lotSize: 100, minQuantity: 100, maxQuantity: 1_000_000, minPrice: 5,
                    maxPrice: 1_000_000, priceDecimals: 2))
        #expect(configuration.symbols[1] == SymbolConfiguration(name: "MSFT"))
    }

    @Test func readsTheEnginesMemoryOptions() throws {
        #expect(try ExchangeConfiguration.parse(toml: "").engine.prefault)
        #expect(try !ExchangeConfiguration.parse(toml: "").engine.hugePages)
        let configuration = try ExchangeConfiguration.parse(toml: "[engine]\nprefault = false\nhuge_pages = true")
        #expect(!configuration.engine.prefault)
        #expect(configuration.engine.hugePages)
        #expect(throws: (any Error).self) { try ExchangeConfiguration.parse(toml: "[engine]\nprefault = 1") }
    }

    @Test func everyProblemIsReportedNamingItsKey() {
        do {
            _ = try ExchangeConfiguration.parse(
                toml: """
                    colour = 1
                    [engine]
                    order_capacity = "big"
                    [[symbols]]
                    name = "AAPL"
                    tick_size = 0
                    lot_sise = 3
                    [[symbols]]
                    tick_size = 1
                    [[symbols]]
                    name = "AAPL"
                    """, source: "test.toml")
            Issue.record("expected an error")
        } catch {
            let text = error.description
            for fragment in [
                "test.toml: colour: unknown key", "test.toml: engine.order_capacity: must be an integer",
                "test.toml: symbols[0].tick_size: must be > 0", "test.toml: symbols[0].lot_sise: unknown key",
                "test.toml: symbols[1].name: missing", "test.toml: symbols[2].name: symbol AAPL is configured twice",
            ] {
                #expect(text.contains(fragment), "missing: \(fragment)\n\(text)")
            }
        }
    }

    @Test func syntaxErrorsNameTheLine() {
        do {
            _ = try ExchangeConfiguration.parse(toml: "[engine]\norder_capacity = = 3\n", source: "bad.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("bad.toml:2:"))
        }
    }

    @Test func wireCodesOfRejectReasonsAreTheProtocolStrings() {
        #expect(
            RejectReason.allCases.map(\.code) == [
                "malformed", "duplicate_id", "unknown_order", "not_owner", "invalid_price", "invalid_qty",
                "post_only_would_cross", "fok_unfillable", "unknown_symbol", "capacity_exhausted",
            ])
        #expect(Side.buy.opposite == .sell && Side.sell.opposite == .buy)
    }
}
