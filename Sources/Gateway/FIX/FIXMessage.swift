/// One parsed inbound FIX message: its raw bytes and the position of every field in them.
///
/// A message owns one byte array (the frame, `8=` through the checksum's SOH) and one table of field positions;
/// accessors read values straight from the bytes. Parsing a message costs two allocations (the bytes and the
/// table); the integer, decimal, timestamp and boolean accessors allocate nothing.
///
/// ```
///   8=FIX.4.4|9=65|35=D|34=2|49=TW|52=20240101-00:00:00.000|56=ISLD|11=ID|...|10=123|
///   ^fieldStart ^valueStart ^valueEnd (the SOH)
/// ```
///
/// Fields keep their wire order; a tag may appear more than once (repeating groups).
public struct FIXMessage: Sendable {
    /// Position of one field inside `bytes`.
    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var tag: Int32
        @usableFromInline var fieldStart: Int32
        @usableFromInline var valueStart: Int32
        @usableFromInline var valueEnd: Int32
    }

    /// The complete frame, from `8=` through the SOH after the checksum.
    public let bytes: [UInt8]
    @usableFromInline let slots: [Slot]

    /// MsgType (35).
    public let msgType: String

    init(bytes: [UInt8], slots: [Slot], msgType: String) {
        self.bytes = bytes
        self.slots = slots
        self.msgType = msgType
    }

    /// Parses one complete frame (`8=` … `10=nnn<SOH>`), checking only the field syntax (`tag=value<SOH>`, tags are
    /// optionally negative integers, data fields take the length of their preceding length field).
    /// BodyLength and CheckSum are checked by `FIXFramer`, not here. Returns nil when the syntax is broken.
    public init?(frame bytes: [UInt8]) {
        guard let parsed = FIXMessage.tokenize(bytes) else { return nil }
        self = parsed
    }

    static func tokenize(_ bytes: [UInt8]) -> FIXMessage? {
        var slots: [Slot] = []
        var fieldCount = 0
        for byte in bytes where byte == FIXMessage.soh { fieldCount += 1 }
        slots.reserveCapacity(fieldCount)
        let ok = bytes.withUnsafeBufferPointer { buffer -> Bool in
            var index = 0
            let count = buffer.count
            var pendingDataTag = Int.min
            var pendingDataLength = 0
            while index < count {
                let fieldStart = index
                var negative = false
                if buffer[index] == UInt8(ascii: "-") {
                    negative = true
                    index += 1
                }
                var tag = 0
                var digits = 0
                while index < count, buffer[index] >= 0x30, buffer[index] <= 0x39 {
                    tag = tag * 10 + Int(buffer[index] - 0x30)
                    digits += 1
                    index += 1
                    if digits > 9 { return false }
                }
                guard digits > 0, index < count, buffer[index] == UInt8(ascii: "=") else { return false }
                if negative { tag = -tag }
                index += 1
                let valueStart = index
                if tag == pendingDataTag {
                    index += pendingDataLength
                    guard index < count, buffer[index] == FIXMessage.soh else { return false }
                } else {
                    while index < count, buffer[index] != FIXMessage.soh { index += 1 }
                    guard index < count else { return false }
                }
                let valueEnd = index
                index += 1
                pendingDataTag = Int.min
                if let dataTag = FIXMessage.dataTag(forLengthTag: tag) {
                    var length = 0
                    var lengthDigits = 0
                    for position in valueStart..<valueEnd {
                        let byte = buffer[position]
                        guard byte >= 0x30, byte <= 0x39, lengthDigits < 9 else {
                            lengthDigits = -1
                            break
                        }
                        length = length * 10 + Int(byte - 0x30)
                        lengthDigits += 1
                    }
                    if lengthDigits > 0 {
                        pendingDataTag = dataTag
                        pendingDataLength = length
                    }
                }
                slots.append(
                    Slot(
                        tag: Int32(tag), fieldStart: Int32(fieldStart), valueStart: Int32(valueStart),
                        valueEnd: Int32(valueEnd)))
            }
            return true
        }
        guard ok, slots.count >= 3, slots[2].tag == 35 else { return nil }
        let typeSlot = slots[2]
        let msgType = String(
            decoding: bytes[Int(typeSlot.valueStart)..<Int(typeSlot.valueEnd)], as: UTF8.self)
        return FIXMessage(bytes: bytes, slots: slots, msgType: msgType)
    }

    /// The data tag that follows a length tag (RawDataLength 95 → RawData 96 …), nil for other tags.
    static func dataTag(forLengthTag tag: Int) -> Int? {
        switch tag {
        case 90: return 91
        case 93: return 89
        case 95: return 96
        case 212: return 213
        case 348, 350, 352, 354, 356, 358, 360, 362, 364: return tag + 1
        case 445: return 446
        case 618: return 619
        case 621: return 622
        default: return nil
        }
    }

    static let soh: UInt8 = 0x01

    // MARK: Field access by position

    /// Number of fields, header and trailer included.
    public var fieldCount: Int { slots.count }

    /// The tag of the field at `index` (wire order, 0 = BeginString).
    public func tag(at index: Int) -> Int { Int(slots[index].tag) }

    /// The value of the field at `index` as a String (allocates for values longer than 15 bytes).
    public func string(at index: Int) -> String {
        let slot = slots[index]
        return String(decoding: bytes[Int(slot.valueStart)..<Int(slot.valueEnd)], as: UTF8.self)
    }

    /// Byte range of the value of the field at `index` inside `bytes`.
    public func valueRange(at index: Int) -> Range<Int> {
        Int(slots[index].valueStart)..<Int(slots[index].valueEnd)
    }

    /// Byte range of the whole field at `index` (`tag=value`, without its SOH) inside `bytes`.
    public func fieldRange(at index: Int) -> Range<Int> {
        Int(slots[index].fieldStart)..<Int(slots[index].valueEnd)
    }

    /// All fields in wire order as (tag, value) pairs. Allocates: meant for tests, logs and tools.
    public var fields: [(tag: Int, value: String)] {
        (0..<slots.count).map { (tag: tag(at: $0), value: string(at: $0)) }
    }

    /// Index of the first field with `tag`, nil when absent. O(fields).
    @inlinable
    public func firstIndex(of tag: Int) -> Int? {
        let wanted = Int32(truncatingIfNeeded: tag)
        for index in 0..<slots.count where slots[index].tag == wanted { return index }
        return nil
    }

    /// How many times `tag` appears (repeating groups).
    public func count(of tag: Int) -> Int {
        let wanted = Int32(truncatingIfNeeded: tag)
        var result = 0
        for slot in slots where slot.tag == wanted { result += 1 }
        return result
    }

    /// Whether `tag` is present (possibly with an empty value).
    public func contains(_ tag: Int) -> Bool { firstIndex(of: tag) != nil }

    // MARK: Typed access by tag (first occurrence)

    /// The value of the first `tag` field as a String, nil when absent.
    public func string(_ tag: Int) -> String? {
        guard let index = firstIndex(of: tag) else { return nil }
        return string(at: index)
    }

    /// The value of the first `tag` field as an integer (`-?[0-9]+`), nil when absent or malformed.
    public func int(_ tag: Int) -> Int? {
        guard let index = firstIndex(of: tag) else { return nil }
        return int(at: index)
    }

    /// The value of the field at `index` as an integer (`-?[0-9]+`), nil when malformed or above 18 digits.
    public func int(at index: Int) -> Int? {
        withValue(at: index) { FIXValueParser.int($0) }
    }

    /// The value of the first `tag` field as an exact decimal (FIX Price, Qty, Amt…), nil when absent or malformed.
    public func decimal(_ tag: Int) -> FIXDecimal? {
        guard let index = firstIndex(of: tag) else { return nil }
        return withValue(at: index) { FIXDecimal(utf8: $0) }
    }

    /// The value of the first `tag` field when it is exactly one character, else nil.
    public func char(_ tag: Int) -> Character? {
        guard let index = firstIndex(of: tag) else { return nil }
        let range = valueRange(at: index)
        guard range.count == 1, bytes[range.lowerBound] < 0x80 else { return nil }
        return Character(Unicode.Scalar(bytes[range.lowerBound]))
    }

    /// The value of the first `tag` field as a FIX Boolean (`Y`/`N`), nil when absent or anything else.
    public func bool(_ tag: Int) -> Bool? {
        guard let index = firstIndex(of: tag) else { return nil }
        let range = valueRange(at: index)
        guard range.count == 1 else { return nil }
        switch bytes[range.lowerBound] {
        case UInt8(ascii: "Y"): return true
        case UInt8(ascii: "N"): return false
        default: return nil
        }
    }

    /// The value of the first `tag` field as a UTCTimestamp (`YYYYMMDD-HH:MM:SS[.f{1,9}]`), in nanoseconds since
    /// the Unix epoch; nil when absent or malformed.
    public func utcTimestamp(_ tag: Int) -> Int64? {
        guard let index = firstIndex(of: tag) else { return nil }
        return withValue(at: index) { FIXTimestamp.parse($0) }
    }

    /// Calls `body` with the raw bytes of the value at `index`.
    @inlinable
    public func withValue<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let slot = slots[index]
        return bytes.withUnsafeBufferPointer { buffer in
            body(UnsafeBufferPointer(rebasing: buffer[Int(slot.valueStart)..<Int(slot.valueEnd)]))
        }
    }

    /// Whether the value of the first `tag` field equals `value` byte for byte (no allocation).
    public func value(_ tag: Int, equals value: String) -> Bool {
        guard let index = firstIndex(of: tag) else { return false }
        var value = value
        return value.withUTF8 { expected in
            withValue(at: index) { actual in actual.elementsEqual(expected) }
        }
    }

    // MARK: Header shortcuts

    /// BeginString (8), e.g. `FIX.4.4`.
    public var beginString: String { slots.isEmpty ? "" : string(at: 0) }
    /// MsgSeqNum (34), nil when absent or malformed.
    public var msgSeqNum: Int? { int(34) }
    /// SenderCompID (49): the counterparty's identity. The gateway uses it with `targetCompID` to find the session.
    public var senderCompID: String? { string(49) }
    /// TargetCompID (56): our identity as the counterparty sees it.
    public var targetCompID: String? { string(56) }
    /// PossDupFlag (43) = Y.
    public var possDupFlag: Bool { bool(43) ?? false }
    /// SendingTime (52) in nanoseconds since the Unix epoch.
    public var sendingTime: Int64? { utcTimestamp(52) }
    /// OrigSendingTime (122) in nanoseconds since the Unix epoch.
    public var origSendingTime: Int64? { utcTimestamp(122) }
    /// Whether this is a session-level (administrative) message: 0 1 2 3 4 5 A.
    public var isAdmin: Bool { FIXDictionary.isAdminMessageType(msgType) }
}

/// Allocation-free parsers for FIX value syntaxes.
enum FIXValueParser {
    /// `-?[0-9]{1,18}` → Int.
    static func int(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        var negative = false
        if bytes.count > 0, bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        let digits = bytes.count - index
        guard digits > 0, digits <= 18 else { return nil }
        var value = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
            index += 1
        }
        return negative ? -value : value
    }
}
