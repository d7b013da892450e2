/// SessionRejectReason (373) values used by the session layer, with QuickFIX's texts.
public enum FIXSessionRejectReason: Int, Sendable {
    /// 0: a tag number that FIX 4.4 does not define (and not user-defined when those are allowed).
    case invalidTagNumber = 0
    /// 1: a required field is absent.
    case requiredTagMissing = 1
    /// 2: a FIX 4.4 field that this message type does not contain.
    case tagNotDefinedForMessageType = 2
    /// 4: `tag=` with an empty value.
    case tagSpecifiedWithoutValue = 4
    /// 5: a value outside the field's enumerated values.
    case valueIsIncorrect = 5
    /// 6: a value that does not parse as the field's type.
    case incorrectDataFormat = 6
    /// 9: SenderCompID or TargetCompID does not match the session.
    case compIDProblem = 9
    /// 10: SendingTime too far from now, or OrigSendingTime after SendingTime.
    case sendingTimeAccuracyProblem = 10
    /// 11: a MsgType that FIX 4.4 does not define.
    case invalidMsgType = 11
    /// 13: a field outside any repeating group appears twice.
    case tagAppearsMoreThanOnce = 13
    /// 14: a header field after the body, or a body field after the trailer.
    case tagSpecifiedOutOfRequiredOrder = 14
    /// 15: a repeating group entry that does not start with its delimiter or whose fields are out of order.
    case repeatingGroupFieldsOutOfOrder = 15
    /// 16: the NumInGroup value differs from the number of entries.
    case incorrectNumInGroupCount = 16

    /// The Text (58) QuickFIX puts on the Reject.
    public var text: String {
        switch self {
        case .invalidTagNumber: return "Invalid tag number"
        case .requiredTagMissing: return "Required tag missing"
        case .tagNotDefinedForMessageType: return "Tag not defined for this message type"
        case .tagSpecifiedWithoutValue: return "Tag specified without a value"
        case .valueIsIncorrect: return "Value is incorrect (out of range) for this tag"
        case .incorrectDataFormat: return "Incorrect data format for value"
        case .compIDProblem: return "CompID problem"
        case .sendingTimeAccuracyProblem: return "SendingTime accuracy problem"
        case .invalidMsgType: return "Invalid MsgType"
        case .tagAppearsMoreThanOnce: return "Tag appears more than once"
        case .tagSpecifiedOutOfRequiredOrder: return "Tag specified out of required order"
        case .repeatingGroupFieldsOutOfOrder: return "Repeating group fields out of order"
        case .incorrectNumInGroupCount: return "Incorrect NumInGroup count for repeating group"
        }
    }
}

/// Why a message is rejected: SessionRejectReason (373), RefTagID (371) when a field is at fault, and Text (58).
public struct FIXRejection: Sendable, Equatable, CustomStringConvertible {
    /// SessionRejectReason (373).
    public var reason: FIXSessionRejectReason
    /// RefTagID (371), nil when no single field is at fault.
    public var refTagID: Int?
    /// Text (58).
    public var text: String

    /// A rejection with QuickFIX's text for `reason`.
    public init(_ reason: FIXSessionRejectReason, refTagID: Int? = nil) {
        self.reason = reason
        self.refTagID = refTagID
        self.text = reason.text
    }

    /// `373=reason 371=tag: text`.
    public var description: String { "373=\(reason.rawValue) 371=\(refTagID.map(String.init) ?? "-"): \(text)" }
}

/// Checks a parsed message against the FIX 4.4 dictionary in QuickFIX's order: field order (header, body,
/// trailer) → MsgType → required fields → each field (repeated, empty, format, enumerated value, tag number,
/// allowed in this message, repeating group structure and count).
///
/// Messages whose layout the dictionary does not include (valid MsgTypes other than 0 1 2 3 4 5 A D F G 8 9 j) get
/// only the per-field checks that need no layout (empty, format, enumerated value, tag number).
public struct FIXValidator: Sendable {
    /// The dictionary checked against.
    public let dictionary: FIXDictionary
    /// Whether user-defined tags (5000…9999) are accepted anywhere without checks. Default true. QuickFIX's
    /// `ValidateUserDefinedFields=Y` (its acceptance definition 14a) rejects them as invalid tag numbers: set false.
    public var allowsUserDefinedFields: Bool

    /// A validator for `dictionary`.
    public init(dictionary: FIXDictionary = .fix44, allowsUserDefinedFields: Bool = true) {
        self.dictionary = dictionary
        self.allowsUserDefinedFields = allowsUserDefinedFields
    }

    /// The first problem found, nil when the message is valid.
    public func validate(_ message: FIXMessage) -> FIXRejection? {
        let count = message.fieldCount
        // 1. Header, then body, then trailer.
        var phase = 0
        for index in 3..<max(3, count) {
            let tag = message.tag(at: index)
            if isUserDefined(tag) {
                if phase == 0 { phase = 1 }
                continue
            }
            if dictionary.isHeaderField(tag) {
                if phase > 0 { return FIXRejection(.tagSpecifiedOutOfRequiredOrder, refTagID: tag) }
            } else if dictionary.isTrailerField(tag) {
                phase = 2
            } else {
                if phase == 2 { return FIXRejection(.tagSpecifiedOutOfRequiredOrder, refTagID: tag) }
                phase = 1
            }
        }
        // 2. MsgType.
        guard dictionary.isValidMessageType(message.msgType) else { return FIXRejection(.invalidMsgType) }
        // 3. Required fields (header, trailer, then body, each in tag order).
        let body = dictionary.messageDefinition(message.msgType)
        for fieldSet in [dictionary.header, dictionary.trailer] + (body.map { [$0] } ?? []) {
            for tag in fieldSet.requiredTags.sorted() where !message.contains(tag) {
                return FIXRejection(.requiredTagMissing, refTagID: tag)
            }
        }
        // 4. Each field.
        var seen = TagSet()
        var index = 0
        while index < count {
            let tag = message.tag(at: index)
            let isHeader = dictionary.isHeaderField(tag)
            let isTrailer = !isHeader && dictionary.isTrailerField(tag)
            let level: FIXFieldSet? = isHeader ? dictionary.header : isTrailer ? dictionary.trailer : body
            if isUserDefined(tag) {
                index += 1
                continue
            }
            if level != nil || isHeader || isTrailer {
                if seen.insert(tag, message: message, upTo: index) == false {
                    return FIXRejection(.tagAppearsMoreThanOnce, refTagID: tag)
                }
            }
            if let problem = checkValue(message, at: index) { return problem }
            guard dictionary.fieldType(tag) != nil else { return FIXRejection(.invalidTagNumber, refTagID: tag) }
            if let level {
                guard level.contains(tag) else { return FIXRejection(.tagNotDefinedForMessageType, refTagID: tag) }
                if let group = level.groups[tag] {
                    switch walkGroup(group, message, countIndex: index) {
                    case .rejected(let problem): return problem
                    case .next(let next): index = next
                    }
                    continue
                }
            }
            index += 1
        }
        return nil
    }

    private func isUserDefined(_ tag: Int) -> Bool {
        allowsUserDefinedFields && tag >= 5000 && tag <= 9999
    }

    /// Empty value, format and enumerated value of the field at `index`.
    private func checkValue(_ message: FIXMessage, at index: Int) -> FIXRejection? {
        let tag = message.tag(at: index)
        let range = message.valueRange(at: index)
        if range.isEmpty { return FIXRejection(.tagSpecifiedWithoutValue, refTagID: tag) }
        guard let type = dictionary.fieldType(tag) else { return nil }
        let wellFormed = message.withValue(at: index) { FIXValidator.hasValidFormat($0, type) }
        if !wellFormed { return FIXRejection(.incorrectDataFormat, refTagID: tag) }
        if let allowed = dictionary.allowedValues(tag) {
            let value = message.string(at: index)
            let valid =
                type == .multipleValueString
                ? value.split(separator: " ").allSatisfy { allowed.contains(String($0)) }
                : allowed.contains(value)
            if !valid { return FIXRejection(.valueIsIncorrect, refTagID: tag) }
        }
        return nil
    }

    /// Walks the entries of `group` whose count is at `countIndex`; returns the index after the group.
    private func walkGroup(_ group: FIXGroupDefinition, _ message: FIXMessage, countIndex: Int) -> GroupWalk {
        let declared = message.int(at: countIndex) ?? -1
        var index = countIndex + 1
        var entries = 0
        var lastPosition = -1
        var entrySeen = TagSet()
        var entryStart = index
        func closeEntry() -> FIXRejection? {
            guard entries > 0 else { return nil }
            for tag in group.entry.requiredTags.sorted() {
                var found = false
                for position in entryStart..<index where message.tag(at: position) == tag { found = true }
                if !found { return FIXRejection(.requiredTagMissing, refTagID: tag) }
            }
            return nil
        }
        while index < message.fieldCount {
            let tag = message.tag(at: index)
            if isUserDefined(tag) {
                index += 1
                continue
            }
            guard let position = group.entry.positions[tag] else { break }
            if tag == group.delimiter {
                if let problem = closeEntry() { return .rejected(problem) }
                entries += 1
                entryStart = index
                entrySeen = TagSet()
                lastPosition = position
            } else {
                if entries == 0 || position < lastPosition {
                    return .rejected(FIXRejection(.repeatingGroupFieldsOutOfOrder, refTagID: tag))
                }
                lastPosition = position
            }
            if entrySeen.insert(tag, message: message, upTo: index) == false {
                return .rejected(FIXRejection(.tagAppearsMoreThanOnce, refTagID: tag))
            }
            if let problem = checkValue(message, at: index) { return .rejected(problem) }
            if let nested = group.entry.groups[tag] {
                switch walkGroup(nested, message, countIndex: index) {
                case .rejected(let problem): return .rejected(problem)
                case .next(let next): index = next
                }
                continue
            }
            index += 1
        }
        if let problem = closeEntry() { return .rejected(problem) }
        if entries != declared {
            return .rejected(FIXRejection(.incorrectNumInGroupCount, refTagID: group.countTag))
        }
        return .next(index)
    }

    private enum GroupWalk {
        case next(Int)
        case rejected(FIXRejection)
    }

    /// Whether `value` has the syntax of `type` (QuickFIX's convertors: no `+`, Char exactly one byte…).
    static func hasValidFormat(_ value: UnsafeBufferPointer<UInt8>, _ type: FIXFieldType) -> Bool {
        switch type {
        case .int, .numInGroup, .length:
            var index = 0
            if value.count > 0, value[0] == UInt8(ascii: "-") { index = 1 }
            guard index < value.count else { return false }
            while index < value.count {
                guard value[index] >= 0x30, value[index] <= 0x39 else { return false }
                index += 1
            }
            return true
        case .float:
            var index = 0
            if value.count > 0, value[0] == UInt8(ascii: "-") { index = 1 }
            var digits = 0
            var points = 0
            while index < value.count {
                let byte = value[index]
                if byte == UInt8(ascii: ".") {
                    points += 1
                } else if byte >= 0x30, byte <= 0x39 {
                    digits += 1
                } else {
                    return false
                }
                index += 1
            }
            return digits > 0 && points <= 1
        case .char:
            return value.count == 1
        case .boolean:
            return value.count == 1 && (value[0] == UInt8(ascii: "Y") || value[0] == UInt8(ascii: "N"))
        case .utcTimestamp:
            return FIXTimestamp.parse(value) != nil
        case .utcTimeOnly:
            guard value.count == 8 || (value.count >= 10 && value.count <= 18 && value[8] == UInt8(ascii: ".")) else {
                return false
            }
            for index in 0..<value.count where index != 2 && index != 5 && index != 8 {
                guard value[index] >= 0x30, value[index] <= 0x39 else { return false }
            }
            return value[2] == UInt8(ascii: ":") && value[5] == UInt8(ascii: ":")
        case .date:
            guard value.count == 8 else { return false }
            return value.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        case .string, .multipleValueString, .data:
            return true
        }
    }
}

/// A set of tags seen at one level of a message: a bitmap for tags below 1024, a scan of earlier fields above.
struct TagSet {
    private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var high: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    /// Inserts `tag`; false when it was already present. Tags outside 0..<1024 are never reported.
    mutating func insert(_ tag: Int, message: FIXMessage, upTo index: Int) -> Bool {
        guard tag >= 0, tag < 1024 else { return true }
        let word = tag / 64
        let bit = UInt64(1) << UInt64(tag % 64)
        return withUnsafeMutableBytes(of: &words) { low in
            withUnsafeMutableBytes(of: &high) { highWords in
                let buffer = word < 8 ? low : highWords
                let slot = word % 8
                var current = buffer.load(fromByteOffset: slot * 8, as: UInt64.self)
                if current & bit != 0 { return false }
                current |= bit
                buffer.storeBytes(of: current, toByteOffset: slot * 8, as: UInt64.self)
                return true
            }
        }
    }
}
