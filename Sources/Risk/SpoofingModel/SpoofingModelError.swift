/// Why a spoofing model could not be loaded. Thrown only by ``SpoofingModel/init(path:featureCount:timeBudgetNanoseconds:)``;
/// scoring itself never throws (it returns nil and counts).
///
/// Every case carries the model path, and ``description`` says what was expected and what was
/// found, so the message alone is enough to fix the file or the configuration.
public enum SpoofingModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The feature count asked for is not positive.
    case invalidFeatureCount(path: String, featureCount: Int)
    /// No file at `path`.
    case fileNotFound(path: String)
    /// The file exists but cannot be read (permissions, a directory, an I/O error).
    case fileUnreadable(path: String, reason: String)
    /// The file is not an ONNX model ONNX Runtime can load: empty, truncated, corrupt, or using
    /// operators this runtime lacks. `reason` is ONNX Runtime's own message where it gave one.
    case invalidModel(path: String, reason: String)
    /// The runtime library is older than the C header this module was compiled with:
    /// `OrtGetApiBase()->GetApi(requested)` returned NULL.
    case apiVersionUnavailable(path: String, requested: UInt32, runtimeVersion: String)
    /// The model must have exactly one input; `found` lists the inputs it has.
    case wrongInputCount(path: String, found: [String])
    /// The input is not a float tensor (`found` is its ONNX type, e.g. "tensor(int64)").
    case wrongInputType(path: String, input: String, found: String)
    /// The input's shape is not [N, featureCount] (N dynamic or 1). -1 stands for a dynamic dimension.
    case wrongInputShape(path: String, input: String, expected: [Int64], found: [Int64])
    /// No output named `probabilities` (skl2onnx / onnxmltools with `zipmap=False` name it so);
    /// `outputs` lists the outputs the model has.
    case missingProbabilitiesOutput(path: String, outputs: [String])
    /// The `probabilities` output is not a float tensor of shape [N, 2].
    case wrongProbabilitiesOutput(path: String, found: String)
    /// An ONNX Runtime call failed while setting up the session or its buffers.
    case runtimeFailure(path: String, operation: String, message: String)

    public var description: String {
        switch self {
        case .invalidFeatureCount(let path, let featureCount):
            return "spoofing model \(path): the feature count must be positive, got \(featureCount)"
        case .fileNotFound(let path):
            return "spoofing model \(path): no such file"
        case .fileUnreadable(let path, let reason):
            return "spoofing model \(path): cannot read the file: \(reason)"
        case .invalidModel(let path, let reason):
            return "spoofing model \(path): not a valid ONNX model: \(reason)"
        case .apiVersionUnavailable(let path, let requested, let runtimeVersion):
            return "spoofing model \(path): ONNX Runtime \(runtimeVersion) does not provide C API version \(requested) "
                + "(the library is older than the header Chronos was built with; install a newer one "
                + "with scripts/install-onnxruntime.sh)"
        case .wrongInputCount(let path, let found):
            let names = found.isEmpty ? "none" : found.joined(separator: ", ")
            return
                "spoofing model \(path): expected exactly 1 input (float [N, features]), found \(found.count): \(names)"
        case .wrongInputType(let path, let input, let found):
            return "spoofing model \(path): input '\(input)' must be tensor(float), found \(found)"
        case .wrongInputShape(let path, let input, let expected, let found):
            return "spoofing model \(path): input '\(input)' must have shape \(Self.shape(expected)), "
                + "found \(Self.shape(found))"
        case .missingProbabilitiesOutput(let path, let outputs):
            let names = outputs.isEmpty ? "none" : outputs.joined(separator: ", ")
            return "spoofing model \(path): no output named 'probabilities' (convert with zipmap=False); "
                + "outputs found: \(names)"
        case .wrongProbabilitiesOutput(let path, let found):
            return "spoofing model \(path): output 'probabilities' must be tensor(float) of shape [N, 2], "
                + "found \(found)"
        case .runtimeFailure(let path, let operation, let message):
            return "spoofing model \(path): ONNX Runtime \(operation) failed: \(message)"
        }
    }

    /// "[N, 20]": -1 (a dynamic dimension) printed as N.
    static func shape(_ dimensions: [Int64]) -> String {
        "[" + dimensions.map { $0 < 0 ? "N" : String($0) }.joined(separator: ", ") + "]"
    }
}
