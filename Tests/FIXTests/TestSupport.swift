@testable import FIX

/// Bytes of `text` with `|` turned into SOH.
func raw(_ text: String) -> [UInt8] {
    text.utf8.map { $0 == UInt8(ascii: "|") ? 0x01 : $0 }
}

/// A complete message from `8=…|35=…|…|` (without 9 and 10): BodyLength inserted, CheckSum appended, as the
/// QuickFIX acceptance harness does for its `I` lines.
func fix(_ text: String) -> [UInt8] {
    var fields = text.split(separator: "|", omittingEmptySubsequences: true).map(String.init)
    let begin = fields.removeFirst()
    let body = raw(fields.joined(separator: "|") + "|")
    var out = raw(begin + "|9=\(body.count)|") + body
    let sum = out.reduce(0) { ($0 + Int($1)) % 256 }
    out += raw("10=" + String(format3(sum)) + "|")
    return out
}

func format3(_ value: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: 3 - digits.count) + digits
}

/// The `|`-separated text of `bytes`.
func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.map { $0 == 0x01 ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
}

/// All frames the framer yields for `chunks`, appended one after another.
func frames(_ chunks: [[UInt8]], maxMessageSize: Int = 8192) -> [FIXFrame] {
    var framer = FIXFramer(maxMessageSize: maxMessageSize)
    var result: [FIXFrame] = []
    for chunk in chunks {
        framer.append(chunk)
        while let frame = framer.next() { result.append(frame) }
    }
    return result
}

extension FIXFrame {
    var message: FIXMessage? {
        if case .message(let message) = self { return message }
        return nil
    }
    var isGarbled: Bool {
        if case .garbled = self { return true }
        return false
    }
}
