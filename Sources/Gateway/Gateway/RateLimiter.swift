/// A token bucket: `rate` messages per second with a burst of one second's worth.
///
/// Time is passed in (monotonic nanoseconds), so the logic is a plain value and testable.
public struct RateLimiter: Sendable {
    public let rate: Int
    private var tokens: Double
    private var last: UInt64?

    public init(messagesPerSecond rate: Int) {
        self.rate = rate
        tokens = Double(rate)
    }

    /// Takes one token at `now`; false when the session is over its rate.
    public mutating func allow(now: UInt64) -> Bool {
        if let last {
            let elapsed = Double(now &- last) / 1e9
            tokens = min(Double(rate), tokens + elapsed * Double(rate))
        }
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
