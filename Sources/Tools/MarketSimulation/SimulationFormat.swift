import ChronosCore
import RiskEngine

/// The text forms of a simulation's output, appended to byte buffers (the caller writes them).
///
/// Rows (CSV, one header line):
///
/// ```
/// day_seed,ts,agent_type,agent_id,episode_id,order_id,label,<SpoofingFeatureSchema.names…>
/// 1234567890123,100000000000123,spoofer,17,42,90211,1,0.6931472,…
/// ```
///
/// Features print as Swift's shortest round-trip decimal of the `Float`, so a reader that parses
/// them as float32 gets exactly the values the risk engine computed.
///
/// Commands (`chronos replay` JSON Lines, with `ts` in ns; account `A<agent_id>`, symbol `SYM<day>`):
///
/// ```
/// {"op":"new","id":90211,"ts":100000000000123,"account":"A17","symbol":"SYM1","side":"buy","type":"limit","tif":"gtc","price":10031,"qty":900}
/// ```
public enum SimulationFormat {
    /// The CSV header line, with its newline.
    public static var csvHeader: String {
        (["day_seed", "ts", "agent_type", "agent_id", "episode_id", "order_id", "label"] + SpoofingFeatureSchema.names)
            .joined(separator: ",") + "\n"
    }

    /// Appends one CSV row (with its newline).
    public static func appendCSV(_ row: SimulatedOrderRow, features: UnsafeBufferPointer<Float>, to out: inout [UInt8])
    {
        append(row.daySeed, to: &out)
        out.append(UInt8(ascii: ","))
        append(row.ts, to: &out)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: row.agentKind.name.utf8)
        out.append(UInt8(ascii: ","))
        append(UInt64(row.agentID), to: &out)
        out.append(UInt8(ascii: ","))
        append(row.episodeID, to: &out)
        out.append(UInt8(ascii: ","))
        append(row.orderID, to: &out)
        out.append(UInt8(ascii: ","))
        append(UInt64(row.label), to: &out)
        for value in features {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: value.description.utf8)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// Appends one command as a replay JSON line with its `ts` (and a newline).
    public static func appendJSONLine(_ command: EngineCommand, ts: UInt64, to out: inout [UInt8]) {
        func text(_ s: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        func head(_ op: StaticString, _ id: OrderID, _ account: AccountID, _ symbol: SymbolID) {
            text("{\"op\":\"")
            text(op)
            text("\",\"id\":")
            append(id.rawValue, to: &out)
            text(",\"ts\":")
            append(ts, to: &out)
            text(",\"account\":\"A")
            append(UInt64(account.rawValue), to: &out)
            text("\",\"symbol\":\"SYM")
            append(UInt64(symbol.rawValue), to: &out)
            text("\"")
        }
        switch command {
        case .new(let o):
            head("new", o.id, o.account, o.symbol)
            text(o.side == .buy ? ",\"side\":\"buy\"" : ",\"side\":\"sell\"")
            if o.type == .market {
                text(",\"type\":\"market\"")
            } else {
                text(",\"type\":\"limit\",\"tif\":\"")
                switch o.timeInForce {
                case .goodTillCancel: text("gtc")
                case .immediateOrCancel: text("ioc")
                case .fillOrKill: text("fok")
                }
                text("\",\"price\":")
                append(o.price, to: &out)
            }
            if o.postOnly { text(",\"post_only\":true") }
            text(",\"qty\":")
            append(o.quantity, to: &out)
        case .cancel(let c):
            head("cancel", c.id, c.account, c.symbol)
        case .replace(let r):
            head("replace", r.id, r.account, r.symbol)
            if let price = r.price {
                text(",\"price\":")
                append(price, to: &out)
            }
            if let quantity = r.quantity {
                text(",\"qty\":")
                append(quantity, to: &out)
            }
        }
        text("}\n")
    }

    private static func append(_ value: UInt64, to out: inout [UInt8]) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func append(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        append(value.magnitude, to: &out)
    }
}
