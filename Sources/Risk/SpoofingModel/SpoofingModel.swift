import COnnxRuntime
import Glibc
import RiskEngine
import Runtime

/// A spoofing / layering classifier in ONNX format, scored through the ONNX Runtime C API on the
/// caller's thread (docs/onnx-runtime.md).
///
/// The model must have one float input [N, featureCount] (N dynamic or 1) and a float output
/// `probabilities` [N, 2] (skl2onnx / onnxmltools with `zipmap=False`); an int64 `label` output is
/// bound too when present. Everything is checked once, in `init`; a call then copies the features
/// into a preallocated input tensor, runs the session over an I/O binding whose outputs are also
/// preallocated, and reads `probabilities[0, 1]`.
///
/// A call never throws: it returns nil and increments exactly one counter
/// (`scored + failures + nonFiniteInputs + overBudget` is the number of calls).
///
/// Cost (2 vCPU VM, release, docs/onnx-runtime.md): about 1.3 µs for logistic regression and
/// about 2.8 µs for a 50-tree LightGBM at p50; ONNX Runtime itself allocates 16–21 times per call.
///
/// Ownership: not thread-safe and not `Sendable`. One risk thread creates it and is the only
/// caller; a second thread needs its own instance.
public final class SpoofingModel: SpoofingScorer {
    /// The number of features one call takes.
    public let featureCount: Int
    /// A call that takes longer than this (ns, measured with `CLOCK_MONOTONIC` around the whole call)
    /// returns nil and counts in ``overBudget``; 0 means no budget (and no clock reads).
    public let timeBudgetNanoseconds: UInt64
    /// The model file it was loaded from.
    public let path: String
    /// The name of the model's input, as the model declares it.
    public let inputName: String
    /// Whether the model has an int64 `label` output, which is bound and computed with the
    /// probabilities.
    public let hasLabelOutput: Bool

    /// Calls that returned a probability.
    public private(set) var scored = 0
    /// Calls that returned nil because the buffer length was not ``featureCount``, `Run` failed, or
    /// the result was not a finite number in 0…1.
    public private(set) var failures = 0
    /// Calls that returned nil because a feature was NaN or ±infinity (the model was not run).
    public private(set) var nonFiniteInputs = 0
    /// Calls that returned nil because they took longer than ``timeBudgetNanoseconds``. ONNX Runtime
    /// cannot be interrupted, so the run completes and its result is discarded.
    public private(set) var overBudget = 0
    /// ONNX Runtime's message for the last failed `Run`, if any (set only on that path).
    public private(set) var lastRunError: String?
    /// How many times the session was run (tests check that rejected inputs never reach it).
    private(set) var runs = 0

    private let tensors: OrtBoundTensors

    /// Loads and validates the model and preallocates everything a call needs.
    ///
    /// Calls `OrtGetApiBase()->GetApi(ORT_API_VERSION)`, `CreateEnv`, `CreateSessionOptions`
    /// (`SetIntraOpNumThreads(1)`, `SetInterOpNumThreads(1)`, `ORT_SEQUENTIAL`, `ORT_ENABLE_ALL`,
    /// `session.intra_op.allow_spinning=0`, `session.inter_op.allow_spinning=0`), `CreateSession`,
    /// then the tensor and binding calls of ``OrtBoundTensors``.
    ///
    /// - Parameters:
    ///   - path: The `.onnx` file.
    ///   - featureCount: The width of the model's input (the risk engine's feature schema).
    ///   - timeBudgetNanoseconds: The longest a call may take before its result is discarded; 0 = none.
    /// - Throws: ``SpoofingModelError``, naming the file and what is wrong with it.
    public init(path: String, featureCount: Int, timeBudgetNanoseconds: UInt64 = 0) throws(SpoofingModelError) {
        guard featureCount > 0 else { throw .invalidFeatureCount(path: path, featureCount: featureCount) }
        try Self.checkReadable(path)
        let api = try OrtRuntime.api(path: path)
        let session = try OrtSession(path: path, api: api)
        let signature = try ModelSignature.validate(
            path: path, featureCount: featureCount, inputs: session.inputs(), outputs: session.outputs())
        tensors = try OrtBoundTensors(session: session, signature: signature, featureCount: featureCount, path: path)
        self.featureCount = featureCount
        self.timeBudgetNanoseconds = timeBudgetNanoseconds
        self.path = path
        self.inputName = signature.inputName
        self.hasLabelOutput = signature.labelShape != nil
    }

    /// The probability (0…1) of the positive class, `probabilities[0, 1]`, or nil (and one counter
    /// incremented) when `features` has the wrong length, holds NaN or ±infinity (the model is then
    /// not run), `RunWithBinding` fails, the result is not a finite probability, or the call took
    /// longer than ``timeBudgetNanoseconds``.
    public func score(_ features: UnsafeBufferPointer<Float>) -> Float? {
        let start = timeBudgetNanoseconds == 0 ? 0 : SystemClock.monotonicNanoseconds()
        guard features.count == featureCount else {
            failures += 1
            return nil
        }
        guard tensors.load(features) else {
            nonFiniteInputs += 1
            return nil
        }
        runs += 1
        if let message = tensors.run() {
            lastRunError = message
            failures += 1
            return nil
        }
        let probability = tensors.positiveProbability
        if timeBudgetNanoseconds != 0, SystemClock.monotonicNanoseconds() &- start > timeBudgetNanoseconds {
            overBudget += 1
            return nil
        }
        guard probability.isFinite, probability >= 0, probability <= 1 else {
            failures += 1
            return nil
        }
        scored += 1
        return probability
    }

    /// Runs the model `runs` times on an all-zero input, outside the counters and the time budget:
    /// ONNX Runtime does lazy work on its first runs (about a millisecond here), which must not
    /// land on the first real order. The services call it once after loading.
    public func warmUp(runs: Int = 8) {
        let zeros = [Float](repeating: 0, count: featureCount)
        zeros.withUnsafeBufferPointer { buffer in
            for _ in 0..<runs where tensors.load(buffer) { _ = tensors.run() }
        }
    }

    /// The int64 `label` the last successful run produced (the model's own 0/1 decision), or nil
    /// when the model has no such output.
    public var lastLabel: Int64? { hasLabelOutput ? tensors.lastLabel : nil }

    /// A clear error for a missing, unreadable or empty file before ONNX Runtime sees it.
    private static func checkReadable(_ path: String) throws(SpoofingModelError) {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .fileNotFound(path: path) }
            throw .fileUnreadable(path: path, reason: String(cString: strerror(code)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .fileUnreadable(path: path, reason: "it is a directory") }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw .fileUnreadable(path: path, reason: String(cString: strerror(errno))) }
        close(descriptor)
        if info.st_size == 0 { throw .invalidModel(path: path, reason: "the file is empty (0 bytes)") }
    }
}
