import Foundation
import Workload
import XCTest

@testable import SpoofingModel

/// Loading: the fixtures load, and every bad file or configuration is the right error case with a
/// message that names the file and says what was expected and found.
final class SpoofingModelLoadTests: XCTestCase {
    private func loadError(
        _ path: String, featureCount: Int = Fixtures.featureCount, file: StaticString = #filePath, line: UInt = #line
    ) -> SpoofingModelError? {
        do {
            _ = try SpoofingModel(path: path, featureCount: featureCount)
            XCTFail("\(path) loaded", file: file, line: line)
            return nil
        } catch {
            XCTAssertTrue(error.description.contains(path), "\(error) does not name the file", file: file, line: line)
            return error
        }
    }

    func testBothFixturesLoadWithTheirInputNameAndLabel() throws {
        for path in [Fixtures.logistic, Fixtures.lightgbm] {
            let model = try SpoofingModel(
                path: path, featureCount: Fixtures.featureCount, timeBudgetNanoseconds: 50_000)
            XCTAssertEqual(model.inputName, "input")
            XCTAssertTrue(model.hasLabelOutput)
            XCTAssertEqual(model.featureCount, 20)
            XCTAssertEqual(model.timeBudgetNanoseconds, 50_000)
            XCTAssertEqual(model.path, path)
        }
    }

    func testMissingFileIsFileNotFound() {
        let path = Fixtures.path("no-such-model.onnx")
        XCTAssertEqual(loadError(path), .fileNotFound(path: path))
        XCTAssertEqual(loadError(path)?.description, "spoofing model \(path): no such file")
    }

    func testDirectoryIsUnreadable() {
        guard case .fileUnreadable(_, let reason) = loadError(Fixtures.directory.path) else {
            return XCTFail("not fileUnreadable")
        }
        XCTAssertEqual(reason, "it is a directory")
    }

    func testEmptyFileIsNotAValidModel() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("empty.onnx").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        let error = loadError(path)
        XCTAssertEqual(error, .invalidModel(path: path, reason: "the file is empty (0 bytes)"))
        XCTAssertEqual(
            error?.description, "spoofing model \(path): not a valid ONNX model: the file is empty (0 bytes)")
    }

    func testTruncatedModelsAreNotValidModels() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for source in [Fixtures.logistic, Fixtures.lightgbm] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
            for keep in [bytes.count / 2, bytes.count - 7, 16] {
                let path = directory.appendingPathComponent("truncated-\(keep).onnx").path
                try bytes.prefix(keep).write(to: URL(fileURLWithPath: path))
                guard case .invalidModel(_, let reason) = loadError(path) else {
                    XCTFail("\(source) cut to \(keep) bytes: not invalidModel")
                    continue
                }
                XCTAssertTrue(reason.hasPrefix("ORT_"), "ONNX Runtime's code and message: \(reason)")
                XCTAssertTrue(loadError(path)?.description.contains("not a valid ONNX model") ?? false)
            }
        }
    }

    func testRandomBytesAreNotAValidModel() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SplitMix64(seed: 7)
        let path = directory.appendingPathComponent("noise.onnx").path
        try Data((0..<4_096).map { _ in UInt8.random(in: 0...255, using: &generator) })
            .write(to: URL(fileURLWithPath: path))
        guard case .invalidModel = loadError(path) else { return XCTFail("not invalidModel") }
    }

    func testWrongFeatureCountSaysExpectedAndFoundShapes() {
        let error = loadError(Fixtures.logistic, featureCount: 18)
        XCTAssertEqual(
            error, .wrongInputShape(path: Fixtures.logistic, input: "input", expected: [-1, 18], found: [-1, 20]))
        XCTAssertEqual(
            error?.description,
            "spoofing model \(Fixtures.logistic): input 'input' must have shape [N, 18], found [N, 20]")
        XCTAssertEqual(
            loadError(Fixtures.lightgbm, featureCount: 21),
            .wrongInputShape(path: Fixtures.lightgbm, input: "input", expected: [-1, 21], found: [-1, 20]))
    }

    func testNonPositiveFeatureCountIsRejected() {
        XCTAssertEqual(
            loadError(Fixtures.logistic, featureCount: 0),
            .invalidFeatureCount(path: Fixtures.logistic, featureCount: 0))
    }

    func testZipmapModelHasNoProbabilitiesOutput() {
        let error = loadError(Fixtures.logisticZipmap)
        XCTAssertEqual(
            error,
            .missingProbabilitiesOutput(path: Fixtures.logisticZipmap, outputs: ["output_label", "output_probability"]))
        XCTAssertTrue(error?.description.contains("zipmap=False") ?? false)
    }

    func testTwoInputsAreRejected() {
        let error = loadError(Fixtures.twoInputs)
        XCTAssertEqual(error, .wrongInputCount(path: Fixtures.twoInputs, found: ["a", "b"]))
        XCTAssertEqual(
            error?.description,
            "spoofing model \(Fixtures.twoInputs): expected exactly 1 input (float [N, features]), found 2: a, b")
    }

    func testUnavailableApiVersionIsAnErrorNotACrash() {
        XCTAssertNoThrow(try OrtRuntime.api(path: "m.onnx"))
        XCTAssertThrowsError(try OrtRuntime.api(version: 10_000, path: "m.onnx")) { error in
            guard
                case .apiVersionUnavailable("m.onnx", let requested, let runtimeVersion) = error as? SpoofingModelError
            else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(requested, 10_000)
            XCTAssertTrue(runtimeVersion.first?.isNumber ?? false, runtimeVersion)
            XCTAssertTrue("\(error)".hasPrefix("spoofing model m.onnx: ONNX Runtime "), "\(error)")
            XCTAssertTrue("\(error)".contains("does not provide C API version 10000"), "\(error)")
        }
    }

    // MARK: The signature rules, without a model file

    private let path = "m.onnx"
    private let input = ModelPort(name: "x", type: "tensor(float)", dimensions: [-1, 20])
    private let probabilities = ModelPort(name: "probabilities", type: "tensor(float)", dimensions: [-1, 2])

    private func signature(_ inputs: [ModelPort], _ outputs: [ModelPort]) throws(SpoofingModelError) -> ModelSignature {
        try ModelSignature.validate(path: path, featureCount: 20, inputs: inputs, outputs: outputs)
    }

    func testSignatureAcceptsDynamicOrSingleRowBatchAndBindsAnInt64Label() throws {
        let label = ModelPort(name: "label", type: "tensor(int64)", dimensions: [-1])
        let accepted = try signature([input], [label, probabilities])
        XCTAssertEqual(
            accepted,
            ModelSignature(inputName: "x", inputShape: [1, 20], probabilitiesShape: [1, 2], labelShape: [1]))
        var single = input
        single.dimensions = [1, 20]
        XCTAssertNoThrow(try signature([single], [probabilities]))
        let stringLabel = ModelPort(name: "label", type: "tensor(string)", dimensions: [-1])
        XCTAssertNil(try signature([input], [stringLabel, probabilities]).labelShape)
    }

    func testSignatureRejectsWrongInputsAndOutputs() {
        var int64Input = input
        int64Input.type = "tensor(int64)"
        XCTAssertThrowsError(try signature([int64Input], [probabilities])) {
            XCTAssertEqual($0 as? SpoofingModelError, .wrongInputType(path: path, input: "x", found: "tensor(int64)"))
        }
        XCTAssertThrowsError(try signature([], [probabilities])) {
            XCTAssertEqual($0 as? SpoofingModelError, .wrongInputCount(path: path, found: []))
        }
        for dimensions: [Int64] in [[20], [-1, 20, 1], [4, 20], [-1, -1]] {
            var shaped = input
            shaped.dimensions = dimensions
            XCTAssertThrowsError(try signature([shaped], [probabilities])) {
                XCTAssertEqual(
                    $0 as? SpoofingModelError,
                    .wrongInputShape(path: path, input: "x", expected: [-1, 20], found: dimensions))
            }
        }
        var threeClasses = probabilities
        threeClasses.dimensions = [-1, 3]
        XCTAssertThrowsError(try signature([input], [threeClasses])) {
            XCTAssertEqual(
                $0 as? SpoofingModelError, .wrongProbabilitiesOutput(path: path, found: "tensor(float) [N, 3]"))
        }
        var doubles = probabilities
        doubles.type = "tensor(double)"
        XCTAssertThrowsError(try signature([input], [doubles])) {
            XCTAssertEqual(
                $0 as? SpoofingModelError, .wrongProbabilitiesOutput(path: path, found: "tensor(double) [N, 2]"))
        }
    }
}
