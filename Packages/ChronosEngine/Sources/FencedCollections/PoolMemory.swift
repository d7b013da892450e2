#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// PoolMemory: the memory of the fixed pools and tables (the engine's, the risk engine's).
//
// Invariants:
// - Every region is an anonymous private mapping of whole pages, zero-filled by the kernel, made
//   once when the engine is created and unmapped once when it is freed; nothing is allocated
//   afterwards.
// - With `prefault`, every page is written before `allocate` returns (MADV_POPULATE_WRITE, or a
//   write per page where the kernel lacks it): the hot path never takes a page fault, and the
//   resident size is constant from the start instead of creeping up with the stream.
// - With `hugePages`, regions of 2 MiB or more are marked MADV_HUGEPAGE before they are
//   populated, so the kernel backs them with transparent huge pages where it can (fewer TLB
//   misses on tables probed at random).
// Safe because a region is only ever used through the typed pointer returned for it, within the
// `count` it was made for, and freed with that same count.

/// Page-aligned, zero-filled memory for fixed pools and tables, optionally prefaulted and backed
/// by huge pages.
public struct PoolMemory: Sendable {
    /// Write every page at creation (no page fault later).
    public var prefault: Bool
    /// Ask for transparent huge pages (regions of 2 MiB or more).
    public var hugePages: Bool

    /// Memory that is prefaulted (`prefault`) and backed by huge pages (`hugePages`) as asked.
    public init(prefault: Bool, hugePages: Bool = false) {
        self.prefault = prefault
        self.hugePages = hugePages
    }

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// `count` zero-filled elements of `T`.
    public func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = Self.mappedBytes(T.self, count: count)
        guard let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            raw != MAP_FAILED
        else { fatalError("out of memory mapping \(count) × \(T.self) (\(bytes) bytes)") }
        if hugePages && bytes >= 2 << 20 { _ = madvise(raw, bytes, 14) }  // MADV_HUGEPAGE
        if prefault && madvise(raw, bytes, 23) != 0 {  // MADV_POPULATE_WRITE (Linux ≥ 5.14)
            for offset in stride(from: 0, to: bytes, by: Self.pageSize) {
                raw.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
            }
        }
        return raw.bindMemory(to: T.self, capacity: count)
    }

    /// Unmaps memory that `allocate(_:count:)` returned for the same `count`.
    public static func deallocate<T>(_ pointer: UnsafeMutablePointer<T>, count: Int) {
        munmap(UnsafeMutableRawPointer(pointer), mappedBytes(T.self, count: count))
    }

    private static func mappedBytes<T>(_ type: T.Type, count: Int) -> Int {
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        return (bytes + pageSize - 1) / pageSize * pageSize
    }
}
