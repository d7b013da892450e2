import COnnxRuntime

/// The ONNX Runtime C API table and the one funnel through which every `OrtStatus*` passes.
///
/// Invariants:
/// - The table comes from `OrtGetApiBase()->GetApi(version)`; a NULL answer (runtime older than
///   the header) is an error, never dereferenced.
/// - The table is static data inside libonnxruntime: the pointer stays valid for the life of the
///   process and is never freed.
/// - A non-NULL `OrtStatus*` is owned by the caller: ``OrtRuntime/message(_:)`` reads it and always
///   calls `ReleaseStatus`, on every path, so no status leaks.
enum OrtRuntime {
    /// The API version of the C header this module is compiled against.
    static let headerVersion = UInt32(ORT_API_VERSION)

    /// `OrtGetApiBase()->GetApi(version)`, or `.apiVersionUnavailable` when the runtime returns NULL.
    static func api(
        version: UInt32 = headerVersion, path: String
    ) throws(SpoofingModelError) -> UnsafePointer<OrtApi> {
        guard let base = OrtGetApiBase() else {
            throw .apiVersionUnavailable(
                path: path, requested: version, runtimeVersion: "unknown (OrtGetApiBase returned NULL)")
        }
        guard let getApi = base.pointee.GetApi, let api = getApi(version) else {
            throw .apiVersionUnavailable(path: path, requested: version, runtimeVersion: runtimeVersion)
        }
        return api
    }

    /// The loaded library's version string, e.g. "1.32.0" (`OrtApiBase::GetVersionString`).
    static var runtimeVersion: String {
        guard let base = OrtGetApiBase(), let getVersion = base.pointee.GetVersionString,
            let version = getVersion()
        else { return "unknown" }
        return String(cString: version)
    }

    /// nil for success (a NULL status); otherwise the error code and message. Releases the status.
    static func message(_ status: OpaquePointer?, api: UnsafePointer<OrtApi>) -> String? {
        guard let status else { return nil }
        defer { api.pointee.ReleaseStatus(status) }
        let code = api.pointee.GetErrorCode(status)
        let text = api.pointee.GetErrorMessage(status).map { String(cString: $0) } ?? "no message"
        return "\(codeName(code)): \(text)"
    }

    private static func codeName(_ code: OrtErrorCode) -> String {
        switch code {
        case ORT_FAIL: return "ORT_FAIL"
        case ORT_INVALID_ARGUMENT: return "ORT_INVALID_ARGUMENT"
        case ORT_NO_SUCHFILE: return "ORT_NO_SUCHFILE"
        case ORT_NO_MODEL: return "ORT_NO_MODEL"
        case ORT_ENGINE_ERROR: return "ORT_ENGINE_ERROR"
        case ORT_RUNTIME_EXCEPTION: return "ORT_RUNTIME_EXCEPTION"
        case ORT_INVALID_PROTOBUF: return "ORT_INVALID_PROTOBUF"
        case ORT_MODEL_LOADED: return "ORT_MODEL_LOADED"
        case ORT_NOT_IMPLEMENTED: return "ORT_NOT_IMPLEMENTED"
        case ORT_INVALID_GRAPH: return "ORT_INVALID_GRAPH"
        default: return "ORT error \(code.rawValue)"
        }
    }
}
