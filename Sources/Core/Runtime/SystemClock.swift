#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The clocks the services read, in nanoseconds: the one place Chronos calls `clock_gettime`.
/// Each reading is a vDSO call: no system call, no allocation (the engine thread's path uses
/// ``monotonicNanoseconds()``).
public enum SystemClock {
    /// `CLOCK_MONOTONIC`: latencies, deadlines, timeouts. Only differences mean anything.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 { read(CLOCK_MONOTONIC) }

    /// `CLOCK_REALTIME`, since the Unix epoch: timestamps a person or another machine reads (FIX
    /// times, stored `recorded_at_ns`, journal segment creation).
    @inline(__always)
    public static func wallClockNanoseconds() -> UInt64 { read(CLOCK_REALTIME) }

    /// `CLOCK_THREAD_CPUTIME_ID`: the calling thread's CPU time (benchmarks rank designs by it: far
    /// steadier than wall time on a shared machine).
    @inline(__always)
    public static func threadCPUNanoseconds() -> UInt64 { read(CLOCK_THREAD_CPUTIME_ID) }

    @inline(__always)
    private static func read(_ clock: clockid_t) -> UInt64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
