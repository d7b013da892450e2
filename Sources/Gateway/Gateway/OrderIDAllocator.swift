import ChronosCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Hands out the engine order ids of one gateway: `gatewayID << 48 | counter`.
///
/// Engine order ids are unique over a shard's life, and several gateways send to the same shard:
/// the configured gateway id (1…65535) in the high 16 bits keeps their ids apart without talking
/// to each other. The counter survives restarts through a reservation file: before using a block
/// of ``blockSize`` ids the allocator writes the end of the block to `<state_dir>/order-ids`
/// (write to a temporary file, fsync, rename), so a restarted gateway resumes after the last
/// reservation and never reuses an id (it may skip up to one block).
public struct OrderIDAllocator {
    /// Ids reserved per write of the reservation file.
    public static let blockSize: UInt64 = 1 << 16
    public let gatewayID: UInt16
    private let path: String?
    private var nextCounter: UInt64
    private var reservedEnd: UInt64

    /// An allocator persisting its reservations at `path` (nil: in memory only, for tests).
    public init(gatewayID: UInt16, path: String?) throws {
        self.gatewayID = gatewayID
        self.path = path
        var start: UInt64 = 1
        if let path, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let value = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw GatewayError.configuration("\(path): not an order-id reservation (expected one number)")
            }
            start = value
        }
        nextCounter = start
        reservedEnd = start
    }

    /// The next unused engine order id.
    public mutating func next() throws -> OrderID {
        if nextCounter >= reservedEnd {
            reservedEnd = nextCounter + Self.blockSize
            guard reservedEnd < 1 << 48 else {
                throw GatewayError.configuration("order ids of gateway \(gatewayID) are exhausted")
            }
            if let path { try Self.write("\(reservedEnd)\n", to: path) }
        }
        let id = UInt64(gatewayID) << 48 | nextCounter
        nextCounter += 1
        return OrderID(id)
    }

    /// Writes `text` to `path` atomically and durably (temporary file, fsync, rename).
    static func write(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GatewayError.system("open \(temporary)", errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else { throw GatewayError.system("write \(temporary)", errno) }
        guard rename(temporary, path) == 0 else { throw GatewayError.system("rename \(temporary)", errno) }
    }
}
