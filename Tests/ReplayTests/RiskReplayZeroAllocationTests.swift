import AllocCounter
import ChronosConfig
import Foundation
import Replay
import Testing
import Workload

/// `chronos replay --risk` adds no allocation to a line: in steady state (names and symbols
/// interned, output to /dev/null through the fixed buffer) risk mode counts exactly the mallocs
/// of plain replay, which is none in a release build (the benchmark gate's replay figure).
@Suite struct RiskReplayZeroAllocationTests {
    private func mallocs(risk: Bool, _ lines: [[UInt8]]) throws -> Int64 {
        let devNull = open("/dev/null", O_WRONLY)
        try #require(devNull >= 0)
        defer { close(devNull) }
        var configuration = ExchangeConfiguration()
        configuration.engine = .init(orderCapacity: 16_384, symbolCapacity: 16)
        configuration.risk.orderCapacity = 16_384
        let session = try ReplaySession(configuration: configuration, risk: risk, output: .fileDescriptor(devNull))
        let half = lines.count / 2
        for i in 0..<half { lines[i].withUnsafeBufferPointer { session.process(line: $0) } }
        alloc_counter_begin()
        for i in half..<lines.count { lines[i].withUnsafeBufferPointer { session.process(line: $0) } }
        let count = alloc_counter_end()
        session.flush()
        if risk { #expect((session.risk?.workingOrderCount ?? 0) > 0) }
        return count
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func riskModeAllocatesNothingMoreThanPlainReplay() throws {
        var generator = try OrderFlowGenerator(.init(seed: 3, symbols: 2, accounts: 4, targetRestingOrders: 300))
        let lines = generator.generate(12_000).map { Array($0.replayJSONLine.utf8) }
        let plain = try mallocs(risk: false, lines)
        let risk = try mallocs(risk: true, lines)
        #expect(risk == plain)
        #if !DEBUG
            #expect(plain == 0)
        #endif
    }
}
