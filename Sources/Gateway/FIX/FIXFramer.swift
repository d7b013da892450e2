/// What `FIXFramer.next()` found in the byte stream.
public enum FIXFrame: Sendable {
    /// A frame with correct BodyLength and CheckSum whose first three fields are 8, 9, 35. Its BeginString may be
    /// something other than `FIX.4.4`: the session answers that with a Logout, as QuickFIX does.
    case message(FIXMessage)
    /// Bytes that looked like a message but were not one (bad BodyLength or CheckSum, first three fields not 8, 9,
    /// 35, broken `tag=value` syntax). The session ignores it (it consumes no sequence number); before a Logon it
    /// disconnects.
    case garbled(reason: String)
    /// A message declaring a BodyLength above `maxMessageSize`: the gateway disconnects.
    case tooLarge(size: Int)
}

/// Cuts a TCP byte stream into FIX frames.
///
/// A frame is `8=<BeginString><SOH>9=<BodyLength><SOH>35=…<SOH>…10=<3 digits><SOH>`; BodyLength counts the bytes
/// after the SOH that ends the 9= field up to and including the SOH before `10=`, CheckSum is the sum of every byte
/// before `10=` modulo 256.
///
/// Framing follows QuickFIX's parser so that the acceptance behaviour matches: the frame ends at the first
/// `<SOH>10=…<SOH>` found at or after the declared end, so a BodyLength that is too short yields one garbled frame,
/// and one that is too long swallows the next message with it (both ignored). Bytes before a `8=FIX` are skipped
/// silently; after a frame whose start is unusable (BodyLength not a number, 9= missing, no checksum within
/// `maxMessageSize` bytes past the declared end) the framer resynchronises at the next `8=FIX`.
///
/// Never traps on any input; memory is bounded by about twice `maxMessageSize` plus one read.
public struct FIXFramer {
    /// The largest accepted BodyLength plus header, in bytes.
    public let maxMessageSize: Int
    private var buffer: [UInt8] = []
    private var head = 0

    /// A framer accepting messages of up to `maxMessageSize` bytes.
    public init(maxMessageSize: Int = 8192) {
        self.maxMessageSize = max(64, maxMessageSize)
        buffer.reserveCapacity(self.maxMessageSize * 2)
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - head }

    /// Appends bytes read from the connection.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if head >= buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096 {
            buffer.removeSubrange(0..<head)
            head = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Appends bytes read from the connection.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() -> FIXFrame? {
        while true {
            let result = buffer.withUnsafeBufferPointer { scan($0) }
            switch result {
            case .needMore(let consumedTo):
                head = consumedTo
                return nil
            case .frame(let start, let end, let problem):
                head = end
                if let problem { return .garbled(reason: problem) }
                let frameBytes = Array(buffer[start..<end])
                guard let message = FIXMessage.tokenize(frameBytes) else {
                    return .garbled(reason: "malformed field")
                }
                return .message(message)
            case .resync(let start, let problem):
                head = start + 1
                if let problem { return .garbled(reason: problem) }
            case .tooLarge(let start, let size):
                head = start + 1
                return .tooLarge(size: size)
            }
        }
    }

    private enum ScanResult {
        case needMore(consumedTo: Int)
        case frame(start: Int, end: Int, problem: String?)
        case resync(start: Int, problem: String?)
        case tooLarge(start: Int, size: Int)
    }

    private func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> ScanResult {
        let count = bytes.count
        // 1. Find "8=FIX".
        var start = head
        while true {
            guard start + 5 <= count else {
                // Keep a possible partial "8=FIX" at the end.
                return .needMore(consumedTo: max(head, count - 4))
            }
            if bytes[start] == UInt8(ascii: "8"), bytes[start + 1] == UInt8(ascii: "="),
                bytes[start + 2] == UInt8(ascii: "F"), bytes[start + 3] == UInt8(ascii: "I"),
                bytes[start + 4] == UInt8(ascii: "X")
            {
                break
            }
            start += 1
        }
        // 2. BeginString value.
        var index = start + 2
        while index < count, bytes[index] != FIXMessage.soh, index - start < 32 { index += 1 }
        guard index < count else { return .needMore(consumedTo: start) }
        guard bytes[index] == FIXMessage.soh else { return .resync(start: start, problem: "BeginString too long") }
        index += 1
        // 3. "9=" BodyLength.
        guard index + 2 <= count else { return .needMore(consumedTo: start) }
        guard bytes[index] == UInt8(ascii: "9"), bytes[index + 1] == UInt8(ascii: "=") else {
            return .resync(start: start, problem: "BodyLength (9) is not the second field")
        }
        index += 2
        var length = 0
        var digits = 0
        while index < count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            length = length * 10 + Int(bytes[index] - 0x30)
            digits += 1
            index += 1
            if digits > 9 { return .tooLarge(start: start, size: length) }
        }
        guard index < count else { return .needMore(consumedTo: start) }
        guard digits > 0, bytes[index] == FIXMessage.soh else {
            return .resync(start: start, problem: "BodyLength (9) is not a number")
        }
        index += 1
        let bodyStart = index
        guard length + (bodyStart - start) + 7 <= maxMessageSize else {
            return .tooLarge(start: start, size: length + (bodyStart - start) + 7)
        }
        let declaredEnd = bodyStart + length  // the index just after the SOH before "10="
        // 4. The checksum field at or after the declared end (QuickFIX searches from declaredEnd - 1).
        var search = declaredEnd - 1
        let searchLimit = declaredEnd + maxMessageSize
        var checksumStart = -1
        while search + 4 <= count {
            if bytes[search] == FIXMessage.soh, bytes[search + 1] == UInt8(ascii: "1"),
                bytes[search + 2] == UInt8(ascii: "0"), bytes[search + 3] == UInt8(ascii: "=")
            {
                checksumStart = search + 1
                break
            }
            search += 1
            if search > searchLimit {
                return .resync(start: start, problem: "no CheckSum (10) after the declared BodyLength")
            }
        }
        guard checksumStart >= 0 else {
            return count > searchLimit
                ? .resync(start: start, problem: "no CheckSum (10) after the declared BodyLength")
                : .needMore(consumedTo: start)
        }
        var end = checksumStart + 3
        while end < count, bytes[end] != FIXMessage.soh, end - checksumStart < 16 { end += 1 }
        guard end < count else { return .needMore(consumedTo: start) }
        guard bytes[end] == FIXMessage.soh else {
            return .frame(start: start, end: end, problem: "CheckSum (10) is malformed")
        }
        let checksumValueStart = checksumStart + 3
        end += 1
        // 5. Validate.
        if checksumStart != declaredEnd {
            return .frame(start: start, end: end, problem: "BodyLength (9) does not match the message")
        }
        var declaredChecksum = 0
        if end - 1 - checksumValueStart != 3 {
            return .frame(start: start, end: end, problem: "CheckSum (10) is not three digits")
        }
        for position in checksumValueStart..<(end - 1) {
            let byte = bytes[position]
            guard byte >= 0x30, byte <= 0x39 else {
                return .frame(start: start, end: end, problem: "CheckSum (10) is not three digits")
            }
            declaredChecksum = declaredChecksum * 10 + Int(byte - 0x30)
        }
        var sum = 0
        for position in start..<checksumStart { sum &+= Int(bytes[position]) }
        if sum % 256 != declaredChecksum {
            return .frame(start: start, end: end, problem: "CheckSum (10) is wrong")
        }
        if !(bodyStart + 3 <= checksumStart && bytes[bodyStart] == UInt8(ascii: "3")
            && bytes[bodyStart + 1] == UInt8(ascii: "5") && bytes[bodyStart + 2] == UInt8(ascii: "="))
        {
            return .frame(start: start, end: end, problem: "MsgType (35) is not the third field")
        }
        return .frame(start: start, end: end, problem: nil)
    }
}
