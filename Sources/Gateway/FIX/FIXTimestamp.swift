import ChronosCore

/// FIX UTCTimestamp conversion: `YYYYMMDD-HH:MM:SS[.f…]` ⇄ nanoseconds since the Unix epoch (UTC, no leap seconds).
public enum FIXTimestamp {
    /// Parses `YYYYMMDD-HH:MM:SS`, optionally followed by `.` and 1 to 9 fraction digits; nil when malformed or when a
    /// component is out of range (month 1...12, day valid for the month, hour < 24, minute < 60, second <= 60).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard bytes.count >= 17 else { return nil }
        func number(_ start: Int, _ length: Int) -> Int? {
            var value = 0
            for index in start..<(start + length) {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(4, 2), let day = number(6, 2),
            bytes[8] == UInt8(ascii: "-"), let hour = number(9, 2), bytes[11] == UInt8(ascii: ":"),
            let minute = number(12, 2), bytes[14] == UInt8(ascii: ":"), let second = number(15, 2)
        else { return nil }
        guard month >= 1, month <= 12, day >= 1, day <= CivilCalendar.daysIn(month: month, year: year), hour < 24,
            minute < 60, second <= 60
        else { return nil }
        var nanos: Int64 = 0
        if bytes.count > 17 {
            let fractionDigits = bytes.count - 18
            guard bytes[17] == UInt8(ascii: "."), fractionDigits >= 1, fractionDigits <= 9,
                let fraction = number(18, fractionDigits)
            else { return nil }
            nanos = Int64(fraction)
            for _ in fractionDigits..<9 { nanos *= 10 }
        }
        let days = Int64(CivilCalendar.daysSinceEpoch(year: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return seconds * 1_000_000_000 + nanos
    }

    /// Parses a UTCTimestamp string (see `parse(_:)` for bytes).
    public static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    /// Appends `YYYYMMDD-HH:MM:SS.sss` (milliseconds, truncated) for `nanoseconds` since the Unix epoch.
    public static func append(_ nanoseconds: Int64, to out: inout [UInt8]) {
        let millisTotal = nanoseconds >= 0 ? nanoseconds / 1_000_000 : (nanoseconds - 999_999) / 1_000_000
        var seconds = millisTotal >= 0 ? millisTotal / 1000 : (millisTotal - 999) / 1000
        let millis = Int(millisTotal - seconds * 1000)
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        seconds -= days * 86_400
        if days < -719_468 { days = -719_468 }
        let (year, month, day) = CivilCalendar.date(daysSinceEpoch: Int(days))
        let secondOfDay = Int(seconds)
        appendDigits(year, 4, &out)
        appendDigits(month, 2, &out)
        appendDigits(day, 2, &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(secondOfDay / 3600, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, 2, &out)
        out.append(UInt8(ascii: "."))
        appendDigits(millis, 3, &out)
    }

    /// `YYYYMMDD-HH:MM:SS.sss` for `nanoseconds` since the Unix epoch.
    public static func string(_ nanoseconds: Int64) -> String {
        var out: [UInt8] = []
        append(nanoseconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendDigits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = max(0, value)
        while divisor > 0 {
            out.append(UInt8(0x30 + (rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
