import Workload

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The distributions the agents draw from, on the project's seeded generator. Every draw
/// consumes a fixed number of raw values, so a run is a pure function of its seed.
extension SplitMix64 {
    /// A generator for stream `stream` of `seed`: one SplitMix64 step mixes the pair, so nearby
    /// seeds and streams give unrelated sequences.
    static func derived(_ seed: UInt64, stream: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }

    /// Uniform in [a, b).
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }

    /// Uniform over an integer range.
    mutating func integer(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Exponential with the given mean (a Poisson process's waiting time).
    mutating func exponential(mean: Double) -> Double { -mean * log(1 - unit()) }

    /// Standard normal (Box–Muller, one value per call).
    mutating func normal() -> Double {
        let u1 = 1 - unit()
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Lognormal with the given median and log-standard deviation.
    mutating func logNormal(median: Double, sigma: Double) -> Double { median * exp(sigma * normal()) }

    /// Log-uniform in [a, b): scale parameters that span orders of magnitude.
    mutating func logUniform(_ a: Double, _ b: Double) -> Double { exp(uniform(log(a), log(b))) }

    /// A lot quantity: `value` rounded, at least 1.
    mutating func lots(median: Double, sigma: Double) -> Int64 {
        max(1, Int64(logNormal(median: median, sigma: sigma).rounded()))
    }
}

/// Seconds to simulated nanoseconds, at least 1 ns (a wake never lands on the current instant).
@inline(__always)  // tiny conversion on every scheduling decision
func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(max(1, (seconds * 1e9).rounded())) }
