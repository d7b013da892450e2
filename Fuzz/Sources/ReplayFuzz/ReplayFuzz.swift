import MatchingEngine
import Replay

// Feeds arbitrary bytes to `chronos replay` as a stream of lines, on a small engine so that
// capacity limits are reached too, and checks the engine's invariants after every input.
// Under AddressSanitizer any out-of-bounds access in the scanner, the pools or the writer
// is a crash; a broken invariant is a trap with the violations printed.

nonisolated(unsafe) var inputs = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let session = try! ReplaySession(
        configuration: .init(engine: EngineConfiguration(orderCapacity: 8, symbolCapacity: 4, usedIDBlockCapacity: 4)),
        output: .memory)
    var start = 0
    while start <= bytes.count {
        var end = start
        while end < bytes.count && bytes[end] != 0x0A { end += 1 }
        bytes.withUnsafeBufferPointer { session.process(line: UnsafeBufferPointer(rebasing: $0[start..<end])) }
        start = end + 1
    }
    session.flush()
    let problems = session.engine.invariantViolations()
    if !problems.isEmpty { fatalError("invariants broken: \(problems)") }
    inputs += 1
    return 0
}
