import COnnxRuntime

/// An `OrtEnv` and one `OrtSession` over a model file, configured for one caller thread, and the
/// model's inputs and outputs read back as ``ModelPort`` values.
///
/// Invariants:
/// - `env` and `session` are non-NULL and owned: `deinit` releases the session, then the env.
///   A failed `init` releases whatever it created before throwing.
/// - The session options are released as soon as the session exists (the session copies them).
/// - Single-threaded: one intra-op and one inter-op thread, sequential execution, spinning off,
///   so a `Run` executes on the caller's thread and no pool thread burns a core between calls.
final class OrtSession {
    let api: UnsafePointer<OrtApi>
    let session: OpaquePointer
    private let env: OpaquePointer
    private let path: String

    /// `CreateEnv`, `CreateSessionOptions` (+ the settings above), `CreateSession`.
    init(path: String, api: UnsafePointer<OrtApi>) throws(SpoofingModelError) {
        self.api = api
        self.path = path
        let env = try Self.create(path, "CreateEnv", api) {
            api.pointee.CreateEnv(ORT_LOGGING_LEVEL_WARNING, "chronos-spoofing-model", &$0)
        }
        do throws(SpoofingModelError) {
            let options = try Self.create(path, "CreateSessionOptions", api) { api.pointee.CreateSessionOptions(&$0) }
            defer { api.pointee.ReleaseSessionOptions(options) }
            try Self.check(path, "SetIntraOpNumThreads", api, api.pointee.SetIntraOpNumThreads(options, 1))
            try Self.check(path, "SetInterOpNumThreads", api, api.pointee.SetInterOpNumThreads(options, 1))
            try Self.check(
                path, "SetSessionExecutionMode", api, api.pointee.SetSessionExecutionMode(options, ORT_SEQUENTIAL))
            try Self.check(
                path, "SetSessionGraphOptimizationLevel", api,
                api.pointee.SetSessionGraphOptimizationLevel(options, ORT_ENABLE_ALL))
            for key in ["session.intra_op.allow_spinning", "session.inter_op.allow_spinning"] {
                try Self.check(
                    path, "AddSessionConfigEntry(\(key))", api, api.pointee.AddSessionConfigEntry(options, key, "0"))
            }
            var session: OpaquePointer?
            // ORTCHAR_T is char on Linux: the path goes in as a UTF-8 C string.
            let status = path.withCString { api.pointee.CreateSession(env, $0, options, &session) }
            if let message = OrtRuntime.message(status, api: api) { throw .invalidModel(path: path, reason: message) }
            guard let session else {
                throw .runtimeFailure(path: path, operation: "CreateSession", message: "NULL session")
            }
            self.session = session
        } catch {
            api.pointee.ReleaseEnv(env)
            throw error
        }
        self.env = env
    }

    deinit {
        api.pointee.ReleaseSession(session)
        api.pointee.ReleaseEnv(env)
    }

    /// The model's inputs (`SessionGetInputCount`, `SessionGetInputName`, `SessionGetInputTypeInfo`).
    func inputs() throws(SpoofingModelError) -> [ModelPort] {
        try ports(
            count: api.pointee.SessionGetInputCount, name: api.pointee.SessionGetInputName,
            typeInfo: api.pointee.SessionGetInputTypeInfo, what: "input")
    }

    /// The model's outputs (`SessionGetOutputCount`, `SessionGetOutputName`, `SessionGetOutputTypeInfo`).
    func outputs() throws(SpoofingModelError) -> [ModelPort] {
        try ports(
            count: api.pointee.SessionGetOutputCount, name: api.pointee.SessionGetOutputName,
            typeInfo: api.pointee.SessionGetOutputTypeInfo, what: "output")
    }

    private typealias CountFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> OpaquePointer?
    private typealias NameFunction =
        @convention(c) (
            OpaquePointer?, Int, UnsafeMutablePointer<OrtAllocator>?,
            UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        ) -> OpaquePointer?
    private typealias TypeInfoFunction =
        @convention(c) (OpaquePointer?, Int, UnsafeMutablePointer<OpaquePointer?>?) -> OpaquePointer?

    private func ports(
        count countFunction: CountFunction, name nameFunction: NameFunction,
        typeInfo typeInfoFunction: TypeInfoFunction,
        what: String
    ) throws(SpoofingModelError) -> [ModelPort] {
        let path = self.path
        let api = self.api
        var count = 0
        try Self.check(path, "Session\(what)Count", api, countFunction(session, &count))
        var allocator: UnsafeMutablePointer<OrtAllocator>?
        // The default allocator is owned by ONNX Runtime and never released.
        try Self.check(
            path, "GetAllocatorWithDefaultOptions", api, api.pointee.GetAllocatorWithDefaultOptions(&allocator))
        var ports: [ModelPort] = []
        for index in 0..<count {
            var cName: UnsafeMutablePointer<CChar>?
            try Self.check(path, "Session\(what)Name", api, nameFunction(session, index, allocator, &cName))
            let name = cName.map { String(cString: $0) } ?? ""
            if let cName { _ = OrtRuntime.message(api.pointee.AllocatorFree(allocator, cName), api: api) }
            let typeInfo = try Self.create(path, "Session\(what)TypeInfo", api) {
                typeInfoFunction(session, index, &$0)
            }
            defer { api.pointee.ReleaseTypeInfo(typeInfo) }
            let (type, dimensions) = try describe(typeInfo)
            ports.append(ModelPort(name: name, type: type, dimensions: dimensions))
        }
        return ports
    }

    /// ONNX type notation and tensor dimensions of one `OrtTypeInfo` (not released here).
    private func describe(_ typeInfo: OpaquePointer) throws(SpoofingModelError) -> (String, [Int64]) {
        let path = self.path
        let api = self.api
        var onnxType = ONNX_TYPE_UNKNOWN
        try Self.check(path, "GetOnnxTypeFromTypeInfo", api, api.pointee.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType))
        switch onnxType {
        case ONNX_TYPE_TENSOR: break
        case ONNX_TYPE_SEQUENCE: return ("sequence", [])
        case ONNX_TYPE_MAP: return ("map", [])
        case ONNX_TYPE_SPARSETENSOR: return ("sparse_tensor", [])
        case ONNX_TYPE_OPTIONAL: return ("optional", [])
        default: return ("unknown", [])
        }
        // The tensor info belongs to the type info: not released separately.
        var tensorInfo: OpaquePointer?
        try Self.check(
            path, "CastTypeInfoToTensorInfo", api, api.pointee.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo))
        var elementType = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED
        try Self.check(path, "GetTensorElementType", api, api.pointee.GetTensorElementType(tensorInfo, &elementType))
        var rank = 0
        try Self.check(path, "GetDimensionsCount", api, api.pointee.GetDimensionsCount(tensorInfo, &rank))
        var dimensions = [Int64](repeating: 0, count: rank)
        try Self.check(path, "GetDimensions", api, api.pointee.GetDimensions(tensorInfo, &dimensions, rank))
        return ("tensor(\(Self.elementName(elementType)))", dimensions)
    }

    private static func elementName(_ type: ONNXTensorElementDataType) -> String {
        switch type {
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float"
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "double"
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16"
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64"
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32"
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return "string"
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return "bool"
        default: return "element type \(type.rawValue)"
        }
    }

    /// Throws `.runtimeFailure` for a non-NULL status (which `OrtRuntime.message` releases).
    static func check(
        _ path: String, _ operation: String, _ api: UnsafePointer<OrtApi>, _ status: OpaquePointer?
    ) throws(SpoofingModelError) {
        if let message = OrtRuntime.message(status, api: api) {
            throw .runtimeFailure(path: path, operation: operation, message: message)
        }
    }

    /// Runs a `Create…(…, &out)` call and returns the non-NULL handle it produced.
    static func create(
        _ path: String, _ operation: String, _ api: UnsafePointer<OrtApi>,
        _ body: (inout OpaquePointer?) -> OpaquePointer?
    ) throws(SpoofingModelError) -> OpaquePointer {
        var handle: OpaquePointer?
        try check(path, operation, api, body(&handle))
        guard let handle else { throw .runtimeFailure(path: path, operation: operation, message: "returned NULL") }
        return handle
    }
}
