import ChronosCore
import Foundation

/// What `chronos audit` prints: pure functions from stored values (and the configured symbols, for
/// names and price decimals) to text, a table for people or one JSON document (docs/persistence.md,
/// "Audit"). No I/O.
///
/// Symbols are looked up by id in `symbols` (the configuration's live symbols, whose index is the
/// engine's `SymbolID`); an id the configuration does not have prints as `#id` with prices in
/// integer units.
public enum AuditReport {
    // MARK: One order

    /// One event of an order's history, seen from that order.
    public struct OrderLine: Hashable, Sendable {
        public var shard: Int
        public var sequence: UInt64
        public var recordedAtNanos: UInt64?
        /// `accepted`, `fill`, `replaced`, `canceled` or `rejected`.
        public var kind: String
        public var symbol: SymbolID
        /// `taker` or `maker` for a fill.
        public var role: String?
        /// The order's side (for a fill: the taker's side, or its opposite for the maker).
        public var side: Side?
        /// Limit price (accepted, replaced) or trade price (fill), in price units; nil for a market order.
        public var price: Price?
        /// Ordered (accepted), new open (replaced), traded (fill) or removed (canceled) quantity, in lots.
        public var quantity: Quantity?
        /// The order's open quantity after the event, in lots (nil while unknown: no accepted event seen).
        public var leaves: Quantity?
        /// The other side of a fill.
        public var counterOrderID: OrderID?
        public var counterAccount: AccountID?
        public var tradeID: TradeID?
        /// The cancel reason, or the reject reason (`unknown_order`, …).
        public var reason: String?
        /// The refused command (`new`, `cancel`, `replace`) of a rejection.
        public var command: String?
        /// Accepted: `limit`/`market`, `gtc`/`ioc`/`fok`, post-only.
        public var orderType: OrderType?
        public var timeInForce: TimeInForce?
        public var postOnly: Bool?
        /// Replaced: whether the order kept its queue priority.
        public var keptPriority: Bool?
        public var account: AccountID?
    }

    /// The events of `history` from its order's point of view, with its open quantity after each
    /// (followed through accepted → fills → replaces → cancels, per shard).
    public static func lines(_ history: OrderHistory) -> [OrderLine] {
        var leavesByShard: [Int: Quantity] = [:]
        return history.events.map { stored in
            var line = OrderLine(
                shard: stored.shard, sequence: stored.event.sequence, recordedAtNanos: stored.recordedAtNanos,
                kind: "", symbol: stored.event.symbol)
            let leaves = leavesByShard[stored.shard]
            switch stored.event {
            case .accepted(let e):
                line.kind = "accepted"
                line.account = e.account
                line.side = e.side
                line.orderType = e.type
                line.timeInForce = e.timeInForce
                line.postOnly = e.postOnly
                line.price = e.type == .market ? nil : e.price
                line.quantity = e.quantity
                line.leaves = e.quantity
            case .fill(let e):
                line.kind = "fill"
                let isTaker = e.takerID == history.id
                line.role = isTaker ? "taker" : "maker"
                line.side = isTaker ? e.takerSide : e.takerSide.opposite
                line.account = isTaker ? e.takerAccount : e.makerAccount
                line.price = e.price
                line.quantity = e.quantity
                line.leaves = isTaker ? e.takerLeaves : e.makerLeaves
                line.counterOrderID = isTaker ? e.makerID : e.takerID
                line.counterAccount = isTaker ? e.makerAccount : e.takerAccount
                line.tradeID = e.tradeID
            case .replaced(let e):
                line.kind = "replaced"
                line.account = e.account
                line.side = e.side
                line.price = e.price
                line.quantity = e.quantity
                line.leaves = e.quantity
                line.keptPriority = e.keptPriority
            case .canceled(let e):
                line.kind = "canceled"
                line.account = e.account
                line.side = e.side
                line.quantity = e.quantity
                line.leaves = leaves.map { max(0, $0 - e.quantity) }
                line.reason = e.reason.description
            case .rejected(let e):
                line.kind = "rejected"
                line.account = e.account
                line.command = e.command.description
                line.reason = e.reason.code
                line.leaves = e.command == .new ? 0 : leaves
            }
            leavesByShard[stored.shard] = line.leaves
            return line
        }
    }

    /// The order's final state, then a table of its events in sequence order.
    public static func orderTable(_ history: OrderHistory, symbols: [SymbolConfiguration]) -> String {
        var text = ""
        if history.orders.isEmpty {
            text += "order \(history.id.rawValue): no final state stored (only refused commands named it)\n"
        }
        for order in history.orders {
            let symbol = symbolName(order.symbol, symbols)
            var terms = [symbol]
            if let side = order.side { terms.append(side.description) }
            if let type = order.type { terms.append(type.description) }
            if let timeInForce = order.timeInForce { terms.append(timeInForce.description) }
            text += "order \(order.id.rawValue) on shard \(order.shard): \(terms.joined(separator: " ")), "
            text += "account \(order.account.rawValue)\n"
            var state = "  status \(order.status.rawValue)"
            if order.status != .rejected {
                let price = order.type == .market ? "market" : formatPrice(order.price, order.symbol, symbols)
                state += ", price \(price), quantity \(order.quantity), filled \(order.cumulativeQuantity)"
                state += ", leaves \(order.leavesQuantity)"
            }
            state += " (sequences \(order.createdSequence)…\(order.lastSequence))\n"
            text += state
        }
        let rows = lines(history).map { line -> [String] in
            var detail: [String] = []
            if let orderType = line.orderType, let timeInForce = line.timeInForce {
                detail.append("\(orderType) \(timeInForce)" + (line.postOnly == true ? " post-only" : ""))
            }
            if let counterAccount = line.counterAccount { detail.append("counter account \(counterAccount.rawValue)") }
            if let kept = line.keptPriority { detail.append(kept ? "kept priority" : "lost priority") }
            if let command = line.command { detail.append("\(command) refused") }
            if let reason = line.reason { detail.append(reason) }
            let price =
                line.price.map { formatPrice($0, line.symbol, symbols) } ?? (line.orderType == .market ? "market" : "")
            return [
                String(line.shard), String(line.sequence), line.recordedAtNanos.map(isoTime) ?? "-", line.kind,
                line.role ?? "", line.side?.description ?? "", price,
                line.quantity.map { String($0) } ?? "", line.leaves.map { String($0) } ?? "",
                line.counterOrderID.map { String($0.rawValue) } ?? "", line.tradeID.map { String($0.rawValue) } ?? "",
                detail.joined(separator: ", "),
            ]
        }
        text += "\n"
        text += table(
            header: [
                "SHARD", "SEQ", "RECORDED (UTC)", "EVENT", "ROLE", "SIDE", "PRICE", "QTY", "LEAVES", "COUNTER ORDER",
                "TRADE", "DETAIL",
            ], rightAligned: [0, 1, 6, 7, 8, 9, 10], rows: rows)
        return text
    }

    /// `history` as one JSON document (fields: docs/persistence.md, "Audit").
    public static func orderJSON(_ history: OrderHistory, symbols: [SymbolConfiguration]) -> String {
        let document = OrderDocument(
            orderID: String(history.id.rawValue),
            orders: history.orders.map { order in
                OrderDocument.Order(
                    shard: order.shard, orderID: String(order.id.rawValue), account: order.account.rawValue,
                    symbol: symbolName(order.symbol, symbols), side: order.side?.description,
                    type: order.type?.description, timeInForce: order.timeInForce?.description,
                    price: order.status == .rejected || order.type == .market
                        ? nil : formatPrice(order.price, order.symbol, symbols),
                    priceUnits: order.price, quantity: order.quantity, leavesQty: order.leavesQuantity,
                    cumQty: order.cumulativeQuantity, status: order.status.rawValue,
                    createdSequence: order.createdSequence, updatedSequence: order.lastSequence)
            },
            events: lines(history).map { line in
                OrderDocument.Event(
                    shard: line.shard, sequence: line.sequence, recordedAt: line.recordedAtNanos.map(isoTime),
                    recordedAtNs: line.recordedAtNanos.map { String($0) }, kind: line.kind,
                    symbol: symbolName(line.symbol, symbols), account: line.account?.rawValue, role: line.role,
                    side: line.side?.description, type: line.orderType?.description,
                    timeInForce: line.timeInForce?.description, postOnly: line.postOnly,
                    price: line.price.map { formatPrice($0, line.symbol, symbols) }, priceUnits: line.price,
                    quantity: line.quantity, leavesQty: line.leaves,
                    counterOrderID: line.counterOrderID.map { String($0.rawValue) },
                    counterAccount: line.counterAccount?.rawValue, tradeID: line.tradeID.map { String($0.rawValue) },
                    keptPriority: line.keptPriority, command: line.command, reason: line.reason)
            })
        return encode(document)
    }

    // MARK: Trades

    /// The trades as a table, after a title line naming the symbol and the time bound.
    public static func tradesTable(
        _ trades: [StoredTrade], symbol: String, sinceNanos: UInt64?, symbols: [SymbolConfiguration]
    ) -> String {
        var text = "trades of \(symbol)"
        if let sinceNanos { text += " recorded since \(isoTime(sinceNanos))" }
        text += ": \(trades.count)\n"
        guard !trades.isEmpty else { return text }
        let rows = trades.map { trade -> [String] in
            [
                String(trade.shard), String(trade.tradeID.rawValue), String(trade.sequence),
                trade.recordedAtNanos.map(isoTime) ?? "-", formatPrice(trade.price, trade.symbol, symbols),
                String(trade.quantity), trade.takerSide.description, String(trade.takerID.rawValue),
                String(trade.takerAccount.rawValue), String(trade.makerID.rawValue),
                String(trade.makerAccount.rawValue),
            ]
        }
        text += "\n"
        text += table(
            header: [
                "SHARD", "TRADE", "SEQ", "RECORDED (UTC)", "PRICE", "QTY", "TAKER SIDE", "TAKER ORDER", "TAKER ACCOUNT",
                "MAKER ORDER", "MAKER ACCOUNT",
            ], rightAligned: [0, 1, 2, 4, 5, 7, 8, 9, 10], rows: rows)
        return text
    }

    /// The trades as one JSON document (fields: docs/persistence.md, "Audit").
    public static func tradesJSON(
        _ trades: [StoredTrade], symbol: String, sinceNanos: UInt64?, limit: Int?, symbols: [SymbolConfiguration]
    ) -> String {
        let document = TradesDocument(
            symbol: symbol, since: sinceNanos.map(isoTime), sinceNs: sinceNanos.map { String($0) }, limit: limit,
            count: trades.count,
            trades: trades.map { trade in
                TradesDocument.Trade(
                    shard: trade.shard, tradeID: String(trade.tradeID.rawValue), sequence: trade.sequence,
                    recordedAt: trade.recordedAtNanos.map(isoTime),
                    recordedAtNs: trade.recordedAtNanos.map { String($0) },
                    symbol: symbolName(trade.symbol, symbols), price: formatPrice(trade.price, trade.symbol, symbols),
                    priceUnits: trade.price, quantity: trade.quantity, takerSide: trade.takerSide.description,
                    takerOrderID: String(trade.takerID.rawValue), takerAccount: trade.takerAccount.rawValue,
                    makerOrderID: String(trade.makerID.rawValue), makerAccount: trade.makerAccount.rawValue)
            })
        return encode(document)
    }

    // MARK: Times

    /// Unix epoch nanoseconds as ISO-8601 UTC with milliseconds, e.g. `2026-12-06T10:00:00.123Z`.
    public static func isoTime(_ nanos: UInt64) -> String {
        let seconds = Int64(nanos / 1_000_000_000)
        let milliseconds = Int(nanos % 1_000_000_000 / 1_000_000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = CivilCalendar.date(daysSinceEpoch: Int(days))
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):"
            + "\(two(secondOfDay % 60)).\(ms)Z"
    }

    /// A `--since` time as Unix epoch nanoseconds: ISO-8601 with a zone (`2026-12-06T10:00:00Z`,
    /// `2026-12-06T11:00:00.5+01:00`, `2026-12-06T10:00Z`), a UTC date (`2026-12-06`, midnight), or
    /// Unix seconds (`1796551200`, `1796551200.25`). Nil when it is none of these, is before 1970,
    /// or is past 2262 (what a signed 64-bit nanosecond count holds).
    public static func parseTime(_ text: String) -> UInt64? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let first = text.first, first.isNumber, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            !text.contains("-")
        {
            return parseUnixSeconds(text)
        }
        return parseISO(text)
    }

    /// `123` or `123.456` (up to 9 decimals) seconds.
    static func parseUnixSeconds(_ text: String) -> UInt64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let seconds = UInt64(parts[0]) else { return nil }
        var fraction: UInt64 = 0
        if parts.count == 2 {
            guard let nanos = nanosFromFraction(parts[1]) else { return nil }
            fraction = nanos
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, scaled + fraction <= UInt64(Int64.max) else { return nil }
        return scaled + fraction
    }

    /// `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.fraction]]` then `Z` or `±HH:MM` (also `±HHMM`, `±HH`).
    static func parseISO(_ text: String) -> UInt64? {
        let chars = Array(text.utf8)
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= chars.count else { return nil }
            var value = 0
            for c in chars[i..<i + digits] {
                guard c >= 48 && c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            i += digits
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < chars.count, chars[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), (1...12).contains(month), day >= 1,
            day <= CivilCalendar.daysIn(month: month, year: year)
        else { return nil }
        var seconds = Int64(CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)) * 86_400
        var nanos: UInt64 = 0
        if i == chars.count { return seconds >= 0 ? UInt64(seconds) * 1_000_000_000 : nil }  // a UTC date
        guard expect(UInt8(ascii: "T")) || expect(UInt8(ascii: "t")) || expect(UInt8(ascii: " ")),
            let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), hour < 24, minute < 60
        else { return nil }
        var second = 0
        if expect(UInt8(ascii: ":")) {
            guard let s = number(2), s < 60 else { return nil }
            second = s
            if expect(UInt8(ascii: ".")) || expect(UInt8(ascii: ",")) {
                let start = i
                while i < chars.count, chars[i] >= 48 && chars[i] <= 57 { i += 1 }
                guard let fraction = nanosFromFraction(Substring(String(decoding: chars[start..<i], as: UTF8.self)))
                else { return nil }
                nanos = fraction
            }
        }
        seconds += Int64(hour * 3_600 + minute * 60 + second)
        // The zone: required, so that a time is never read in the wrong one.
        if expect(UInt8(ascii: "Z")) || expect(UInt8(ascii: "z")) {
        } else if i < chars.count, chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-") {
            let sign: Int64 = chars[i] == UInt8(ascii: "+") ? 1 : -1
            i += 1
            guard let hours = number(2), hours <= 23 else { return nil }
            var minutes = 0
            if i < chars.count {
                _ = expect(UInt8(ascii: ":"))
                guard let m = number(2), m < 60 else { return nil }
                minutes = m
            }
            seconds -= sign * Int64(hours * 3_600 + minutes * 60)
        } else {
            return nil
        }
        guard i == chars.count, seconds >= 0 else { return nil }
        let (scaled, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, scaled + nanos <= UInt64(Int64.max) else { return nil }
        return scaled + nanos
    }

    /// The digits after a decimal point as nanoseconds (1 to 9 digits).
    static func nanosFromFraction(_ digits: Substring) -> UInt64? {
        guard (1...9).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = UInt64(digits)
        else { return nil }
        var scale: UInt64 = 1
        for _ in digits.count..<9 { scale *= 10 }
        return value * scale
    }

    // MARK: Shared pieces

    /// The symbol's configured name, or `#id` when the configuration does not have it.
    public static func symbolName(_ id: SymbolID, _ symbols: [SymbolConfiguration]) -> String {
        let index = Int(id.rawValue)
        return index < symbols.count ? symbols[index].name : "#\(id.rawValue)"
    }

    /// `units` with the symbol's price decimals (integer units for a symbol the configuration lacks).
    public static func formatPrice(_ units: Price, _ id: SymbolID, _ symbols: [SymbolConfiguration]) -> String {
        let index = Int(id.rawValue)
        return index < symbols.count ? symbols[index].decimalPrice(units) : String(units)
    }

    /// Columns padded to their widest cell (two spaces apart), the header first; trailing spaces trimmed.
    public static func table(header: [String], rightAligned: Set<Int>, rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            var line = ""
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                if i > 0 { line += "  " }
                line += rightAligned.contains(i) ? pad + cell : cell + pad
            }
            while line.last == " " { line.removeLast() }
            return line + "\n"
        }
        return ([header] + rows).map(render).joined()
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// `chronos audit order --json`.
struct OrderDocument: Encodable {
    struct Order: Encodable {
        var shard: Int
        var orderID: String
        var account: UInt32
        var symbol: String
        var side: String?
        var type: String?
        var timeInForce: String?
        var price: String?
        var priceUnits: Int64
        var quantity: Int64
        var leavesQty: Int64
        var cumQty: Int64
        var status: String
        var createdSequence: UInt64
        var updatedSequence: UInt64

        enum CodingKeys: String, CodingKey {
            case shard, account, symbol, side, type, price, quantity, status
            case orderID = "order_id"
            case timeInForce = "time_in_force"
            case priceUnits = "price_units"
            case leavesQty = "leaves_qty"
            case cumQty = "cum_qty"
            case createdSequence = "created_sequence"
            case updatedSequence = "updated_sequence"
        }
    }

    struct Event: Encodable {
        var shard: Int
        var sequence: UInt64
        var recordedAt: String?
        var recordedAtNs: String?
        var kind: String
        var symbol: String
        var account: UInt32?
        var role: String?
        var side: String?
        var type: String?
        var timeInForce: String?
        var postOnly: Bool?
        var price: String?
        var priceUnits: Int64?
        var quantity: Int64?
        var leavesQty: Int64?
        var counterOrderID: String?
        var counterAccount: UInt32?
        var tradeID: String?
        var keptPriority: Bool?
        var command: String?
        var reason: String?

        enum CodingKeys: String, CodingKey {
            case shard, sequence, kind, symbol, account, role, side, type, price, quantity, command, reason
            case recordedAt = "recorded_at"
            case recordedAtNs = "recorded_at_ns"
            case timeInForce = "time_in_force"
            case postOnly = "post_only"
            case priceUnits = "price_units"
            case leavesQty = "leaves_qty"
            case counterOrderID = "counter_order_id"
            case counterAccount = "counter_account"
            case tradeID = "trade_id"
            case keptPriority = "kept_priority"
        }
    }

    var orderID: String
    var orders: [Order]
    var events: [Event]

    enum CodingKeys: String, CodingKey {
        case orders, events
        case orderID = "order_id"
    }
}

/// `chronos audit trades --json`.
struct TradesDocument: Encodable {
    struct Trade: Encodable {
        var shard: Int
        var tradeID: String
        var sequence: UInt64
        var recordedAt: String?
        var recordedAtNs: String?
        var symbol: String
        var price: String
        var priceUnits: Int64
        var quantity: Int64
        var takerSide: String
        var takerOrderID: String
        var takerAccount: UInt32
        var makerOrderID: String
        var makerAccount: UInt32

        enum CodingKeys: String, CodingKey {
            case shard, sequence, symbol, price, quantity
            case tradeID = "trade_id"
            case recordedAt = "recorded_at"
            case recordedAtNs = "recorded_at_ns"
            case priceUnits = "price_units"
            case takerSide = "taker_side"
            case takerOrderID = "taker_order_id"
            case takerAccount = "taker_account"
            case makerOrderID = "maker_order_id"
            case makerAccount = "maker_account"
        }
    }

    var symbol: String
    var since: String?
    var sinceNs: String?
    var limit: Int?
    var count: Int
    var trades: [Trade]

    enum CodingKeys: String, CodingKey {
        case symbol, since, limit, count, trades
        case sinceNs = "since_ns"
    }
}
