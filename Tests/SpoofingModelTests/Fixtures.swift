import Foundation
import TestSupport

/// The committed fixtures (Fixtures/make_fixtures.py makes them) and small helpers over them.
enum Fixtures {
    /// The risk engine's feature schema width, and the width both fixture models take.
    static let featureCount = 20

    static let directory = TestSupport.repositoryRoot.appendingPathComponent("Tests/SpoofingModelTests/Fixtures")
    /// LogisticRegression, skl2onnx, zipmap off.
    static let logistic = path("logistic.onnx")
    /// LGBMClassifier with 50 trees, onnxmltools, zipmap off.
    static let lightgbm = path("lightgbm.onnx")
    /// The logistic model with zipmap on: its probabilities are a sequence of maps, not a tensor.
    static let logisticZipmap = path("logistic_zipmap.onnx")
    /// probabilities = input², input [N, 2].
    static let square = path("square.onnx")
    /// Two inputs.
    static let twoInputs = path("two_inputs.onnx")
    /// The Python scorer of the live parity test.
    static let scoreRowsScript = path("score_rows.py")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// One line of rows.csv: the features and Python ONNX Runtime's probabilities[:, 1] per model.
    struct Row {
        var features: [Float]
        var logistic: Float
        var lightgbm: Float
    }

    /// rows.csv, parsed (float32 values printed with 9 significant digits, so they round-trip).
    static func rows() throws -> [Row] {
        let text = try String(contentsOfFile: path("rows.csv"), encoding: .utf8)
        return try text.split(separator: "\n").dropFirst().map { line in
            let values = try line.split(separator: ",").map { field in
                guard let value = Float(field) else { throw FixtureError.badNumber(String(line)) }
                return value
            }
            guard values.count == featureCount + 2 else { throw FixtureError.badNumber(String(line)) }
            return Row(
                features: Array(values[..<featureCount]), logistic: values[featureCount],
                lightgbm: values[featureCount + 1])
        }
    }

    enum FixtureError: Error { case badNumber(String) }

    /// A scratch directory for files a test writes (empty, truncated or corrupt models).
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("spoofing-model-tests-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
