import Foundation
import NIOCore
import Runtime

/// A loadgen session over FIX 4.4 on TCP: Logon (35=A with 98=0, 108=30 and 141=Y, so that a
/// rerun starts both sequences at 1 again), then NewOrderSingle (35=D) limit GTC orders, each
/// answered by an ExecutionReport (35=8) with ExecType (150) 0 new or 8 rejected; fills (150=F)
/// and cancels (150=4) counted. TestRequests are answered with Heartbeats, ResendRequests with a
/// SequenceReset-GapFill (the loadgen never sends an application message twice).
///
/// The messages are hand-written (no FIX module needed): the fixed header and trailer around a
/// body built in a reused byte array, with BodyLength (9) and CheckSum (10) computed on the way.
/// Inbound messages are framed by BodyLength and scanned once for the few tags the loadgen reads.
final class FIXLoadSession: LoadgenSession, ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var cumulation: ByteBuffer?
    private var outbound = ByteBufferAllocator().buffer(capacity: 8_192)
    private var writer: FIXMessageWriter
    private var nextSequence: UInt64 = 1

    override init(index: Int, login: LoadgenLogin, run: LoadgenRunState, loginPromise: EventLoopPromise<Void>) {
        if case .fix(let client, let exchange, _, _) = login {
            writer = FIXMessageWriter(senderCompID: client, targetCompID: exchange)
        } else {
            writer = FIXMessageWriter(senderCompID: login.name, targetCompID: "CHRONOS")
        }
        super.init(index: index, login: login, run: run, loginPromise: loginPromise)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        connectionEnded("connection closed")
    }

    func channelActive(context: ChannelHandlerContext) {
        writer.begin("A", sequence: takeSequence())
        writer.field(98, "0")
        writer.field(108, "30")
        writer.field(141, "Y")
        if case .fix(_, _, let password?, _) = login { writer.field(554, password) }
        writer.finish(into: &outbound)
        flushOrders()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionEnded(
            isLoggedIn ? "connection closed by the gateway" : "the gateway closed the connection (CompIDs?)")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connectionEnded("connection error: \(error)")
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var pending = cumulation {
            pending.writeBuffer(&buffer)
            buffer = pending
            cumulation = nil
        }
        let now = SystemClock.monotonicNanoseconds()
        while buffer.readableBytes > 0 {
            let length = buffer.withUnsafeReadableBytes { FIXInbound.frameLength($0) }
            if length == 0 { break }
            if length < 0 {
                let reason = "the gateway's bytes are not FIX 4.4 (is this its FIX port?)"
                if isLoggedIn { run.warn("session \(name): \(reason); disconnected") }
                connectionEnded(isLoggedIn ? nil : reason)
                context.close(promise: nil)
                return
            }
            buffer.withUnsafeReadableBytes { bytes in
                handle(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), now: now)
            }
            buffer.moveReaderIndex(forwardBy: length)
        }
        if buffer.readableBytes > 0 { cumulation = buffer }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOrders()  // heartbeats and gap fills written while reading
        pumpIfAnswered()
        context.fireChannelReadComplete()
    }

    private func handle(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        let message = FIXInbound(bytes)
        switch message.msgType {
        case FIXInbound.executionReport:
            guard let id = message.clOrdID else { return }
            switch message.execType {
            case UInt8(ascii: "0"):
                answered(id, now: now)
            case UInt8(ascii: "8"):
                answered(id, now: now, rejectReason: message.rejectReason(bytes))
            case UInt8(ascii: "F"):
                filled(id, completesOrder: message.ordStatus == UInt8(ascii: "2"), now: now)
            case UInt8(ascii: "4"):
                run.recordCanceled()
            default:
                break
            }
        case FIXInbound.logon:
            loggedIn()
        case FIXInbound.heartbeat, FIXInbound.sequenceReset:
            break
        case FIXInbound.testRequest:
            writer.begin("0", sequence: takeSequence())
            if let id = message.testRequestID { writer.field(112, bytes: UnsafeRawBufferPointer(rebasing: bytes[id])) }
            writer.finish(into: &outbound)
            lastSentAt = now
        case FIXInbound.resendRequest:
            // We never resend application messages: fill the whole range.
            let begin = max(message.beginSequence ?? 1, 1)
            writer.begin("4", sequence: begin)
            writer.field(43, "Y")
            writer.fieldTimestamp(122)
            writer.field(123, "Y")
            writer.field(36, nextSequence)
            writer.finish(into: &outbound)
        case FIXInbound.reject:
            let text = "session reject: " + message.shortText(bytes, default: "no text")
            if let reference = message.referenceSequence,
                let slot = window.slots.indices.first(where: {
                    window.slots[$0].clientOrderID != 0 && window.slots[$0].sequence == reference
                })
            {
                answered(window.slots[slot].clientOrderID, now: now, rejectReason: text)
            } else {
                run.warn("session \(name): \(text)")
            }
        case FIXInbound.businessMessageReject:
            let text = "business reject: " + message.shortText(bytes, default: "no text")
            if let id = message.businessReference {
                answered(id, now: now, rejectReason: text)
            } else {
                run.warn("session \(name): \(text)")
            }
        case FIXInbound.logout:
            if isLoggingOut {
                context?.close(promise: nil)
            } else {
                let text = message.text(bytes) ?? "no text"
                connectionEnded(isLoggedIn ? "logged out by the gateway: \(text)" : "Logout: \(text)")
                context?.close(promise: nil)
            }
        default:
            break
        }
    }

    // MARK: Sending

    private func takeSequence() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    override func writeOrder(slot: Int, now: UInt64) {
        let plan = run.plan
        let order = window.slots[slot].order
        let symbol = plan.symbols[plan.symbolIndex(session: index, order: order)]
        let sequence = takeSequence()
        window.setSequence(sequence, of: slot)
        writer.begin("D", sequence: sequence)
        writer.field(11, window.slots[slot].clientOrderID)
        writer.field(1, UInt64(account))
        writer.field(55, symbol.name)
        writer.field(54, plan.side(session: index, order: order) == .buy ? "1" : "2")
        writer.fieldTimestamp(60)
        writer.field(38, UInt64(symbol.quantity))
        writer.field(40, "2")
        writer.field(44, symbol.decimalPrice)
        writer.field(59, "1")
        writer.finish(into: &outbound)
    }

    override func flushOrders() {
        guard let context, outbound.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
        outbound.clear()
    }

    override func sendHeartbeat(now: UInt64) {
        writer.begin("0", sequence: takeSequence())
        writer.finish(into: &outbound)
        flushOrders()
    }

    override func logout() -> EventLoopFuture<Void> {
        guard let context else { return run.loop.makeSucceededVoidFuture() }
        if !isLoggingOut && context.channel.isActive {
            isLoggingOut = true
            writer.begin("5", sequence: takeSequence())
            writer.finish(into: &outbound)
            flushOrders()
        }
        return context.channel.closeFuture
    }

    override func close() {
        context?.close(promise: nil)
    }

    override var closeFuture: EventLoopFuture<Void>? { context?.channel.closeFuture }
}

/// Builds FIX 4.4 messages: `8=FIX.4.4|9=len|` + body + `10=sum|`, where the body starts with
/// MsgType (35), SenderCompID (49), TargetCompID (56), MsgSeqNum (34) and SendingTime (52).
struct FIXMessageWriter {
    private static let soh = UInt8(1)
    private var body: [UInt8] = []
    private let compIDs: [UInt8]
    private var clock = FIXClock()

    init(senderCompID: String, targetCompID: String) {
        compIDs = Array("49=\(senderCompID)\u{1}56=\(targetCompID)\u{1}".utf8)
        body.reserveCapacity(512)
    }

    /// Starts a message of type `msgType` with the standard header.
    mutating func begin(_ msgType: StaticString, sequence: UInt64) {
        body.removeAll(keepingCapacity: true)
        body.append(contentsOf: [UInt8(ascii: "3"), UInt8(ascii: "5"), UInt8(ascii: "=")])
        msgType.withUTF8Buffer { body.append(contentsOf: $0) }
        body.append(Self.soh)
        body.append(contentsOf: compIDs)
        field(34, sequence)
        fieldTimestamp(52)
    }

    private mutating func tag(_ tag: Int) {
        Self.appendDecimal(UInt64(tag), to: &body)
        body.append(UInt8(ascii: "="))
    }

    mutating func field(_ tag: Int, _ value: UInt64) {
        self.tag(tag)
        Self.appendDecimal(value, to: &body)
        body.append(Self.soh)
    }

    mutating func field(_ tag: Int, _ value: String) {
        self.tag(tag)
        body.append(contentsOf: value.utf8)
        body.append(Self.soh)
    }

    mutating func field(_ tag: Int, bytes: UnsafeRawBufferPointer) {
        self.tag(tag)
        body.append(contentsOf: bytes)
        body.append(Self.soh)
    }

    /// A UTCTimestamp field with milliseconds, now.
    mutating func fieldTimestamp(_ tag: Int) {
        self.tag(tag)
        clock.append(to: &body)
        body.append(Self.soh)
    }

    /// Appends the whole message (header, body, checksum) to `buffer`.
    mutating func finish(into buffer: inout ByteBuffer) {
        var sum = 0
        func put(_ byte: UInt8) {
            buffer.writeInteger(byte)
            sum &+= Int(byte)
        }
        for byte in "8=FIX.4.4\u{1}9=".utf8 { put(byte) }
        for byte in String(body.count).utf8 { put(byte) }
        put(Self.soh)
        buffer.writeBytes(body)
        for byte in body { sum &+= Int(byte) }
        let checksum = sum % 256
        buffer.writeInteger(UInt8(ascii: "1"))
        buffer.writeInteger(UInt8(ascii: "0"))
        buffer.writeInteger(UInt8(ascii: "="))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(checksum / 100))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(checksum / 10 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(checksum % 10))
        buffer.writeInteger(Self.soh)
    }

    static func appendDecimal(_ value: UInt64, to bytes: inout [UInt8]) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}

/// UTC `YYYYMMDD-HH:MM:SS.sss` from the real-time clock; the date and time of day are formatted
/// once per second.
struct FIXClock {
    private var second = -1
    private var prefix = [UInt8](repeating: 0, count: 17)

    mutating func append(to bytes: inout [UInt8]) {
        let now = SystemClock.wallClockNanoseconds()
        if Int(now / 1_000_000_000) != second {
            second = Int(now / 1_000_000_000)
            var seconds = time_t(second)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            var text: [UInt8] = []
            func two(_ value: Int32) {
                text.append(UInt8(ascii: "0") + UInt8(value / 10 % 10))
                text.append(UInt8(ascii: "0") + UInt8(value % 10))
            }
            let year = parts.tm_year + 1900
            two(year / 100)
            two(year % 100)
            two(parts.tm_mon + 1)
            two(parts.tm_mday)
            text.append(UInt8(ascii: "-"))
            two(parts.tm_hour)
            text.append(UInt8(ascii: ":"))
            two(parts.tm_min)
            text.append(UInt8(ascii: ":"))
            two(parts.tm_sec)
            prefix = text
        }
        bytes.append(contentsOf: prefix)
        let milliseconds = now % 1_000_000_000 / 1_000_000
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(milliseconds / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(milliseconds % 10))
    }
}

/// The tags of one inbound FIX message that the loadgen reads, found in one scan.
struct FIXInbound {
    /// MsgType (35): its first byte, and its second shifted by 8 (0 for one-character types).
    var msgType: UInt16 = 0
    var clOrdID: UInt64?
    var execType: UInt8 = 0
    var ordStatus: UInt8 = 0
    var textRange: Range<Int>?
    var ordRejReason: Range<Int>?
    var testRequestID: Range<Int>?
    var referenceSequence: UInt64?
    var businessReference: UInt64?
    var beginSequence: UInt64?

    static let executionReport = type("8")
    static let logon = type("A")
    static let heartbeat = type("0")
    static let sequenceReset = type("4")
    static let testRequest = type("1")
    static let resendRequest = type("2")
    static let reject = type("3")
    static let businessMessageReject = type("j")
    static let logout = type("5")

    /// The ``msgType`` value of a MsgType.
    static func type(_ text: StaticString) -> UInt16 {
        text.withUTF8Buffer { UInt16($0[0]) | ($0.count > 1 ? UInt16($0[1]) << 8 : 0) }
    }

    /// The length of the whole message at the start of `bytes` (`8=…|9=n|`, n bytes of body,
    /// `10=nnn|`); 0 while incomplete; -1 when the bytes are not a FIX message.
    static func frameLength(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.count >= 2 else { return 0 }
        guard bytes[0] == UInt8(ascii: "8"), bytes[1] == UInt8(ascii: "=") else { return -1 }
        var i = 2
        while i < bytes.count && bytes[i] != 1 {
            i += 1
            if i > 32 { return -1 }
        }
        guard i + 3 < bytes.count else { return 0 }
        guard bytes[i + 1] == UInt8(ascii: "9"), bytes[i + 2] == UInt8(ascii: "=") else { return -1 }
        var j = i + 3
        var length = 0
        while j < bytes.count && bytes[j] != 1 {
            let digit = Int(bytes[j]) - 48
            guard digit >= 0 && digit <= 9, j - i < 12 else { return -1 }
            length = length * 10 + digit
            j += 1
        }
        guard j < bytes.count else { return 0 }
        let total = j + 1 + length + 7
        return bytes.count >= total ? total : 0
    }

    /// Scans one whole message.
    init(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i < bytes.count {
            var tag = 0
            while i < bytes.count && bytes[i] != UInt8(ascii: "=") {
                tag = tag &* 10 &+ (Int(bytes[i]) - 48)
                i += 1
            }
            i += 1
            let start = i
            while i < bytes.count && bytes[i] != 1 { i += 1 }
            let value = start..<min(i, bytes.count)
            i += 1
            switch tag {
            case 35:
                if value.count >= 1 { msgType = UInt16(bytes[value.lowerBound]) }
                if value.count >= 2 { msgType |= UInt16(bytes[value.lowerBound + 1]) << 8 }
            case 11: clOrdID = Self.number(bytes, value)
            case 150: execType = value.isEmpty ? 0 : bytes[value.lowerBound]
            case 39: ordStatus = value.isEmpty ? 0 : bytes[value.lowerBound]
            case 58: textRange = value
            case 103: ordRejReason = value
            case 112: testRequestID = value
            case 45: referenceSequence = Self.number(bytes, value)
            case 379: businessReference = Self.number(bytes, value)
            case 7: beginSequence = Self.number(bytes, value)
            default: break
            }
        }
    }

    private static func number(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64? {
        guard !range.isEmpty, range.count <= 19 else { return nil }
        var value: UInt64 = 0
        for i in range {
            let digit = UInt64(bytes[i]) &- 48
            guard digit <= 9 else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    /// Text (58), if present.
    func text(_ bytes: UnsafeRawBufferPointer) -> String? {
        textRange.map { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
    }

    /// Text (58) up to its first colon (the gateway starts its texts with the reason's name), at
    /// most 48 characters.
    func shortText(_ bytes: UnsafeRawBufferPointer, default fallback: String) -> String {
        guard let text = text(bytes) else { return fallback }
        return String(text.prefix { $0 != ":" }.prefix(48))
    }

    /// Why an order was rejected: the start of Text (58), or OrdRejReason (103).
    func rejectReason(_ bytes: UnsafeRawBufferPointer) -> String {
        let reason = ordRejReason.map { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
        return shortText(bytes, default: "OrdRejReason \(reason ?? "?")")
    }
}
