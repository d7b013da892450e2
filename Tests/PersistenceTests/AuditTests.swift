import ChronosCore
import Foundation
import TestSupport
import Testing

@testable import Persistence

/// The audit queries on both stores, and ``AuditReport``'s text and JSON.
@Suite struct AuditTests {
    func auditStore(_ kind: StoreKind) throws -> any EventStore {
        let store = try kind.makeStore()
        try store.write(batch: auditItems())
        return store
    }

    @Test(arguments: StoreKind.available)
    func historyOfAPartlyFilledReplacedThenCanceledMaker(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try auditStore(kind)
            defer { store.close() }
            let history = try #require(try store.orderHistory(id: OrderID(10)))
            let order = try #require(history.orders.first)
            #expect(history.orders.count == 1)
            #expect(order.shard == 0 && order.status == .canceled && order.side == .sell && order.type == .limit)
            #expect(order.timeInForce == .goodTillCancel && order.price == 10_100)
            #expect(order.quantity == 9 && order.cumulativeQuantity == 6 && order.leavesQuantity == 0)
            #expect(order.createdSequence == 1 && order.lastSequence == 7)
            // Its own events and the fills where it was the maker, in sequence order; not order 11's or 12's acceptance.
            #expect(history.events.map(\.event.sequence) == [1, 3, 4, 6, 7, 8])
            #expect(history.events.allSatisfy { $0.shard == 0 })
            let hour: UInt64 = 3_600 * 1_000_000_000
            #expect(
                history.events.map(\.recordedAtNanos) == [0, 0, hour, hour, hour, hour].map { auditTenOClock + $0 })

            let lines = AuditReport.lines(history)
            #expect(lines.map(\.kind) == ["accepted", "fill", "replaced", "fill", "canceled", "rejected"])
            #expect(lines.map(\.leaves) == [10, 6, 5, 3, 0, 0])
            let fills = lines.filter { $0.kind == "fill" }
            #expect(fills.map(\.role) == ["maker", "maker"])
            #expect(fills.map(\.side) == [.sell, .sell])
            #expect(fills.map(\.counterOrderID) == [OrderID(11), OrderID(12)])
            #expect(fills.map(\.tradeID) == [TradeID(1), TradeID(2)])
            #expect(fills.map(\.price) == [10_000, 10_100] && fills.map(\.quantity) == [4, 2])
            #expect(lines[4].reason == "requested" && lines[4].quantity == 3)
            #expect(lines[5].command == "cancel" && lines[5].reason == "unknown_order")
            #expect(lines[2].keptPriority == false && lines[2].price == 10_100)
        }
    }

    @Test(arguments: StoreKind.available)
    func historyOfATakerNamesTheMaker(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try auditStore(kind)
            defer { store.close() }
            let history = try #require(try store.orderHistory(id: OrderID(21)))
            #expect(history.orders.map(\.shard) == [1])
            #expect(history.orders.first?.status == .filled)
            let lines = AuditReport.lines(history)
            #expect(lines.map(\.kind) == ["accepted", "fill"])
            #expect(lines[1].role == "taker" && lines[1].side == .buy && lines[1].counterOrderID == OrderID(20))
            #expect(lines[1].leaves == 0 && lines[1].counterAccount == AccountID(4))
            #expect(lines[0].price == nil && lines[0].orderType == .market)
        }
    }

    @Test(arguments: StoreKind.available)
    func unknownOrderIDHasNoHistory(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try auditStore(kind)
            defer { store.close() }
            #expect(try store.orderHistory(id: OrderID(999)) == nil)
            #expect(try store.orderHistory(id: OrderID(UInt64.max)) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func tradesBySymbolSinceAndLimit(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try auditStore(kind)
            defer { store.close() }
            let aapl = try store.trades(symbol: SymbolID(0), since: nil, limit: nil)
            #expect(aapl.map(\.tradeID) == [TradeID(1), TradeID(2)])
            #expect(aapl.allSatisfy { $0.symbol == SymbolID(0) && $0.shard == 0 })
            #expect(aapl[1].takerID == OrderID(12) && aapl[1].makerID == OrderID(10) && aapl[1].price == 10_100)
            #expect(aapl[1].takerAccount == AccountID(3) && aapl[1].makerAccount == AccountID(1))
            #expect(aapl[1].takerSide == .buy && aapl[1].sequence == 6)
            #expect(aapl.map(\.recordedAtNanos) == [auditTenOClock, auditTenOClock + 3_600_000_000_000])
            let halfPast = auditTenOClock + 1_800 * 1_000_000_000
            #expect(try store.trades(symbol: SymbolID(0), since: halfPast, limit: nil).map(\.tradeID) == [TradeID(2)])
            #expect(try store.trades(symbol: SymbolID(0), since: auditTenOClock, limit: nil).count == 2)
            #expect(try store.trades(symbol: SymbolID(0), since: nil, limit: 1).map(\.tradeID) == [TradeID(1)])
            #expect(
                try store.trades(symbol: SymbolID(0), since: auditTenOClock + 7_200_000_000_000, limit: nil).isEmpty)
            let msft = try store.trades(symbol: SymbolID(1), since: nil, limit: nil)
            #expect(msft.map(\.shard) == [1] && msft.first?.takerID == OrderID(21))
            #expect(try store.trades(symbol: SymbolID(7), since: nil, limit: nil).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func eventsWithoutAReceiveTimeAreRecordedAtTheWrite(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try kind.makeStore()
            defer { store.close() }
            let before = UInt64(Date().timeIntervalSince1970 * 1e9)
            try store.write(batch: items(sampleEvents()))
            let after = UInt64(Date().timeIntervalSince1970 * 1e9)
            let trade = try #require(try store.trades(symbol: SymbolID(0), since: nil, limit: nil).first)
            let recorded = try #require(trade.recordedAtNanos)
            #expect(recorded >= before - 1_000_000 && recorded <= after + 1_000_000)
        }
    }

    /// A store written before `recorded_at_ns` existed gains the column when opened: its old rows
    /// have no time (left out by `since`), new rows have one.
    @Test(arguments: StoreKind.available)
    func anOlderStoreGainsTheRecordedColumn(_ kind: StoreKind) async throws {
        try await offThePool {
            let store = try auditStore(kind)
            defer { store.close() }
            let sql = try #require(store as? any SQLEventStore)
            try sql.transaction { session in
                try session.execute("DROP INDEX trades_by_symbol", [])
                try session.execute("ALTER TABLE events DROP COLUMN recorded_at_ns", [])
                try session.execute("ALTER TABLE trades DROP COLUMN recorded_at_ns", [])
            }
            try store.migrate()
            try store.migrate()
            // The index is back (dropping it again succeeds), and comes back again.
            try sql.transaction { try $0.execute("DROP INDEX trades_by_symbol", []) }
            try store.migrate()
            #expect(try store.trades(symbol: SymbolID(0), since: nil, limit: nil).map(\.recordedAtNanos) == [nil, nil])
            #expect(try store.trades(symbol: SymbolID(0), since: 0, limit: nil).isEmpty)
            #expect(try store.orderHistory(id: OrderID(10))?.events.first?.recordedAtNanos == nil)
            try store.write(batch: items([shiftedFill(sequence: 9, trade: 3)]))
            let trades = try store.trades(symbol: SymbolID(0), since: 0, limit: nil)
            #expect(trades.map(\.tradeID) == [TradeID(3)])
        }
    }

    func shiftedFill(sequence: UInt64, trade: UInt64) -> EngineEvent {
        .fill(
            Fill(
                sequence: sequence, tradeID: TradeID(trade), symbol: SymbolID(0), takerID: OrderID(30),
                makerID: OrderID(31), takerAccount: AccountID(1), makerAccount: AccountID(2), takerSide: .sell,
                price: 9_900, quantity: 1, takerLeaves: 0, makerLeaves: 0))
    }

    // MARK: Text and JSON

    func history10() throws -> OrderHistory {
        let store = try auditStore(.sqlite)
        defer { store.close() }
        return try #require(try store.orderHistory(id: OrderID(10)))
    }

    /// The table row of `sequence`, split on runs of spaces.
    func row(_ text: String, sequence: String) -> [String]? {
        text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .first { $0.count > 3 && $0[1] == sequence && $0[0] == "0" }
    }

    @Test func orderTableShowsTheFinalStateThenEachEvent() async throws {
        try await offThePool {
            let text = AuditReport.orderTable(try history10(), symbols: auditSymbols)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines[0] == "order 10 on shard 0: AAPL sell limit gtc, account 1")
            #expect(lines[1] == "  status canceled, price 101.00, quantity 9, filled 6, leaves 0 (sequences 1…7)")
            #expect(lines[3].hasPrefix("SHARD  SEQ  RECORDED (UTC)") && lines[3].hasSuffix("DETAIL"))
            #expect(
                row(text, sequence: "1")
                    == ["0", "1", "2026-12-06T10:00:00.000Z", "accepted", "sell", "100.00", "10", "10", "limit", "gtc"])
            #expect(
                row(text, sequence: "3")
                    == [
                        "0", "3", "2026-12-06T10:00:00.000Z", "fill", "maker", "sell", "100.00", "4", "6", "11", "1",
                        "counter", "account", "2",
                    ])
            #expect(
                row(text, sequence: "4")
                    == [
                        "0", "4", "2026-12-06T11:00:00.000Z", "replaced", "sell", "101.00", "5", "5", "lost",
                        "priority",
                    ])
            #expect(
                row(text, sequence: "7") == [
                    "0", "7", "2026-12-06T11:00:00.000Z", "canceled", "sell", "3", "0", "requested",
                ])
            #expect(
                row(text, sequence: "8")
                    == ["0", "8", "2026-12-06T11:00:00.000Z", "rejected", "0", "cancel", "refused,", "unknown_order"])
            // Columns line up: every row is as wide as its cells need, the header's columns start where the cells do.
            let header = String(lines[3])
            let fill = try #require(lines.first { $0.contains(" fill ") })
            let priceEnd = header.distance(
                from: header.startIndex, to: try #require(header.range(of: "PRICE")).upperBound)
            let fillPriceEnd = fill.distance(
                from: fill.startIndex, to: try #require(fill.range(of: "100.00")).upperBound)
            #expect(priceEnd == fillPriceEnd)
        }
    }

    @Test func orderJSONIsOneDocumentWithTheDocumentedFields() async throws {
        try await offThePool {
            let text = AuditReport.orderJSON(try history10(), symbols: auditSymbols)
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(document["order_id"] as? String == "10")
            let orders = try #require(document["orders"] as? [[String: Any]])
            #expect(orders.count == 1)
            let order = orders[0]
            #expect(order["status"] as? String == "canceled" && order["symbol"] as? String == "AAPL")
            #expect(order["price"] as? String == "101.00" && order["price_units"] as? Int == 10_100)
            #expect(order["quantity"] as? Int == 9 && order["cum_qty"] as? Int == 6 && order["leaves_qty"] as? Int == 0)
            #expect(order["side"] as? String == "sell" && order["type"] as? String == "limit")
            #expect(order["time_in_force"] as? String == "gtc" && order["account"] as? Int == 1)
            #expect(order["created_sequence"] as? Int == 1 && order["updated_sequence"] as? Int == 7)
            let events = try #require(document["events"] as? [[String: Any]])
            #expect(
                events.map { $0["kind"] as? String } == [
                    "accepted", "fill", "replaced", "fill", "canceled", "rejected",
                ])
            let fill = events[1]
            #expect(fill["role"] as? String == "maker" && fill["counter_order_id"] as? String == "11")
            #expect(fill["trade_id"] as? String == "1" && fill["price"] as? String == "100.00")
            #expect(
                fill["quantity"] as? Int == 4 && fill["leaves_qty"] as? Int == 6 && fill["counter_account"] as? Int == 2
            )
            #expect(fill["recorded_at"] as? String == "2026-12-06T10:00:00.000Z")
            #expect(fill["recorded_at_ns"] as? String == String(auditTenOClock))
            #expect(fill["shard"] as? Int == 0 && fill["sequence"] as? Int == 3 && fill["symbol"] as? String == "AAPL")
            #expect(events[4]["reason"] as? String == "requested")
            #expect(events[5]["command"] as? String == "cancel" && events[5]["reason"] as? String == "unknown_order")
            #expect(events[2]["kept_priority"] as? Bool == false)
        }
    }

    @Test func tradesTableAndJSON() async throws {
        try await offThePool {
            let store = try auditStore(.sqlite)
            defer { store.close() }
            let trades = try store.trades(symbol: SymbolID(0), since: nil, limit: nil)
            let table = AuditReport.tradesTable(trades, symbol: "AAPL", sinceNanos: nil, symbols: auditSymbols)
            let lines = table.split(separator: "\n")
            #expect(lines[0] == "trades of AAPL: 2")
            #expect(lines[1].hasPrefix("SHARD  TRADE  SEQ  RECORDED (UTC)"))
            #expect(
                lines[3].split(separator: " ")
                    == ["0", "2", "6", "2026-12-06T11:00:00.000Z", "101.00", "2", "buy", "12", "3", "10", "1"])
            let since = auditTenOClock + 1_800_000_000_000
            #expect(
                AuditReport.tradesTable([], symbol: "AAPL", sinceNanos: since, symbols: auditSymbols)
                    == "trades of AAPL recorded since 2026-12-06T10:30:00.000Z: 0\n")
            let json = AuditReport.tradesJSON(
                trades, symbol: "AAPL", sinceNanos: since, limit: 5, symbols: auditSymbols)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(
                document["symbol"] as? String == "AAPL" && document["count"] as? Int == 2
                    && document["limit"] as? Int == 5)
            #expect(document["since"] as? String == "2026-12-06T10:30:00.000Z")
            #expect(document["since_ns"] as? String == String(since))
            let first = try #require((document["trades"] as? [[String: Any]])?.first)
            #expect(first["trade_id"] as? String == "1" && first["price"] as? String == "100.00")
            #expect(first["price_units"] as? Int == 10_000 && first["quantity"] as? Int == 4)
            #expect(first["taker_order_id"] as? String == "11" && first["maker_order_id"] as? String == "10")
            #expect(first["taker_side"] as? String == "buy" && first["taker_account"] as? Int == 2)
            #expect(
                first["maker_account"] as? Int == 1 && first["sequence"] as? Int == 3 && first["shard"] as? Int == 0)
            #expect(first["recorded_at_ns"] as? String == String(auditTenOClock))
        }
    }

    @Test func symbolsTheConfigurationLacksPrintTheirIDAndUnits() {
        #expect(AuditReport.symbolName(SymbolID(5), auditSymbols) == "#5")
        #expect(AuditReport.formatPrice(12_345, SymbolID(5), auditSymbols) == "12345")
        let fourDecimals = [SymbolConfiguration(name: "EURUSD", priceDecimals: 4)]
        #expect(AuditReport.formatPrice(12_345, SymbolID(0), fourDecimals) == "1.2345")
        #expect(AuditReport.formatPrice(5, SymbolID(0), auditSymbols) == "0.05")
    }

    @Test func sinceAcceptsISO8601DatesAndUnixSeconds() {
        let ten = auditTenOClock
        #expect(AuditReport.parseTime("2026-12-06T10:00:00Z") == ten)
        #expect(AuditReport.parseTime("2026-12-06T11:00:00+01:00") == ten)
        #expect(AuditReport.parseTime("2026-12-06T05:30:00-0430") == ten)
        #expect(AuditReport.parseTime("2026-12-06T10:00Z") == ten)
        #expect(AuditReport.parseTime("2026-12-06 10:00:00z") == ten)
        #expect(AuditReport.parseTime("2026-12-06T10:00:00.25Z") == ten + 250_000_000)
        #expect(AuditReport.parseTime("2026-12-06T10:00:00.123456789Z") == ten + 123_456_789)
        #expect(AuditReport.parseTime("2026-12-06") == ten - 10 * 3_600 * 1_000_000_000)
        #expect(AuditReport.parseTime("2024-02-29T23:59:59Z") == 1_709_251_199 * 1_000_000_000)
        #expect(AuditReport.parseTime("1796551200") == ten)
        #expect(AuditReport.parseTime("1796551200.5") == ten + 500_000_000)
        #expect(AuditReport.parseTime("0") == 0)
        for bad in [
            "", "yesterday", "2026-12-06T10:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
            "2026-12-06T24:00:00Z", "2026-12-06T10:60:00Z", "2026-12-06T10:00:00+25:00", "1969-12-31T23:59:59Z",
            "-5", "1.2.3", "1796551200.", "1796551200.1234567890", "99999999999", "2026-12-06T10:00:00Zjunk",
            "2026-12-6", "2262-04-12T00:00:00Z",
        ] {
            #expect(AuditReport.parseTime(bad) == nil, "\(bad)")
        }
    }

    @Test func isoTimePrintsUTCWithMilliseconds() {
        #expect(AuditReport.isoTime(0) == "1970-01-01T00:00:00.000Z")
        #expect(AuditReport.isoTime(auditTenOClock + 7_890_000) == "2026-12-06T10:00:00.007Z")
        #expect(AuditReport.isoTime(1_709_251_199 * 1_000_000_000 + 999_999_999) == "2024-02-29T23:59:59.999Z")
    }
}
