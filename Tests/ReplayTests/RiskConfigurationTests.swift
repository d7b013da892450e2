import ChronosConfig
import ChronosCore
import RiskEngine
import Testing

/// The `[risk]` table: defaults, overrides, and errors that name the key.
@Suite struct RiskConfigurationTests {
    private func problems(_ toml: String) -> [String] {
        do {
            _ = try ExchangeConfiguration.parse(toml: toml, source: "t.toml")
            return []
        } catch {
            return error.problems
        }
    }

    @Test func defaultsWithoutARiskTable() throws {
        let risk = try ExchangeConfiguration.parse(toml: "").risk
        #expect(risk == RiskConfiguration())
        let symbol = risk.symbolLimits(named: "AAPL")
        #expect(symbol.maxNotionalMicros == 1_000_000 * 1_000_000)
        #expect(symbol.tickValueMicros == 10_000)
        #expect(symbol.maxOrderQuantity == 1_000_000)
        #expect(symbol.priceBandBasisPoints == 1_000)
        #expect(symbol.referencePrice == 0)
        let account = risk.accountLimits(named: "A1")
        #expect(account.maxOpenOrders == 10_000)
        #expect(account.creditLimitMicros == 100_000_000 * 1_000_000)
        #expect(account.maxPosition == 10_000_000)
        #expect(account.maxMessagesPerSecond == 0)
        #expect(!account.killed)
        #expect(risk.validationErrors.isEmpty)
    }

    @Test func readsEveryKeyWithOverridesOnTopOfDefaults() throws {
        let risk = try ExchangeConfiguration.parse(
            toml: """
                [risk]
                account_capacity = 8
                symbol_capacity = 4
                order_capacity = 100
                position_capacity = 32
                tick_value_micros = 1
                max_notional_usd = 5000
                max_order_qty = 700
                price_band_bps = 250
                max_open_orders = 3
                credit_limit_usd = 900
                max_position = 40
                max_messages_per_second = 10
                message_burst = 4

                [[risk.symbols]]
                name = "AAPL"
                max_order_qty = 50
                price_band_bps = 0
                reference_price = 18950
                tick_value_micros = 100
                max_notional_usd = 7

                [[risk.accounts]]
                account = "A1"
                max_open_orders = 1
                credit_limit_usd = 2
                max_position = 3
                max_messages_per_second = 500
                message_burst = 50
                killed = true

                [[risk.accounts]]
                account = 101
                max_messages_per_second = 20
                """
        ).risk
        #expect(risk.accountCapacity == 8 && risk.symbolCapacity == 4)
        #expect(risk.orderCapacity == 100 && risk.positionCapacity == 32)
        #expect(
            risk.symbolLimits(named: "MSFT")
                == SymbolRiskLimits(
                    tickValueMicros: 1, maxNotionalMicros: 5_000_000_000, maxOrderQuantity: 700,
                    priceBandBasisPoints: 250, referencePrice: 0))
        #expect(
            risk.symbolLimits(named: "AAPL")
                == SymbolRiskLimits(
                    tickValueMicros: 100, maxNotionalMicros: 7_000_000, maxOrderQuantity: 50, priceBandBasisPoints: 0,
                    referencePrice: 18_950))
        #expect(
            risk.accountLimits(named: "B2")
                == AccountRiskLimits(
                    maxOpenOrders: 3, creditLimitMicros: 900_000_000, maxPosition: 40, maxMessagesPerSecond: 10,
                    messageBurst: 4, killed: false))
        #expect(
            risk.accountLimits(named: "A1")
                == AccountRiskLimits(
                    maxOpenOrders: 1, creditLimitMicros: 2_000_000, maxPosition: 3, maxMessagesPerSecond: 500,
                    messageBurst: 50, killed: true))
        // An account's own rate comes with one second's worth of burst.
        #expect(risk.accountLimits(named: "101").maxMessagesPerSecond == 20)
        #expect(risk.accountLimits(named: "101").messageBurst == 20)
        #expect(risk.accounts[1].accountNumber == 101)
    }

    @Test(arguments: [
        ("[risk]\nmax_notionl_usd = 5", "t.toml: risk.max_notionl_usd: unknown key"),
        ("[risk]\nmax_notional_usd = 0", "t.toml: risk.max_notional_usd: must be > 0 (got 0)"),
        ("[risk]\nmax_notional_usd = \"1M\"", "t.toml: risk.max_notional_usd: must be an integer"),
        ("[risk]\ntick_value_micros = -1", "t.toml: risk.tick_value_micros: must be > 0 (got -1)"),
        ("[risk]\nprice_band_bps = -5", "t.toml: risk.price_band_bps: must be >= 0 (got -5)"),
        ("[risk]\norder_capacity = 0", "t.toml: risk.order_capacity: must be in 1...268435456 (got 0)"),
        (
            "[risk]\nmax_messages_per_second = -1",
            "t.toml: risk.max_messages_per_second: must be in 0...1000000000 (got -1)"
        ),
        ("[risk]\nmessage_burst = 0", "t.toml: risk.message_burst: must be in 1...1000000000 (got 0)"),
        ("risk = 5", "t.toml: risk: must be a table"),
        ("[risk]\nsymbols = 5", "t.toml: risk.symbols: must be an array of tables ([[risk.symbols]])"),
        ("[[risk.symbols]]\nmax_order_qty = 5", "t.toml: risk.symbols[0].name: missing"),
        (
            "[[risk.symbols]]\nname = \"A\"\nmax_order_qty = 0",
            "t.toml: risk.symbols[0].max_order_qty: must be > 0 (got 0)"
        ),
        (
            "[[risk.symbols]]\nname = \"A\"\nreference_price = 0",
            "t.toml: risk.symbols[0].reference_price: must be > 0 (got 0)"
        ),
        ("[[risk.symbols]]\nname = \"A\"\nband = 1", "t.toml: risk.symbols[0].band: unknown key"),
        (
            "[[risk.symbols]]\nname = \"A\"\n[[risk.symbols]]\nname = \"A\"",
            "t.toml: risk.symbols[1].name: symbol A is listed twice"
        ),
        (
            "[[symbols]]\nname = \"B\"\n[[risk.symbols]]\nname = \"A\"",
            "t.toml: risk.symbols[0].name: A is not one of the configured [[symbols]]"
        ),
        ("[[risk.accounts]]\nkilled = true", "t.toml: risk.accounts[0].account: missing"),
        (
            "[[risk.accounts]]\naccount = 1.5",
            "t.toml: risk.accounts[0].account: must be a string or an integer in 0...4294967295"
        ),
        (
            "[[risk.accounts]]\naccount = -1",
            "t.toml: risk.accounts[0].account: must be a string or an integer in 0...4294967295"
        ),
        ("[[risk.accounts]]\naccount = \"A\"\nkilled = 1", "t.toml: risk.accounts[0].killed: must be true or false"),
        (
            "[[risk.accounts]]\naccount = \"A\"\nmax_open_orders = -1",
            "t.toml: risk.accounts[0].max_open_orders: must be >= 0 (got -1)"
        ),
        ("[[risk.accounts]]\naccount = \"A\"\ncredit_limit = 5", "t.toml: risk.accounts[0].credit_limit: unknown key"),
        (
            "[[risk.accounts]]\naccount = \"A\"\n[[risk.accounts]]\naccount = \"A\"",
            "t.toml: risk.accounts[1].account: account A is listed twice"
        ),
    ])
    func badKeysAndValuesAreNamed(_ toml: String, _ expected: String) {
        #expect(problems(toml).contains(expected), "got \(problems(toml))")
    }
}
