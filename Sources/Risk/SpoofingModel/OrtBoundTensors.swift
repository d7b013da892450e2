import COnnxRuntime

/// The preallocated input and output buffers of one session, wrapped once as `OrtValue`s and bound
/// once with an `OrtIoBinding`, so a call is: copy the features in, `RunWithBinding`, read a float.
///
/// Invariants:
/// - `input` holds exactly `featureCount` floats, `probabilities` 2, `label` 1 (whether or not the
///   model has a label); all three are allocated here and freed in `deinit`, after the `OrtValue`s
///   that point into them are released. The `OrtValue`s never own the memory
///   (`CreateTensorWithDataAsOrtValue` wraps it).
/// - The binding refers to the session and to the three values: `session` is kept alive by the
///   strong reference below, and `deinit` releases the binding before the values.
/// - Every handle is non-NULL once `init` returns (the label value only when the model has a
///   label); a failed `init` releases what it created.
/// - The `OrtRunOptions` is created once too: `RunWithBinding` with NULL run options allocates a
///   default one on every call (one malloc per call, measured).
/// - Not thread-safe: one owner thread calls ``load(_:)``, ``run()`` and ``positiveProbability``.
final class OrtBoundTensors {
    let featureCount: Int
    private let api: UnsafePointer<OrtApi>
    private let session: OrtSession
    private let input: UnsafeMutablePointer<Float>
    private let probabilities: UnsafeMutablePointer<Float>
    private let label: UnsafeMutablePointer<Int64>
    private let handles: Handles

    /// The C handles, released together (binding first) by ``release(_:api:)``; NULL only while
    /// `init` is still creating them.
    private struct Handles {
        var memoryInfo: OpaquePointer?
        var inputValue: OpaquePointer?
        var probabilitiesValue: OpaquePointer?
        var labelValue: OpaquePointer?
        var binding: OpaquePointer?
        var runOptions: OpaquePointer?
    }

    /// `CreateCpuMemoryInfo`, `CreateTensorWithDataAsOrtValue` ×2–3, `CreateIoBinding`,
    /// `CreateRunOptions`, `BindInput`, `BindOutput` ×1–2.
    init(session: OrtSession, signature: ModelSignature, featureCount: Int, path: String) throws(SpoofingModelError) {
        let api = session.api
        let input = UnsafeMutablePointer<Float>.allocate(capacity: featureCount)
        input.initialize(repeating: 0, count: featureCount)
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: 2)
        probabilities.initialize(repeating: .nan, count: 2)
        let label = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        label.initialize(to: 0)
        var handles = Handles()
        var committed = false
        defer {
            if !committed {
                Self.release(handles, api: api)
                input.deallocate()
                probabilities.deallocate()
                label.deallocate()
            }
        }
        let memoryInfo = try OrtSession.create(path, "CreateCpuMemoryInfo", api) {
            api.pointee.CreateCpuMemoryInfo(OrtDeviceAllocator, OrtMemTypeDefault, &$0)
        }
        handles.memoryInfo = memoryInfo
        handles.inputValue = try Self.tensor(
            over: UnsafeMutableRawPointer(input), bytes: featureCount * MemoryLayout<Float>.stride,
            shape: signature.inputShape, type: ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, memoryInfo, api, path)
        handles.probabilitiesValue = try Self.tensor(
            over: UnsafeMutableRawPointer(probabilities), bytes: 2 * MemoryLayout<Float>.stride,
            shape: signature.probabilitiesShape, type: ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, memoryInfo, api, path)
        if let labelShape = signature.labelShape {
            handles.labelValue = try Self.tensor(
                over: UnsafeMutableRawPointer(label), bytes: MemoryLayout<Int64>.stride, shape: labelShape,
                type: ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, memoryInfo, api, path)
        }
        let binding = try OrtSession.create(path, "CreateIoBinding", api) {
            api.pointee.CreateIoBinding(session.session, &$0)
        }
        handles.binding = binding
        handles.runOptions = try OrtSession.create(path, "CreateRunOptions", api) { api.pointee.CreateRunOptions(&$0) }
        try OrtSession.check(
            path, "BindInput(\(signature.inputName))", api,
            api.pointee.BindInput(binding, signature.inputName, handles.inputValue))
        try OrtSession.check(
            path, "BindOutput(\(ModelSignature.probabilitiesName))", api,
            api.pointee.BindOutput(binding, ModelSignature.probabilitiesName, handles.probabilitiesValue))
        if let labelValue = handles.labelValue {
            try OrtSession.check(
                path, "BindOutput(\(ModelSignature.labelName))", api,
                api.pointee.BindOutput(binding, ModelSignature.labelName, labelValue))
        }
        committed = true
        self.featureCount = featureCount
        self.api = api
        self.session = session
        self.input = input
        self.probabilities = probabilities
        self.label = label
        self.handles = handles
    }

    deinit {
        Self.release(handles, api: api)
        input.deallocate()
        probabilities.deallocate()
        label.deallocate()
    }

    /// Copies `features` (exactly `featureCount` of them, checked by the caller) into the bound
    /// input buffer; false as soon as one is NaN or ±infinity (the buffer is then half-written,
    /// which is harmless: the next successful load overwrites all of it).
    @inline(__always)  // One call site, on the scoring path; keeps the loop next to its caller's checks.
    func load(_ features: UnsafeBufferPointer<Float>) -> Bool {
        assert(features.count == featureCount)
        for index in 0..<featureCount {
            let value = features[index]
            guard value.isFinite else { return false }
            input[index] = value
        }
        return true
    }

    /// `RunWithBinding` over the bound buffers: nil on success, else ONNX Runtime's message (the only
    /// path that allocates a String). The probabilities are reset to NaN first, so a run that did
    /// not write into the bound buffer can never be read as a score.
    func run() -> String? {
        probabilities[0] = .nan
        probabilities[1] = .nan
        let status = api.pointee.RunWithBinding(session.session, handles.runOptions, handles.binding)
        return OrtRuntime.message(status, api: api)
    }

    /// `probabilities[0, 1]`: the probability of the positive (spoofing) class after ``run()``.
    var positiveProbability: Float { probabilities[1] }

    /// The label the last ``run()`` wrote (0 when the model has no int64 label output).
    var lastLabel: Int64 { label.pointee }

    private static func tensor(
        over data: UnsafeMutableRawPointer, bytes: Int, shape: [Int64], type: ONNXTensorElementDataType,
        _ memoryInfo: OpaquePointer, _ api: UnsafePointer<OrtApi>, _ path: String
    ) throws(SpoofingModelError) -> OpaquePointer {
        try OrtSession.create(path, "CreateTensorWithDataAsOrtValue", api) { out in
            api.pointee.CreateTensorWithDataAsOrtValue(memoryInfo, data, bytes, shape, shape.count, type, &out)
        }
    }

    /// Binding first (it refers to the values), then the run options, the values, the memory info.
    private static func release(_ handles: Handles, api: UnsafePointer<OrtApi>) {
        if let binding = handles.binding { api.pointee.ReleaseIoBinding(binding) }
        if let runOptions = handles.runOptions { api.pointee.ReleaseRunOptions(runOptions) }
        for value in [handles.labelValue, handles.probabilitiesValue, handles.inputValue] {
            if let value { api.pointee.ReleaseValue(value) }
        }
        if let memoryInfo = handles.memoryInfo { api.pointee.ReleaseMemoryInfo(memoryInfo) }
    }
}
