import Foundation
import Replay
import Testing
import Workload

/// `chronos replay --risk` prints each score with six significant digits, as C's `%.6g` does
/// (the replay contract's risk mode): checked against `String(format: "%.6g")` itself.
@Suite struct ScoreFormattingTests {
    func printed(_ value: Double, digits: Int = 6) -> String {
        var writer = JSONLinesWriter(target: .memory)
        defer { writer.deallocate() }
        writer.append(significant: value, digits: digits)
        writer.flush()
        return String(decoding: writer.collected, as: UTF8.self)
    }

    @Test func theContractsExamples() {
        #expect(printed(0.9130421) == "0.913042")
        #expect(printed(2.0855149e-05) == "2.08551e-05")
        #expect(printed(0) == "0")
        #expect(printed(1) == "1")
        #expect(printed(0.5) == "0.5")
        #expect(printed(0.0001) == "0.0001")
        #expect(printed(0.00001) == "1e-05")
        #expect(printed(0.9999996) == "1")  // rounding carries into the next power of ten
        #expect(printed(9.999996e-05) == "0.0001")
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func equalsPrintfOnRandomProbabilities(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for _ in 0..<20_000 {
            // Probabilities spread over magnitudes 1e-12…1, as model scores are.
            let magnitude = Double(generator.next() % 13)
            let value = min(1, Double(generator.next() % 1_000_000_007) / 1_000_000_007 * pow(10, -magnitude + 1))
            #expect(printed(value) == String(format: "%.6g", value), "\(value)")
        }
    }

    @Test func otherPrecisionsEqualPrintf() {
        for value in [0.123456789, 3.4e-7, 0.000123, 0.1, 0.999999999] {
            for digits in [1, 3, 9, 15] {
                #expect(printed(value, digits: digits) == String(format: "%.\(digits)g", value), "\(value) \(digits)")
            }
        }
    }

    @Test func everyPrintedScoreIsAJSONNumber() throws {
        for value in [0, 1e-300, 2.5e-10, 0.000999, 0.5, 1] {
            let text = printed(value)
            let parsed = try JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [Double]
            #expect(parsed?.first.map { abs($0 - value) <= value * 1e-5 } == true, "\(text)")
        }
    }
}
