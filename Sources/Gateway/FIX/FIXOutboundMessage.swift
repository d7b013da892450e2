/// An outbound message before the session adds its header and trailer: MsgType and the body fields in order.
///
/// Fields are serialized as they are appended (`tag=value<SOH>` into one byte array), so building a message costs
/// one growing allocation and encoding it one more. The session adds 8, 9, 35, 34, 49, 52, 56 (43/122 when
/// resending, 115/116/128/129/144/145 routing) and 10.
public struct FIXOutboundMessage: Sendable {
    /// MsgType (35), e.g. `8` for ExecutionReport.
    public var msgType: String
    /// Body fields already serialized: `tag=value<SOH>` repeated.
    public private(set) var body: [UInt8]

    /// An empty message of type `msgType`; `capacity` reserves body bytes.
    public init(msgType: String, capacity: Int = 128) {
        self.msgType = msgType
        self.body = []
        body.reserveCapacity(capacity)
    }

    /// Appends `tag=value`. The value must not contain SOH (data fields excepted, preceded by their length).
    public mutating func append(_ tag: Int, _ value: String) {
        appendTag(tag)
        body.append(contentsOf: value.utf8)
        body.append(FIXMessage.soh)
    }

    /// Appends `tag=value` for an integer value.
    public mutating func append(_ tag: Int, _ value: Int) {
        appendTag(tag)
        FIXOutboundMessage.appendInteger(value, to: &body)
        body.append(FIXMessage.soh)
    }

    /// Appends `tag=value` for a decimal value (Price, Qty…), in canonical form (`12.5`, `100`).
    public mutating func append(_ tag: Int, _ value: FIXDecimal) {
        appendTag(tag)
        FIXOutboundMessage.appendDecimal(value.mantissa, scale: value.scale, to: &body)
        body.append(FIXMessage.soh)
    }

    /// Appends `tag=value` for an integer count of `10^-decimals` units (e.g. a price in ticks of 0.01).
    public mutating func append(_ tag: Int, scaled value: Int64, decimals: Int) {
        appendTag(tag)
        var mantissa = value
        var scale = max(0, min(18, decimals))
        while scale > 0 && mantissa % 10 == 0 {
            mantissa /= 10
            scale -= 1
        }
        FIXOutboundMessage.appendDecimal(mantissa, scale: scale, to: &body)
        body.append(FIXMessage.soh)
    }

    /// Appends `tag=c` for a Char field.
    public mutating func append(_ tag: Int, _ value: Character) {
        appendTag(tag)
        body.append(contentsOf: value.utf8)
        body.append(FIXMessage.soh)
    }

    /// Appends `tag=Y` or `tag=N`.
    public mutating func append(_ tag: Int, _ value: Bool) {
        appendTag(tag)
        body.append(value ? UInt8(ascii: "Y") : UInt8(ascii: "N"))
        body.append(FIXMessage.soh)
    }

    /// Appends `tag=YYYYMMDD-HH:MM:SS.sss` for `nanoseconds` since the Unix epoch.
    public mutating func append(_ tag: Int, timestamp nanoseconds: Int64) {
        appendTag(tag)
        FIXTimestamp.append(nanoseconds, to: &body)
        body.append(FIXMessage.soh)
    }

    /// The body fields as (tag, value) pairs. Allocates: meant for tests and logs.
    public var fields: [(tag: Int, value: String)] {
        var result: [(tag: Int, value: String)] = []
        var fieldStart = 0
        while fieldStart < body.count {
            guard let equals = body[fieldStart...].firstIndex(of: UInt8(ascii: "=")),
                let soh = body[equals...].firstIndex(of: FIXMessage.soh)
            else { break }
            let tag = Int(String(decoding: body[fieldStart..<equals], as: UTF8.self)) ?? 0
            result.append((tag, String(decoding: body[(equals + 1)..<soh], as: UTF8.self)))
            fieldStart = soh + 1
        }
        return result
    }

    private mutating func appendTag(_ tag: Int) {
        FIXOutboundMessage.appendInteger(tag, to: &body)
        body.append(UInt8(ascii: "="))
    }

    static func appendInteger(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var divisor: UInt = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        repeat {
            out.append(UInt8(0x30 + magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        } while divisor > 0
    }

    static func appendDecimal(_ mantissa: Int64, scale: Int, to out: inout [UInt8]) {
        if mantissa < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = mantissa.magnitude
        guard scale > 0 else {
            appendUnsigned(magnitude, to: &out)
            return
        }
        var divisor: UInt64 = 1
        for _ in 0..<min(scale, 19) { divisor = divisor &* 10 }
        appendUnsigned(magnitude / divisor, to: &out)
        out.append(UInt8(ascii: "."))
        var fraction = magnitude % divisor
        var digitDivisor = divisor / 10
        while digitDivisor > 0 {
            out.append(UInt8(0x30 + fraction / digitDivisor))
            fraction %= digitDivisor
            digitDivisor /= 10
        }
    }

    static func appendUnsigned(_ value: UInt64, to out: inout [UInt8]) {
        var magnitude = value
        var divisor: UInt64 = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        repeat {
            out.append(UInt8(0x30 + magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        } while divisor > 0
    }
}

/// Header values the session puts on an outbound message.
public struct FIXOutboundHeader: Sendable {
    /// BeginString (8).
    public var beginString: String = "FIX.4.4"
    /// SenderCompID (49): ours.
    public var senderCompID: String
    /// TargetCompID (56): the counterparty's.
    public var targetCompID: String
    /// MsgSeqNum (34).
    public var msgSeqNum: Int
    /// SendingTime (52), nanoseconds since the Unix epoch.
    public var sendingTime: Int64
    /// PossDupFlag (43) = Y when resending.
    public var possDupFlag: Bool = false
    /// OrigSendingTime (122), set when resending.
    public var origSendingTime: Int64? = nil
    /// Further header fields (routing: 115, 116, 128, 129, 144, 145…), any order; empty values are skipped.
    public var extraFields: [(tag: Int, value: String)] = []

    /// A header with the required fields.
    public init(senderCompID: String, targetCompID: String, msgSeqNum: Int, sendingTime: Int64) {
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
        self.msgSeqNum = msgSeqNum
        self.sendingTime = sendingTime
    }
}

/// Serializes outbound messages with BodyLength and CheckSum, the header fields after 35 in ascending tag order
/// (as QuickFIX writes them).
public enum FIXEncoder {
    /// The bytes of `message` with `header`: `8=…|9=…|35=…|34=…|43=…|49=…|52=…|56=…|122=…|<body>|10=nnn|`.
    public static func encode(_ message: FIXOutboundMessage, header: FIXOutboundHeader) -> [UInt8] {
        var out: [UInt8] = []
        encode(msgType: message.msgType, body: message.body, header: header, into: &out)
        return out
    }

    /// Appends the encoded message to `out` (reserves the exact size first: one allocation when `out` is empty).
    public static func encode(msgType: String, body: [UInt8], header: FIXOutboundHeader, into out: inout [UInt8]) {
        let extras =
            header.extraFields.isEmpty ? [] : header.extraFields.filter { !$0.value.isEmpty }.sorted { $0.tag < $1.tag }
        // BodyLength: everything after "9=n|" up to the SOH before "10=".
        var length = 3 + msgType.utf8.count + 1
        length += 3 + decimalDigits(header.msgSeqNum) + 1
        if header.possDupFlag { length += 5 }
        length += 3 + header.senderCompID.utf8.count + 1
        length += 3 + 21 + 1
        length += 3 + header.targetCompID.utf8.count + 1
        if header.origSendingTime != nil { length += 4 + 21 + 1 }
        for extra in extras { length += decimalDigits(extra.tag) + 1 + extra.value.utf8.count + 1 }
        length += body.count
        let start = out.count
        out.reserveCapacity(start + length + 40)
        appendField(8, header.beginString, &out)
        out.append(contentsOf: "9=".utf8)
        FIXOutboundMessage.appendInteger(length, to: &out)
        out.append(FIXMessage.soh)
        appendField(35, msgType, &out)
        var extraIndex = 0
        flushExtras(extras, below: 34, &extraIndex, &out)
        out.append(contentsOf: "34=".utf8)
        FIXOutboundMessage.appendInteger(header.msgSeqNum, to: &out)
        out.append(FIXMessage.soh)
        if header.possDupFlag {
            flushExtras(extras, below: 43, &extraIndex, &out)
            out.append(contentsOf: "43=Y".utf8)
            out.append(FIXMessage.soh)
        }
        flushExtras(extras, below: 49, &extraIndex, &out)
        appendField(49, header.senderCompID, &out)
        flushExtras(extras, below: 52, &extraIndex, &out)
        out.append(contentsOf: "52=".utf8)
        FIXTimestamp.append(header.sendingTime, to: &out)
        out.append(FIXMessage.soh)
        flushExtras(extras, below: 56, &extraIndex, &out)
        appendField(56, header.targetCompID, &out)
        if let orig = header.origSendingTime {
            flushExtras(extras, below: 122, &extraIndex, &out)
            out.append(contentsOf: "122=".utf8)
            FIXTimestamp.append(orig, to: &out)
            out.append(FIXMessage.soh)
        }
        flushExtras(extras, below: Int.max, &extraIndex, &out)
        out.append(contentsOf: body)
        var sum = 0
        for position in start..<out.count { sum &+= Int(out[position]) }
        let checksum = sum % 256
        out.append(contentsOf: "10=".utf8)
        out.append(UInt8(0x30 + checksum / 100))
        out.append(UInt8(0x30 + checksum / 10 % 10))
        out.append(UInt8(0x30 + checksum % 10))
        out.append(FIXMessage.soh)
    }

    static func flushExtras(
        _ extras: [(tag: Int, value: String)], below tag: Int, _ extraIndex: inout Int, _ out: inout [UInt8]
    ) {
        while extraIndex < extras.count && extras[extraIndex].tag < tag {
            appendField(extras[extraIndex].tag, extras[extraIndex].value, &out)
            extraIndex += 1
        }
    }

    /// Computes the CheckSum (10) of `bytes`: the sum of all bytes modulo 256.
    public static func checksum<C: Collection>(_ bytes: C) -> Int where C.Element == UInt8 {
        var sum = 0
        for byte in bytes { sum &+= Int(byte) }
        return sum % 256
    }

    static func appendField(_ tag: Int, _ value: String, _ out: inout [UInt8]) {
        FIXOutboundMessage.appendInteger(tag, to: &out)
        out.append(UInt8(ascii: "="))
        out.append(contentsOf: value.utf8)
        out.append(FIXMessage.soh)
    }

    static func decimalDigits(_ value: Int) -> Int {
        var digits = value < 0 ? 2 : 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }
}
