import RiskEngine
import TOMLKit

// The `[risk]` table: every key is listed in RiskConfiguration's doc comment and in docs/risk.md.
// Unknown keys and bad values are errors naming the key.
extension TableReader {
    static let riskKeys: Set<String> = [
        "account_capacity", "symbol_capacity", "order_capacity", "position_capacity", "tick_value_micros",
        "max_notional_usd", "max_order_qty", "price_band_bps", "max_open_orders", "credit_limit_usd",
        "max_position", "max_messages_per_second", "message_burst", "symbols", "accounts", "model",
        "placement", "sidecar", "sidecar_timeout_us",
    ]
    static let riskModelKeys: Set<String> = [
        "path", "mode", "threshold", "scoring", "fail", "time_budget_us", "on_load_error",
        "throttle_messages_per_second", "throttle_seconds",
    ]

    /// Reads `[risk]`; `symbolNames` are the configured `[[symbols]]` (empty: any name allowed).
    mutating func risk(_ table: TOMLTable, symbolNames: [String]) -> RiskConfiguration {
        let path = "risk"
        var risk = RiskConfiguration()
        rejectUnknownKeys(table, path: path, known: Self.riskKeys)
        if let v = int(table, "account_capacity", path: path) { risk.accountCapacity = v }
        if let v = int(table, "symbol_capacity", path: path) { risk.symbolCapacity = v }
        if let v = int(table, "order_capacity", path: path) { risk.orderCapacity = v }
        if let v = int(table, "position_capacity", path: path) { risk.positionCapacity = v }
        if let v = int(table, "tick_value_micros", path: path) { risk.tickValueMicros = Int64(v) }
        if let v = int(table, "max_notional_usd", path: path) { risk.maxNotionalUSD = Int64(v) }
        if let v = int(table, "max_order_qty", path: path) { risk.maxOrderQuantity = Int64(v) }
        if let v = int(table, "price_band_bps", path: path) { risk.priceBandBasisPoints = Int64(v) }
        if let v = int(table, "max_open_orders", path: path) { risk.maxOpenOrders = Int64(v) }
        if let v = int(table, "credit_limit_usd", path: path) { risk.creditLimitUSD = Int64(v) }
        if let v = int(table, "max_position", path: path) { risk.maxPosition = Int64(v) }
        if let v = int(table, "max_messages_per_second", path: path) { risk.maxMessagesPerSecond = Int64(v) }
        if let v = int(table, "message_burst", path: path) { risk.messageBurst = Int64(v) }
        for (i, element) in arrayOfTables(table, "symbols", path: path) {
            let entry = "risk.symbols[\(i)]"
            rejectUnknownKeys(
                element, path: entry,
                known: [
                    "name", "max_order_qty", "price_band_bps", "reference_price", "tick_value_micros",
                    "max_notional_usd",
                ])
            guard let name = string(element, "name", path: entry) else {
                if element["name"] == nil { errors.append("\(source): \(entry).name: missing") }
                continue
            }
            if !symbolNames.isEmpty && !symbolNames.contains(name) {
                errors.append("\(source): \(entry).name: \(name) is not one of the configured [[symbols]]")
            }
            var o = SymbolRiskOverrides(name: name)
            o.maxOrderQuantity = int(element, "max_order_qty", path: entry).map(Int64.init)
            o.priceBandBasisPoints = int(element, "price_band_bps", path: entry).map(Int64.init)
            o.referencePrice = int(element, "reference_price", path: entry).map(Int64.init)
            o.tickValueMicros = int(element, "tick_value_micros", path: entry).map(Int64.init)
            o.maxNotionalUSD = int(element, "max_notional_usd", path: entry).map(Int64.init)
            risk.symbols.append(o)
        }
        for (i, element) in arrayOfTables(table, "accounts", path: path) {
            let entry = "risk.accounts[\(i)]"
            rejectUnknownKeys(
                element, path: entry,
                known: [
                    "account", "max_open_orders", "credit_limit_usd", "max_position", "max_messages_per_second",
                    "message_burst", "killed",
                ])
            let account: String
            if let value = element["account"] {
                if let s = value.string {
                    account = s
                } else if value.type == .int, let n = value.int, (0...Int(UInt32.max)).contains(n) {
                    account = String(n)
                } else {
                    errors.append("\(source): \(entry).account: must be a string or an integer in 0...4294967295")
                    continue
                }
            } else {
                errors.append("\(source): \(entry).account: missing")
                continue
            }
            var o = AccountRiskOverrides(account: account)
            o.maxOpenOrders = int(element, "max_open_orders", path: entry).map(Int64.init)
            o.creditLimitUSD = int(element, "credit_limit_usd", path: entry).map(Int64.init)
            o.maxPosition = int(element, "max_position", path: entry).map(Int64.init)
            o.maxMessagesPerSecond = int(element, "max_messages_per_second", path: entry).map(Int64.init)
            o.messageBurst = int(element, "message_burst", path: entry).map(Int64.init)
            if let value = element["killed"] {
                if let killed = value.bool {
                    o.killed = killed
                } else {
                    errors.append("\(source): \(entry).killed: must be true or false")
                }
            }
            risk.accounts.append(o)
        }
        if let model = self.table(table, "model", path: path) { risk.model = riskModel(model) }
        if let v = choice(table, "placement", path: path, RiskPlacement.allCases.map(\.rawValue)) {
            risk.placement = RiskPlacement(rawValue: v)!
        }
        if let v = string(table, "sidecar", path: path) { risk.sidecarEndpoint = v }
        if let v = int(table, "sidecar_timeout_us", path: path) { risk.sidecarTimeoutMicros = v }
        errors += risk.validationErrors.map { "\(source): \($0)" }
        return risk
    }

    /// Reads `[risk.model]`.
    private mutating func riskModel(_ table: TOMLTable) -> RiskModelConfiguration {
        let path = "risk.model"
        var model = RiskModelConfiguration()
        rejectUnknownKeys(table, path: path, known: Self.riskModelKeys)
        model.path = string(table, "path", path: path)
        if let v = choice(table, "mode", path: path, SpoofingModelMode.allCases.map(\.rawValue)) {
            model.policy.mode = SpoofingModelMode(rawValue: v)!
        }
        if let value = table["threshold"] {
            if let d = value.double {
                model.policy.threshold = d
            } else if value.type == .int, let n = value.int {
                model.policy.threshold = Double(n)
            } else {
                errors.append("\(source): \(path).threshold: must be a number in 0...1")
            }
        }
        if let v = choice(table, "scoring", path: path, SpoofingScoring.allCases.map(\.rawValue)) {
            model.policy.scoring = SpoofingScoring(rawValue: v)!
        }
        if let v = choice(table, "fail", path: path, ["open", "closed"]) { model.policy.failClosed = v == "closed" }
        if let v = int(table, "time_budget_us", path: path) { model.timeBudgetMicros = v }
        if let v = choice(table, "on_load_error", path: path, ["fail", "static_only"]) {
            model.requireModel = v == "fail"
        }
        if let v = int(table, "throttle_messages_per_second", path: path) { model.throttleMessagesPerSecond = Int64(v) }
        if let v = int(table, "throttle_seconds", path: path) { model.throttleSeconds = Int64(v) }
        return model
    }

    /// A string that must be one of `allowed`.
    private mutating func choice(_ table: TOMLTable, _ key: String, path: String, _ allowed: [String]) -> String? {
        guard let v = string(table, key, path: path) else { return nil }
        guard allowed.contains(v) else {
            errors.append("\(source): \(path).\(key): must be one of \(allowed.joined(separator: ", ")) (got \(v))")
            return nil
        }
        return v
    }

    /// The tables of `table[key]`, which must be an array of tables (`[[path.key]]`).
    private mutating func arrayOfTables(_ table: TOMLTable, _ key: String, path: String) -> [(Int, TOMLTable)] {
        guard let value = table[key] else { return [] }
        guard let array = value.array else {
            errors.append("\(source): \(path).\(key): must be an array of tables ([[\(path).\(key)]])")
            return []
        }
        var tables: [(Int, TOMLTable)] = []
        for (i, element) in array.enumerated() {
            if let t = element.table {
                tables.append((i, t))
            } else {
                errors.append("\(source): \(path).\(key)[\(i)]: must be a table")
            }
        }
        return tables
    }
}
