import ChronosConfig
import ChronosCore
import MatchingEngine
import RiskEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `chronos replay`: JSON Lines commands in, the engine's events as JSON Lines out
/// (`../shared/spec/replay-protocol.md`, choices in `docs/replay.md`).
///
/// The session owns one ``Engine`` and only translates: it scans each line, interns account and
/// symbol names, submits a typed command and prints the engine's events. Matching logic lives in
/// the engine alone. Memory is bounded by the engine's pools, a 1 MiB line scanner and the
/// distinct account and symbol names.
public final class ReplaySession {
    /// The engine the commands run on.
    public let engine: Engine
    private var scanner = JSONLineScanner()
    private var symbolNames = ByteInterner()
    /// Engine symbol of each interned symbol name.
    private var symbolIDs: [SymbolID] = []
    private var accountNames = ByteInterner()
    private var writer: JSONLinesWriter
    private let createsSymbolsOnUse: Bool
    /// Risk mode (`--risk`): the risk engine every `new` and `replace` passes first; nil otherwise.
    public let risk: RiskEngine?
    private let riskConfiguration: RiskConfiguration
    /// Risk mode: the current command's `ts` (0 without one), nil when it is invalid.
    private var commandTime: UInt64?
    /// Risk mode: the time of the events being applied — the last valid `ts`.
    private var eventTime: UInt64 = 0

    /// The symbol capacity used when no configuration limits the symbols.
    public static let defaultSymbolCapacity = 65_536

    /// A session. With `configuration.symbols` empty, every symbol is created on first use with
    /// tick 1 and lot 1; otherwise only the configured symbols exist. With `risk`, every `new` and
    /// `replace` passes a ``RiskEngine`` built from `configuration.risk` first (risk mode, docs/replay.md).
    public init(
        configuration: ExchangeConfiguration = ExchangeConfiguration(), risk riskMode: Bool = false,
        scorer: SpoofingScorer? = nil, output: OutputTarget
    ) throws {
        var engineConfiguration = configuration.engine
        createsSymbolsOnUse = configuration.symbols.isEmpty
        if createsSymbolsOnUse {
            engineConfiguration.symbolCapacity = max(engineConfiguration.symbolCapacity, Self.defaultSymbolCapacity)
        }
        engine = try Engine(configuration: engineConfiguration)
        writer = JSONLinesWriter(target: output)
        riskConfiguration = configuration.risk
        if riskMode {
            var riskEngineConfiguration = configuration.risk
            riskEngineConfiguration.symbolCapacity = engineConfiguration.symbolCapacity
            let problems = riskEngineConfiguration.validationErrors
            guard problems.isEmpty else { throw ConfigurationError(problems) }
            let risk = RiskEngine(configuration: riskEngineConfiguration)
            if let scorer { risk.attachSpoofingModel(scorer, policy: configuration.risk.model.policy) }
            self.risk = risk
        } else {
            risk = nil
        }
        for symbol in configuration.symbols {
            let id = try engine.addSymbol(symbol)
            Array(symbol.name.utf8).withUnsafeBufferPointer { _ = symbolNames.intern($0) }
            symbolIDs.append(id)
            risk?.setSymbolLimits(configuration.risk.symbolLimits(named: symbol.name), for: id)
            risk?.setTickSize(symbol.tickSize, for: id)
        }
        if let risk {
            for account in configuration.risk.accounts {
                let id = Array(account.account.utf8).withUnsafeBufferPointer { accountNames.intern($0) }
                risk.setAccountLimits(configuration.risk.accountLimits(named: account.account), for: AccountID(id))
            }
        }
    }

    deinit {
        scanner.deallocate()
        writer.deallocate()
    }

    /// Writes out buffered output.
    public func flush() { writer.flush() }

    /// The first output error, if writing failed.
    public var outputError: OutputError? { writer.error }

    /// For `.memory` output: everything flushed so far.
    public var collectedOutput: [UInt8] { writer.collected }

    // MARK: Lines

    /// Processes one line (without its `\n`).
    public func process(line: UnsafeBufferPointer<UInt8>) {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) { return }
        guard scanner.scan(line) else { return writeRejected(id: nil, "malformed") }
        let id = scanner[.id].uint64
        let op = scanner[.op]
        if risk != nil {
            // The event time of everything this command causes (risk features); an invalid `ts`
            // keeps the previous time (a new or replace with one is rejected malformed).
            commandTime = riskTime()
            if let commandTime { eventTime = commandTime }
        }
        if scanner.string(op, equals: "new") {
            processNew(id)
        } else if scanner.string(op, equals: "cancel") {
            processCancel(id)
        } else if scanner.string(op, equals: "replace") {
            processReplace(id)
        } else if scanner.string(op, equals: "book") {
            processBook(id)
        } else {
            writeRejected(id: id, "malformed")
        }
    }

    /// Reports a line that was too long to read (`malformed`, `"id": null`).
    public func processOversizedLine() { writeRejected(id: nil, "malformed") }

    private func processNew(_ id: UInt64?) {
        guard let id else { return writeRejected(id: nil, "malformed") }
        let account = scanner[.account]
        let symbol = scanner[.symbol]
        let sideValue = scanner[.side]
        let typeValue = scanner[.type]
        let qty = scanner[.qty]
        let postOnlyValue = scanner[.postOnly]
        guard account.kind == .string, symbol.kind == .string, qty.kind == .integer,
            postOnlyValue.kind == .absent || postOnlyValue.kind == .boolean
        else { return writeRejected(id: id, "malformed") }
        let side: Side
        if scanner.string(sideValue, equals: "buy") {
            side = .buy
        } else if scanner.string(sideValue, equals: "sell") {
            side = .sell
        } else {
            return writeRejected(id: id, "malformed")
        }
        let postOnly = postOnlyValue.kind == .boolean && postOnlyValue.boolean
        let type: OrderType
        var tif = TimeInForce.goodTillCancel
        var price: Price = 0
        if scanner.string(typeValue, equals: "limit") {
            type = .limit
            let priceValue = scanner[.price]
            guard priceValue.kind == .integer else { return writeRejected(id: id, "malformed") }
            price = priceValue.positiveInt64OrZero
            let tifValue = scanner[.tif]
            if tifValue.kind != .absent {
                if scanner.string(tifValue, equals: "gtc") {
                    tif = .goodTillCancel
                } else if scanner.string(tifValue, equals: "ioc") {
                    tif = .immediateOrCancel
                } else if scanner.string(tifValue, equals: "fok") {
                    tif = .fillOrKill
                } else {
                    return writeRejected(id: id, "malformed")
                }
            }
        } else if scanner.string(typeValue, equals: "market") {
            // Rule 14: price and tif are ignored on a market order.
            type = .market
            if postOnly { return writeRejected(id: id, "malformed") }
        } else {
            return writeRejected(id: id, "malformed")
        }
        var now: UInt64 = 0
        if risk != nil {
            guard let time = commandTime else { return writeRejected(id: id, "malformed") }
            now = time
        }
        guard let symbolID = resolveSymbol(symbol, id: id, riskAccount: account) else { return }
        let order = NewOrder(
            id: OrderID(id), account: resolveAccount(account), symbol: symbolID, side: side,
            type: type, timeInForce: tif, price: price, quantity: qty.positiveInt64OrZero,
            postOnly: postOnly)
        if let risk {
            let decision = risk.check(order, now: now)
            writeRisk(id: id, account: account, decision)
            if let reason = decision.reason, decision.action == .reject {
                return writeRejected(id: id, reason.rejectCodeLiteral)
            }
        }
        engine.submit(.new(order))
        writeEvents()
    }

    private func processCancel(_ id: UInt64?) {
        guard let id else { return writeRejected(id: nil, "malformed") }
        let account = scanner[.account]
        let symbol = scanner[.symbol]
        guard account.kind == .string, symbol.kind == .string else { return writeRejected(id: id, "malformed") }
        guard let symbolID = resolveSymbol(symbol, id: id) else { return }
        engine.submit(.cancel(CancelOrder(id: OrderID(id), account: resolveAccount(account), symbol: symbolID)))
        writeEvents()
    }

    private func processReplace(_ id: UInt64?) {
        guard let id else { return writeRejected(id: nil, "malformed") }
        let account = scanner[.account]
        let symbol = scanner[.symbol]
        let priceValue = scanner[.price]
        let qtyValue = scanner[.qty]
        guard account.kind == .string, symbol.kind == .string,
            priceValue.kind == .absent || priceValue.kind == .integer,
            qtyValue.kind == .absent || qtyValue.kind == .integer,
            priceValue.kind != .absent || qtyValue.kind != .absent
        else { return writeRejected(id: id, "malformed") }
        var now: UInt64 = 0
        if risk != nil {
            guard let time = commandTime else { return writeRejected(id: id, "malformed") }
            now = time
        }
        guard let symbolID = resolveSymbol(symbol, id: id, riskAccount: account) else { return }
        let replace = ReplaceOrder(
            id: OrderID(id), account: resolveAccount(account), symbol: symbolID,
            price: priceValue.kind == .integer ? priceValue.positiveInt64OrZero : nil,
            quantity: qtyValue.kind == .integer ? qtyValue.positiveInt64OrZero : nil)
        if let risk {
            let decision = risk.checkReplace(replace, now: now)
            writeRisk(id: id, account: account, decision)
            if let reason = decision.reason, decision.action == .reject {
                return writeRejected(id: id, reason.rejectCodeLiteral)
            }
        }
        engine.submit(.replace(replace))
        writeEvents()
    }

    private func processBook(_ id: UInt64?) {
        let symbol = scanner[.symbol]
        guard symbol.kind == .string else { return writeRejected(id: id, "malformed") }
        guard let symbolID = resolveSymbol(symbol, id: id) else { return }
        writer.append("{\"ev\":\"book\",\"symbol\":")
        writer.appendJSONString(scanner.bytes(of: symbol))
        writer.append(",\"bids\":[")
        writeLevels(symbolID, .buy)
        writer.append("],\"asks\":[")
        writeLevels(symbolID, .sell)
        writer.append("]}\n")
    }

    private func writeLevels(_ symbol: SymbolID, _ side: Side) {
        var first = true
        engine.forEachLevel(symbol, side) { level in
            if !first { writer.append(byte: UInt8(ascii: ",")) }
            first = false
            writer.append(byte: UInt8(ascii: "["))
            writer.append(level.price)
            writer.append(byte: UInt8(ascii: ","))
            writer.append(level.quantity)
            writer.append(byte: UInt8(ascii: ","))
            writer.append(UInt64(level.orderCount))
            writer.append(byte: UInt8(ascii: "]"))
            return true
        }
    }

    // MARK: Names

    /// The engine symbol for a name, creating it on first use when allowed; on failure the
    /// rejection is written and nil returned. In risk mode a `new` or `replace` (`riskAccount`)
    /// that fails here still gets its `risk` event first: a pass, since no limit can apply to a
    /// symbol that does not exist.
    private func resolveSymbol(_ value: ScannedValue, id: UInt64?, riskAccount: ScannedValue? = nil) -> SymbolID? {
        let bytes = scanner.bytes(of: value)
        if let n = symbolNames.find(bytes) { return symbolIDs[Int(n)] }
        guard createsSymbolsOnUse else {
            if risk != nil, let riskAccount, let id { writeRisk(id: id, account: riskAccount, .pass) }
            writeRejected(id: id, "unknown_symbol")
            return nil
        }
        let name = String(decoding: bytes, as: UTF8.self)
        guard let symbolID = try? engine.addSymbol(SymbolConfiguration(name: name)) else {
            if risk != nil, let riskAccount, let id { writeRisk(id: id, account: riskAccount, .pass) }
            writeRejected(id: id, "capacity_exhausted")
            return nil
        }
        _ = symbolNames.intern(bytes)
        symbolIDs.append(symbolID)
        risk?.setSymbolLimits(riskConfiguration.symbolLimits(named: name), for: symbolID)
        return symbolID
    }

    /// Risk mode: the command's `ts` (nanoseconds), 0 when absent; nil when it is not an
    /// integer in 0…2^64−1 (the line is then malformed).
    private func riskTime() -> UInt64? {
        let ts = scanner[.ts]
        if ts.kind == .absent { return 0 }
        guard ts.kind == .integer else { return nil }
        return ts.uint64
    }

    private func resolveAccount(_ value: ScannedValue) -> AccountID {
        AccountID(accountNames.intern(scanner.bytes(of: value)))
    }

    // MARK: Output

    private func writeRejected(id: UInt64?, _ reason: StaticString) {
        writer.append("{\"ev\":\"rejected\",\"id\":")
        if let id { writer.append(id) } else { writer.append("null") }
        writer.append(",\"reason\":\"")
        writer.append(reason)
        writer.append("\"}\n")
    }

    /// `{"ev":"risk","id":…,"account":"…","score":…,"action":"…","reason":…}`. Without a model the
    /// score is `null` and a pass says why: `"reason":"model_off"` (docs/replay.md).
    private func writeRisk(id: UInt64, account: ScannedValue, _ decision: RiskDecision) {
        writer.append("{\"ev\":\"risk\",\"id\":")
        writer.append(id)
        writer.append(",\"account\":")
        writer.appendJSONString(scanner.bytes(of: account))
        writer.append(",\"score\":")
        if let score = decision.score {
            // Six significant digits, as `%.6g` (a probability in 0…1; useful thresholds lie far
            // below 0.001, so never a fixed number of decimals).
            writer.append(significant: score.isNaN ? 0 : min(max(score, 0), 1), digits: 6)
        } else {
            writer.append("null")
        }
        writer.append(",\"action\":\"")
        writer.append(decision.action.codeLiteral)
        writer.append("\",\"reason\":")
        if let reason = decision.reason {
            writer.append(byte: UInt8(ascii: "\""))
            writer.append(reason.codeLiteral)
            writer.append(byte: UInt8(ascii: "\""))
        } else if decision.model == .off {
            writer.append("\"model_off\"")
        } else if decision.model == .failed {
            writer.append("\"model_failed\"")
        } else {
            writer.append("null")
        }
        writer.append("}\n")
    }

    private func writeEvents() {
        if let risk {
            for event in engine.events { risk.apply(event, now: eventTime) }
            risk.refreshBehindScores(now: eventTime)
        }
        for event in engine.events {
            switch event {
            case .accepted(let e):
                writer.append("{\"ev\":\"accepted\",\"id\":")
                writer.append(e.id.rawValue)
                writer.append("}\n")
            case .rejected(let e):
                writeRejected(id: e.id.rawValue, e.reason.codeLiteral)
            case .fill(let e):
                writer.append("{\"ev\":\"fill\",\"taker\":")
                writer.append(e.takerID.rawValue)
                writer.append(",\"maker\":")
                writer.append(e.makerID.rawValue)
                writer.append(",\"price\":")
                writer.append(e.price)
                writer.append(",\"qty\":")
                writer.append(e.quantity)
                writer.append("}\n")
            case .canceled(let e):
                writer.append("{\"ev\":\"canceled\",\"id\":")
                writer.append(e.id.rawValue)
                writer.append(",\"qty\":")
                writer.append(e.quantity)
                writer.append("}\n")
            case .replaced(let e):
                writer.append("{\"ev\":\"replaced\",\"id\":")
                writer.append(e.id.rawValue)
                writer.append(",\"price\":")
                writer.append(e.price)
                writer.append(",\"qty\":")
                writer.append(e.quantity)
                writer.append("}\n")
            }
        }
    }
}

extension ReplaySession {
    /// The final state of every non-empty book as one compact JSON object (the format of
    /// `tools/reference/replay_reference.py --book-hash`): symbols sorted by UTF-8 bytes, each
    /// `{"bids":[[price,[[id,"account",open_qty],…]],…],"asks":…}`, levels best first, orders
    /// in time priority. For differential tests; allocates.
    public func finalBooksJSON() -> String {
        var out = JSONLinesWriter(target: .memory)
        defer { out.deallocate() }
        let names = (0..<symbolNames.count).map { (Array(symbolNames.name(UInt32($0))), symbolIDs[$0]) }
        out.append(byte: UInt8(ascii: "{"))
        var firstSymbol = true
        for (name, symbol) in names.sorted(by: { $0.0.lexicographicallyPrecedes($1.0) })
        where engine.restingOrderCount(symbol) > 0 {
            if !firstSymbol { out.append(byte: UInt8(ascii: ",")) }
            firstSymbol = false
            out.appendJSONString(name)
            for side in [Side.buy, .sell] {
                out.append(side == .buy ? ":{\"bids\":[" : ",\"asks\":[")
                var lastPrice: Price? = nil
                for order in engine.restingOrders(symbol, side) {
                    if order.price != lastPrice {
                        out.append(lastPrice == nil ? "[" : "]],[")
                        out.append(order.price)
                        out.append(",[")
                        lastPrice = order.price
                    } else {
                        out.append(byte: UInt8(ascii: ","))
                    }
                    out.append(byte: UInt8(ascii: "["))
                    out.append(order.id.rawValue)
                    out.append(byte: UInt8(ascii: ","))
                    out.appendJSONString(accountNames.name(order.account.rawValue))
                    out.append(byte: UInt8(ascii: ","))
                    out.append(order.leavesQuantity)
                    out.append(byte: UInt8(ascii: "]"))
                }
                if lastPrice != nil { out.append("]]") }
                out.append(byte: UInt8(ascii: "]"))
            }
            out.append(byte: UInt8(ascii: "}"))
        }
        out.append(byte: UInt8(ascii: "}"))
        out.flush()
        return String(decoding: out.collected, as: UTF8.self)
    }

    /// Replays an in-memory stream and returns the output bytes (tests, tools).
    public static func replay(
        _ input: [UInt8], configuration: ExchangeConfiguration = ExchangeConfiguration(), risk: Bool = false
    ) throws -> [UInt8] {
        let session = try ReplaySession(configuration: configuration, risk: risk, output: .memory)
        input.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != 0x0A { end += 1 }
                let line = UnsafeBufferPointer(rebasing: all[start..<end])
                if line.count > JSONLineScanner.maxLineLength {
                    session.processOversizedLine()
                } else {
                    session.process(line: line)
                }
                start = end + 1
            }
        }
        session.flush()
        return session.collectedOutput
    }

    /// Replays from a file descriptor to the session's output until end of input, reading
    /// through a fixed buffer: constant memory whatever the stream's length.
    /// - Returns: false when reading failed (`errno` is reported by the caller).
    public func run(inputFileDescriptor fd: Int32) -> Bool {
        let maxLine = JSONLineScanner.maxLineLength
        let capacity = maxLine * 2 + 1
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0
        var discarding = false  // inside a line that was already reported as too long
        while true {
            // Whatever was answered so far goes out before a read that may block, so a client
            // that writes one command and waits for its events is answered at once.
            flush()
            let n = read(fd, buffer + filled, capacity - filled)
            if n < 0 {
                if errno == EINTR { continue }
                flush()
                return false
            }
            let atEnd = n == 0
            filled += n
            var start = 0
            var scan = 0
            while let newline = memchr(buffer + scan, 0x0A, filled - scan) {
                let end = buffer.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                if discarding {
                    discarding = false
                } else {
                    process(line: UnsafeBufferPointer(start: buffer + start, count: end - start))
                }
                start = end + 1
                scan = start
            }
            let pending = filled - start
            if atEnd {
                if pending > 0 && !discarding {
                    process(line: UnsafeBufferPointer(start: buffer + start, count: pending))
                }
                flush()
                return true
            }
            if pending > maxLine {
                if !discarding { processOversizedLine() }
                discarding = true
                filled = 0
            } else {
                if start > 0 { memmove(buffer, buffer + start, pending) }
                filled = pending
            }
        }
    }
}
