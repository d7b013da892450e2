#if canImport(Glibc)
    import Glibc
#endif

/// Minor and major page faults of the calling thread so far (`getrusage(RUSAGE_THREAD)`), for
/// benchmarks and tests that check a run takes none.
public func threadPageFaults() -> Int {
    var usage = rusage()
    getrusage(1, &usage)  // RUSAGE_THREAD (Glibc's module leaves the GNU constant out)
    return usage.ru_minflt + usage.ru_majflt
}
