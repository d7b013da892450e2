/// One input or output of a loaded model, as ONNX Runtime describes it (plain values, no handles).
struct ModelPort: Equatable, Sendable {
    /// The name the graph gives it ("input", "probabilities", "label").
    var name: String
    /// ONNX notation: "tensor(float)", "tensor(int64)", "sequence", "map", …
    var type: String
    /// Tensor dimensions, -1 for a dynamic one; empty for non-tensors.
    var dimensions: [Int64]
}

/// What ``SpoofingModel`` binds, decided once at load time from the model's ports: one float input
/// [N, featureCount], a float `probabilities` output [N, 2], and optionally an int64 `label`.
/// Pure: the rules are tested without a model file.
struct ModelSignature: Equatable, Sendable {
    /// The one input's name, read from the model (skl2onnx and onnxmltools call it "input").
    var inputName: String
    /// The shape the preallocated input tensor is bound with: [1, featureCount].
    var inputShape: [Int64]
    /// The shape the preallocated probabilities tensor is bound with: [1, 2].
    var probabilitiesShape: [Int64]
    /// The int64 label output and its bound shape (dynamic dimensions as 1), when the model has one.
    var labelShape: [Int64]?

    static let probabilitiesName = "probabilities"
    static let labelName = "label"

    /// Checks the ports against the expected layout; the error names what was expected and found.
    static func validate(
        path: String, featureCount: Int, inputs: [ModelPort], outputs: [ModelPort]
    ) throws(SpoofingModelError) -> ModelSignature {
        guard inputs.count == 1, let input = inputs.first else {
            throw .wrongInputCount(path: path, found: inputs.map(\.name))
        }
        guard input.type == "tensor(float)" else {
            throw .wrongInputType(path: path, input: input.name, found: input.type)
        }
        // One row per call: the batch dimension must be dynamic (-1) or exactly 1.
        let dimensions = input.dimensions
        guard dimensions.count == 2, dimensions[0] == -1 || dimensions[0] == 1, dimensions[1] == Int64(featureCount)
        else {
            throw .wrongInputShape(
                path: path, input: input.name, expected: [-1, Int64(featureCount)], found: dimensions)
        }
        guard let probabilities = outputs.first(where: { $0.name == probabilitiesName }) else {
            throw .missingProbabilitiesOutput(path: path, outputs: outputs.map(\.name))
        }
        let p = probabilities.dimensions
        guard probabilities.type == "tensor(float)", p.count == 2, p[0] == -1 || p[0] == 1, p[1] == 2 else {
            throw .wrongProbabilitiesOutput(
                path: path, found: "\(probabilities.type) \(SpoofingModelError.shape(p))")
        }
        // The label is bound too when it is an int64 tensor of one element per row; otherwise
        // (string labels, odd shapes) it is left unbound and ONNX Runtime does not return it.
        var labelShape: [Int64]?
        if let label = outputs.first(where: { $0.name == labelName }), label.type == "tensor(int64)",
            !label.dimensions.isEmpty, label.dimensions.allSatisfy({ $0 == -1 || $0 == 1 })
        {
            labelShape = label.dimensions.map { _ in 1 }
        }
        return ModelSignature(
            inputName: input.name, inputShape: [1, Int64(featureCount)], probabilitiesShape: [1, 2],
            labelShape: labelShape)
    }
}
