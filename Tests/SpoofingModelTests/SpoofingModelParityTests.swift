import Foundation
import RiskEngine
import SpoofingModel
import TestSupport
import Workload
import XCTest

/// Swift (ONNX Runtime's C API) against Python's ONNX Runtime on the same models and rows: the
/// committed probabilities, and a live run of python3 at test time.
final class SpoofingModelParityTests: XCTestCase {
    private let tolerance: Float = 1e-5

    func testFixtureRowsMatchPythonProbabilitiesForBothModels() throws {
        let rows = try Fixtures.rows()
        XCTAssertEqual(rows.count, 256)
        let logistic = try SpoofingModel(path: Fixtures.logistic, featureCount: Fixtures.featureCount)
        let lightgbm = try SpoofingModel(path: Fixtures.lightgbm, featureCount: Fixtures.featureCount)
        for (index, row) in rows.enumerated() {
            let scores = row.features.withUnsafeBufferPointer { (logistic.score($0), lightgbm.score($0)) }
            let logisticScore = try XCTUnwrap(scores.0, "logistic, row \(index)")
            let lightgbmScore = try XCTUnwrap(scores.1, "lightgbm, row \(index)")
            XCTAssertEqual(logisticScore, row.logistic, accuracy: tolerance, "logistic, row \(index)")
            XCTAssertEqual(lightgbmScore, row.lightgbm, accuracy: tolerance, "lightgbm, row \(index)")
        }
        XCTAssertEqual(logistic.scored, rows.count)
        XCTAssertEqual(lightgbm.scored, rows.count)
        XCTAssertEqual(logistic.failures + logistic.nonFiniteInputs + logistic.overBudget, 0)
    }

    /// The fixture rows plus seeded random ones (some far outside the training range), scored by
    /// python3 + onnxruntime now and by SpoofingModel. `make deps` installs onnxruntime for python3;
    /// the test is skipped only when it cannot be imported.
    func testLiveParityWithPythonOnnxRuntime() throws {
        guard Self.pythonHasOnnxRuntime() else {
            throw XCTSkip("python3 cannot import onnxruntime and numpy (scripts/install-deps.sh installs them)")
        }
        var rows = try Fixtures.rows().map(\.features)
        var generator = SplitMix64(seed: 42)
        for index in 0..<500 {
            let scale: Float = index % 10 == 0 ? 50 : 3
            rows.append((0..<Fixtures.featureCount).map { _ in Float.random(in: -scale...scale, using: &generator) })
        }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("rows.csv")
        // "\(Float)" prints the shortest representation that round-trips, so Python reads the same floats.
        try rows.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: "\n")
            .write(to: csv, atomically: true, encoding: .utf8)

        for model in [Fixtures.logistic, Fixtures.lightgbm] {
            let expected = try Self.runPython([Fixtures.scoreRowsScript, model, csv.path])
                .split(separator: "\n").map { try XCTUnwrap(Float($0), "python printed \($0)") }
            XCTAssertEqual(expected.count, rows.count)
            let scorer = try SpoofingModel(path: model, featureCount: Fixtures.featureCount)
            for (index, row) in rows.enumerated() where index < expected.count {
                let score = try XCTUnwrap(row.withUnsafeBufferPointer { scorer.score($0) }, "\(model) row \(index)")
                XCTAssertEqual(score, expected[index], accuracy: tolerance, "\(model) row \(index): \(row)")
            }
        }
    }

    private static func pythonHasOnnxRuntime() -> Bool {
        (try? runPython(["-c", "import numpy, onnxruntime"])) != nil
    }

    /// Runs python3 (found on PATH) and returns its standard output; throws unless it exits 0.
    private static func runPython(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailed(status: process.terminationStatus, stderr: String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    private struct PythonFailed: Error {
        var status: Int32
        var stderr: String
    }
}

/// The shipped models (models/): Swift inference equals Python onnxruntime's on the held-out
/// rows train.py wrote with them (`models/spoofing-v1-parity.csv`), within 1e-5.
final class ShippedModelParityTests: XCTestCase {
    func testShippedModelsMatchTheTrainingPipelinesScores() throws {
        let root = TestSupport.repositoryRoot.appendingPathComponent("models")
        let text = try String(contentsOf: root.appendingPathComponent("spoofing-v1-parity.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        XCTAssertEqual(Array(header.prefix(SpoofingFeatureSchema.count)), SpoofingFeatureSchema.names)
        XCTAssertGreaterThanOrEqual(lines.count, 100)
        for (file, column) in [("spoofing-v1.onnx", "spoofing_v1"), ("spoofing-lr-v1.onnx", "spoofing_lr_v1")] {
            let model = try SpoofingModel(
                path: root.appendingPathComponent(file).path, featureCount: SpoofingFeatureSchema.count)
            let index = try XCTUnwrap(header.firstIndex(of: column))
            var largest: Float = 0
            for line in lines {
                let values = try line.split(separator: ",").map { try XCTUnwrap(Float(String($0))) }
                let features = Array(values.prefix(SpoofingFeatureSchema.count))
                let score = try XCTUnwrap(features.withUnsafeBufferPointer { model.score($0) })
                largest = max(largest, abs(score - values[index]))
            }
            XCTAssertLessThanOrEqual(largest, 1e-5, "\(file): largest difference \(largest)")
        }
    }
}
