import AllocCounter
import Glibc
import RiskEngine
import XCTest

@testable import SpoofingModel

/// Scoring: what returns nil and which counter it lands in, determinism, and the heap allocations
/// of one call (counted, not timed).
final class SpoofingModelScoringTests: XCTestCase {
    private var row: [Float] = []

    override func setUpWithError() throws {
        row = try XCTUnwrap(Fixtures.rows().first).features
    }

    private func model(_ path: String = Fixtures.logistic, budget: UInt64 = 0) throws -> SpoofingModel {
        try SpoofingModel(path: path, featureCount: Fixtures.featureCount, timeBudgetNanoseconds: budget)
    }

    private func callCount(_ model: SpoofingModel) -> Int {
        model.scored + model.failures + model.nonFiniteInputs + model.overBudget
    }

    func testIsASpoofingScorer() throws {
        let scorer: any SpoofingScorer = try model()
        XCTAssertNotNil(row.withUnsafeBufferPointer { scorer.score($0) })
    }

    func testNonFiniteFeaturesReturnNilWithoutRunningTheModel() throws {
        let model = try model()
        let expected = try XCTUnwrap(row.withUnsafeBufferPointer { model.score($0) })
        let runs = model.runs
        for (position, bad) in [(0, Float.nan), (19, .infinity), (7, -.infinity), (3, .signalingNaN)] {
            var features = row
            features[position] = bad
            XCTAssertNil(features.withUnsafeBufferPointer { model.score($0) }, "\(bad) at \(position)")
        }
        XCTAssertEqual(model.nonFiniteInputs, 4)
        XCTAssertEqual(model.runs, runs, "the model must not see non-finite features")
        XCTAssertEqual(model.failures, 0)
        // The half-copied input buffer does not leak into the next call.
        XCTAssertEqual(row.withUnsafeBufferPointer { model.score($0) }, expected)
        XCTAssertEqual(model.scored, 2)
        XCTAssertEqual(callCount(model), 6)
    }

    func testWrongBufferLengthIsAFailureWithoutRunningTheModel() throws {
        let model = try model()
        for length in [0, 19, 21] {
            let features = [Float](repeating: 0.5, count: length)
            XCTAssertNil(features.withUnsafeBufferPointer { model.score($0) }, "\(length) features")
        }
        XCTAssertEqual(model.failures, 3)
        XCTAssertEqual(model.runs, 0)
    }

    func testResultsOutsideZeroToOneOrNonFiniteAreFailures() throws {
        // square.onnx: probabilities = input², so the second feature squared is the score.
        let square = try SpoofingModel(path: Fixtures.square, featureCount: 2)
        XCTAssertFalse(square.hasLabelOutput)
        XCTAssertEqual([0, 0.5].withUnsafeBufferPointer { square.score($0) }, 0.25)
        XCTAssertEqual([0, 1].withUnsafeBufferPointer { square.score($0) }, 1)
        XCTAssertNil([0, 2].withUnsafeBufferPointer { square.score($0) }, "4 is not a probability")
        XCTAssertNil([0, 1e30].withUnsafeBufferPointer { square.score($0) }, "overflows to +infinity")
        XCTAssertEqual(square.scored, 2)
        XCTAssertEqual(square.failures, 2)
        XCTAssertEqual(square.runs, 4)
        XCTAssertNil(square.lastRunError, "the runs themselves succeeded")
    }

    func testOneNanosecondBudgetDiscardsEveryCallAsOverBudget() throws {
        for path in [Fixtures.logistic, Fixtures.lightgbm] {
            let model = try model(path, budget: 1)
            for _ in 0..<10 {
                XCTAssertNil(row.withUnsafeBufferPointer { model.score($0) })
            }
            XCTAssertEqual(model.overBudget, 10)
            XCTAssertEqual(model.runs, 10, "ONNX Runtime cannot be interrupted: the run completes, then is discarded")
            XCTAssertEqual(model.scored + model.failures, 0)
        }
    }

    func testGenerousBudgetScoresLikeNoBudget() throws {
        let unbounded = try model(Fixtures.lightgbm)
        let bounded = try model(Fixtures.lightgbm, budget: 1_000_000_000)
        let expected = row.withUnsafeBufferPointer { unbounded.score($0) }
        XCTAssertNotNil(expected)
        XCTAssertEqual(row.withUnsafeBufferPointer { bounded.score($0) }, expected)
        XCTAssertEqual(bounded.overBudget, 0)
    }

    func testHundredThousandRepeatedCallsGiveTheSameScore() throws {
        for path in [Fixtures.logistic, Fixtures.lightgbm] {
            let model = try model(path)
            let first = try XCTUnwrap(row.withUnsafeBufferPointer { model.score($0) })
            let label = try XCTUnwrap(model.lastLabel)
            var different = 0
            row.withUnsafeBufferPointer { features in
                for _ in 0..<100_000 where model.score(features)?.bitPattern != first.bitPattern {
                    different += 1
                }
            }
            XCTAssertEqual(different, 0, path)
            XCTAssertEqual(model.scored, 100_001)
            XCTAssertEqual(model.lastLabel, label)
            XCTAssertEqual(model.lastLabel, first >= 0.5 ? 1 : 0, "the bound label output is written too")
        }
    }

    /// ONNX Runtime allocates inside Run even with every buffer preallocated (docs/onnx-runtime.md:
    /// 16–21 per call measured in C). The bound catches a regression to ORT-allocated outputs (28–33);
    /// the calls that never reach the model allocate nothing.
    func testHeapAllocationsPerCallAreBounded() throws {
        try XCTSkipIf(alloc_counter_available() == 0, "malloc counting is off under sanitizers")
        let bound: Int64 = 32
        let nanRow = [Float](repeating: .nan, count: Fixtures.featureCount)
        let shortRow = [Float](repeating: 0, count: 3)
        for (name, path) in [("logistic", Fixtures.logistic), ("lightgbm", Fixtures.lightgbm)] {
            let model = try model(path)
            var most: Int64 = 0
            var total: Int64 = 0
            let calls = 1_000
            row.withUnsafeBufferPointer { features in
                for _ in 0..<100 { _ = model.score(features) }  // warm-up
                for _ in 0..<calls {
                    alloc_counter_begin()
                    let score = model.score(features)
                    let count = alloc_counter_end()
                    XCTAssertNotNil(score)
                    most = max(most, count)
                    total += count
                }
            }
            print("SpoofingModel \(name): mallocs per score() call: mean \(Double(total) / Double(calls)), max \(most)")
            XCTAssertLessThanOrEqual(most, bound, name)
            XCTAssertGreaterThan(total, 0, "the counter is live (ONNX Runtime does allocate in Run)")
            for rejected in [nanRow, shortRow] {
                alloc_counter_begin()
                let score = rejected.withUnsafeBufferPointer { model.score($0) }
                XCTAssertEqual(alloc_counter_end(), 0, "\(name): a rejected call allocates nothing")
                XCTAssertNil(score)
            }
        }
    }

    /// Prints p50/p99/p99.9/max of one `score` call over 100k calls after 10k warm-up, per fixture model.
    /// Informational only (wall-clock on a shared 2-vCPU VM is no gate); docs/onnx-runtime.md quotes
    /// a release build of it.
    func testReportsLatencyPercentiles() throws {
        #if DEBUG
            let build = "debug"
        #else
            let build = "release"
        #endif
        for (name, path) in [("logistic", Fixtures.logistic), ("lightgbm", Fixtures.lightgbm)] {
            let model = try model(path)
            var samples = [UInt64](repeating: 0, count: 100_000)
            row.withUnsafeBufferPointer { features in
                for _ in 0..<10_000 { _ = model.score(features) }
                for index in samples.indices {
                    let start = Self.now()
                    _ = model.score(features)
                    samples[index] = Self.now() - start
                }
            }
            samples.sort()
            func microseconds(_ quantile: Double) -> String {
                let value = samples[min(samples.count - 1, Int(Double(samples.count) * quantile))]
                return String(format: "%.2f", Double(value) / 1_000)
            }
            print(
                "SpoofingModel \(name) (\(build)): score() µs p50 \(microseconds(0.5)) p99 \(microseconds(0.99)) "
                    + "p99.9 \(microseconds(0.999)) max \(microseconds(1)) n \(samples.count)")
            XCTAssertEqual(model.scored, 110_000)
        }
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
