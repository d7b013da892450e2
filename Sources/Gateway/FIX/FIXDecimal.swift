/// An exact decimal number read from a FIX Price, Qty, Amt or Float field: `mantissa × 10^-scale`.
///
/// Parsing never rounds: `"123.45"` is (12345, 2), `"-0.5"` is (-5, 1), `"100"` is (100, 0). Trailing zeros after
/// the point are dropped (`"1.50"` is (15, 1)), so equal values have equal representations.
/// Accepted syntax (as QuickFIX): `-?[0-9]*(\.[0-9]*)?` with at least one digit; no `+`, no exponent.
@frozen
public struct FIXDecimal: Sendable, Hashable, CustomStringConvertible {
    /// The digits as an integer.
    public var mantissa: Int64
    /// Number of digits after the decimal point, 0...18.
    public var scale: Int

    /// A decimal of `mantissa × 10^-scale`; `scale` must be 0...18.
    public init(mantissa: Int64, scale: Int) {
        precondition(scale >= 0 && scale <= 18, "FIXDecimal scale must be 0...18")
        self.mantissa = mantissa
        self.scale = scale
    }

    /// Parses a FIX decimal string; nil when malformed or when its significant digits overflow Int64.
    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ FIXDecimal(utf8: $0) }) else { return nil }
        self = value
    }

    /// Parses FIX decimal bytes; nil when malformed or when its significant digits overflow Int64.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        var index = 0
        var negative = false
        if bytes.count > 0, bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        var mantissa: Int64 = 0
        var scale = 0
        var digits = 0
        var pendingZeros = 0
        var afterPoint = false
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: ".") {
                guard !afterPoint else { return nil }
                afterPoint = true
                continue
            }
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            digits += 1
            let digit = Int64(byte - 0x30)
            if afterPoint {
                if digit == 0 {
                    pendingZeros += 1
                    continue
                }
                for _ in 0..<pendingZeros {
                    guard let shifted = FIXDecimal.multiply(mantissa, 10) else { return nil }
                    mantissa = shifted
                }
                scale += pendingZeros + 1
                pendingZeros = 0
                guard scale <= 18 else { return nil }
            }
            guard let shifted = FIXDecimal.multiply(mantissa, 10) else { return nil }
            let (sum, overflow) = shifted.addingReportingOverflow(digit)
            guard !overflow else { return nil }
            mantissa = sum
        }
        guard digits > 0 else { return nil }
        self.mantissa = negative ? -mantissa : mantissa
        self.scale = scale
    }

    /// The value as an integer count of `10^-decimals` units (e.g. ticks of 0.01 for `decimals: 2`).
    /// Returns nil when the value is not exactly representable at that many decimals (never rounds) or overflows.
    public func scaled(toDecimals decimals: Int) -> Int64? {
        guard decimals >= 0 else { return nil }
        if decimals >= scale {
            var value = mantissa
            for _ in 0..<(decimals - scale) {
                guard let shifted = FIXDecimal.multiply(value, 10) else { return nil }
                value = shifted
            }
            return value
        }
        var divisor: Int64 = 1
        for _ in 0..<(scale - decimals) { divisor *= 10 }
        let (quotient, remainder) = mantissa.quotientAndRemainder(dividingBy: divisor)
        return remainder == 0 ? quotient : nil
    }

    /// The canonical FIX text: `-12.5`, `100`, `0.001`.
    public var description: String {
        if scale == 0 { return String(mantissa) }
        let negative = mantissa < 0
        var digits = String(mantissa.magnitude)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        let point = digits.index(digits.endIndex, offsetBy: -scale)
        return (negative ? "-" : "") + digits[..<point] + "." + digits[point...]
    }

    static func multiply(_ value: Int64, _ factor: Int64) -> Int64? {
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }
}
