/// Numbers and columns for the reports the tools print (loadgen, bench, run's flow summary).
public enum ReportFormat {
    /// 1234567 → `1,234,567`.
    public static func grouped(_ value: Int) -> String {
        var digits = String(value.magnitude)
        var i = digits.count - 3
        while i > 0 {
            digits.insert(",", at: digits.index(digits.startIndex, offsetBy: i))
            i -= 3
        }
        return (value < 0 ? "-" : "") + digits
    }

    /// `x` with `places` decimals.
    public static func fixed(_ x: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((x * scale).rounded())
        guard places > 0 else { return String(scaled) }
        let whole = scaled / Int(scale)
        let fraction = String(scaled % Int(scale))
        return "\(whole)." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// Nanoseconds as microseconds with one decimal.
    public static func microseconds(_ nanoseconds: UInt64) -> String { fixed(Double(nanoseconds) / 1_000, 1) }

    /// `text` right-aligned in `width` columns.
    public static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// `text` left-aligned in `width` columns.
    public static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
