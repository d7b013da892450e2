/// The syntax of a FIX field's value, as the FIX 4.4 specification types it.
public enum FIXFieldType: UInt8, Sendable {
    /// STRING, CURRENCY, EXCHANGE, COUNTRY, MONTHYEAR: any bytes but SOH.
    case string
    /// CHAR: exactly one character.
    case char
    /// PRICE, QTY, AMT, FLOAT, PRICEOFFSET, PERCENTAGE: `-?digits[.digits]`.
    case float
    /// INT, SEQNUM: `-?digits`.
    case int
    /// NUMINGROUP: the count of a repeating group.
    case numInGroup
    /// LENGTH: the byte length of the following data field.
    case length
    /// UTCTIMESTAMP: `YYYYMMDD-HH:MM:SS[.sss]`.
    case utcTimestamp
    /// UTCTIMEONLY: `HH:MM:SS[.sss]`.
    case utcTimeOnly
    /// UTCDATEONLY, LOCALMKTDATE: `YYYYMMDD`.
    case date
    /// BOOLEAN: `Y` or `N`.
    case boolean
    /// MULTIPLEVALUESTRING: space-separated values.
    case multipleValueString
    /// DATA: raw bytes, SOH allowed, length given by the preceding LENGTH field.
    case data
}

/// The fields and repeating groups allowed in a message body, a group entry, the header or the trailer.
public struct FIXFieldSet: Sendable {
    /// Tags in specification order (group count tags included, group members not).
    public let orderedTags: [Int]
    /// Tags that must be present.
    public let requiredTags: [Int]
    /// Repeating groups by their count (NumInGroup) tag.
    public let groups: [Int: FIXGroupDefinition]
    /// Specification position of each tag of `orderedTags`.
    public let positions: [Int: Int]

    /// Whether `tag` is a direct member (a field or a group count).
    public func contains(_ tag: Int) -> Bool { positions[tag] != nil }
}

/// A repeating group: its NumInGroup tag, its delimiter (first field of every entry) and the entry layout.
public final class FIXGroupDefinition: Sendable {
    /// The NumInGroup tag, e.g. 453 NoPartyIDs.
    public let countTag: Int
    /// The first field of every entry, e.g. 448 PartyID.
    public let delimiter: Int
    /// Fields and nested groups of one entry.
    public let entry: FIXFieldSet

    init(countTag: Int, entry: FIXFieldSet) {
        self.countTag = countTag
        self.delimiter = entry.orderedTags.first ?? 0
        self.entry = entry
    }
}

/// The FIX 4.4 data dictionary: every field's number, name and type, the enumerated values QuickFIX checks, every
/// MsgType, and full layouts (header, trailer, groups) of the messages this exchange speaks: 0 1 2 3 4 5 A D F G 8 9 j.
///
/// Built once from compact generated tables (`FIXDictionary+Tables.swift`); lookups are O(1) dictionary reads.
public final class FIXDictionary: Sendable {
    /// The FIX 4.4 dictionary (built on first use).
    public static let fix44 = FIXDictionary()

    private let types: [UInt8]
    private let names: [Int: String]
    private let enumValues: [Int: Set<String>]
    private let messageTypes: Set<String>
    private let messages: [String: FIXFieldSet]
    /// The standard header (8, 9, 35 first, then any order).
    public let header: FIXFieldSet
    /// The standard trailer (93, 89, 10).
    public let trailer: FIXFieldSet

    private init() {
        types = Array(FIXDictionary.typeCodeTable.joined().utf8)
        var names: [Int: String] = [:]
        for entry in FIXDictionary.fieldNameTable.joined().split(separator: "|") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let tag = Int(parts[0]) { names[tag] = String(parts[1]) }
        }
        self.names = names
        var enumValues: [Int: Set<String>] = [:]
        for entry in FIXDictionary.enumTable.joined().split(separator: "|") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let tag = Int(parts[0]) {
                enumValues[tag] = Set(parts[1].split(separator: " ").map(String.init))
            }
        }
        self.enumValues = enumValues
        messageTypes = Set(FIXDictionary.allMessageTypes.split(separator: " ").map(String.init))
        header = FIXDictionary.parseFieldSet(FIXDictionary.headerDefinitionText.joined())
        trailer = FIXDictionary.parseFieldSet(FIXDictionary.trailerDefinitionText.joined())
        var messages: [String: FIXFieldSet] = [:]
        for chunks in FIXDictionary.messageDefinitionTexts {
            let text = chunks.joined()
            guard let equals = text.firstIndex(of: "=") else { continue }
            messages[String(text[..<equals])] = FIXDictionary.parseFieldSet(String(text[text.index(after: equals)...]))
        }
        self.messages = messages
    }

    /// The type of `tag`, nil when FIX 4.4 does not define it.
    public func fieldType(_ tag: Int) -> FIXFieldType? {
        guard tag > 0, tag < types.count else { return nil }
        switch types[tag] {
        case UInt8(ascii: "s"): return .string
        case UInt8(ascii: "c"): return .char
        case UInt8(ascii: "f"): return .float
        case UInt8(ascii: "i"): return .int
        case UInt8(ascii: "n"): return .numInGroup
        case UInt8(ascii: "l"): return .length
        case UInt8(ascii: "t"): return .utcTimestamp
        case UInt8(ascii: "o"): return .utcTimeOnly
        case UInt8(ascii: "d"): return .date
        case UInt8(ascii: "b"): return .boolean
        case UInt8(ascii: "m"): return .multipleValueString
        case UInt8(ascii: "x"): return .data
        default: return nil
        }
    }

    /// The specification name of `tag` (e.g. 35 → `MsgType`).
    public func fieldName(_ tag: Int) -> String? { names[tag] }

    /// The allowed values of an enumerated field, nil when the field is not enumerated.
    public func allowedValues(_ tag: Int) -> Set<String>? { enumValues[tag] }

    /// Whether `msgType` is one of the MsgType values FIX 4.4 defines (anything else is session Reject 373=11).
    public func isValidMessageType(_ msgType: String) -> Bool { messageTypes.contains(msgType) }

    /// The body layout of `msgType`, nil for valid types whose layout is not included (their body fields are still
    /// checked for tag numbers, formats and enumerated values).
    public func messageDefinition(_ msgType: String) -> FIXFieldSet? { messages[msgType] }

    /// Whether `tag` belongs to the standard header (the NoHops group members included).
    public func isHeaderField(_ tag: Int) -> Bool {
        header.contains(tag) || tag == 628 || tag == 629 || tag == 630
    }

    /// Whether `tag` belongs to the standard trailer.
    public func isTrailerField(_ tag: Int) -> Bool { trailer.contains(tag) }

    /// Whether `msgType` is session-level: Heartbeat 0, TestRequest 1, ResendRequest 2, Reject 3, SequenceReset 4,
    /// Logout 5, Logon A.
    public static func isAdminMessageType(_ msgType: String) -> Bool {
        switch msgType {
        case "0", "1", "2", "3", "4", "5", "A": return true
        default: return false
        }
    }

    static func parseFieldSet(_ text: String) -> FIXFieldSet {
        var position = 0
        return parseElements(Array(text.utf8), &position)
    }

    private static func parseElements(_ bytes: [UInt8], _ position: inout Int) -> FIXFieldSet {
        var ordered: [Int] = []
        var required: [Int] = []
        var groups: [Int: FIXGroupDefinition] = [:]
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "}") {
                position += 1
                break
            }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            var tag = 0
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                tag = tag * 10 + Int(bytes[position] - 0x30)
                position += 1
            }
            ordered.append(tag)
            if position < bytes.count, bytes[position] == UInt8(ascii: "!") {
                required.append(tag)
                position += 1
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "{") {
                position += 1
                groups[tag] = FIXGroupDefinition(countTag: tag, entry: parseElements(bytes, &position))
            }
        }
        var positions: [Int: Int] = [:]
        for (offset, tag) in ordered.enumerated() where positions[tag] == nil { positions[tag] = offset }
        return FIXFieldSet(orderedTags: ordered, requiredTags: required, groups: groups, positions: positions)
    }
}
