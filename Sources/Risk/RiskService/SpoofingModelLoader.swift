import Foundation
import Logging
import RiskEngine
import SpoofingModel

/// Finds and loads the spoofing model the live services use (`[risk.model]`, docs/risk-model.md).
public enum SpoofingModelLoader {
    /// The model file shipped with Chronos.
    public static let bundledName = "models/spoofing-v1.onnx"

    /// Where the bundled model is looked for when `[risk.model] path` is not set: the working
    /// directory, then up to three folders above the running executable (a source checkout's
    /// `.build/<triple>/release/chronos`), then `<prefix>/share/chronos/` beside `<prefix>/bin/chronos`.
    public static func bundledCandidates(executable: String = CommandLine.arguments.first ?? "") -> [String] {
        var candidates = [bundledName]
        let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        var folder = resolved
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent(bundledName).path)
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(
            resolved.deletingLastPathComponent().appendingPathComponent("share/chronos/\(bundledName)").path)
        return candidates
    }

    /// The model's path: the configured one, else the first bundled candidate that exists (nil: none).
    public static func resolvedPath(_ configuration: RiskModelConfiguration) -> String? {
        if let path = configuration.path { return path }
        return bundledCandidates().first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// Loads the model for `configuration` on the calling thread (it becomes the model's owner).
    ///
    /// - Returns: nil when the mode is `off`, or no model is configured and none is bundled, or
    ///   loading failed and `on_load_error = "static_only"` (each logged).
    /// - Throws: a load error when a model was configured (or found) and `on_load_error = "fail"`.
    public static func load(_ configuration: RiskModelConfiguration, logger: Logger) throws -> SpoofingScorer? {
        guard configuration.policy.mode != .off else { return nil }
        guard let path = resolvedPath(configuration) else {
            logger.notice("no spoofing model configured or bundled: static risk limits only")
            return nil
        }
        do {
            let model = try SpoofingModel(
                path: path, featureCount: SpoofingFeatureSchema.count,
                timeBudgetNanoseconds: UInt64(configuration.timeBudgetMicros) * 1_000)
            model.warmUp()
            logger.info(
                "spoofing model loaded",
                metadata: [
                    "path": "\(path)", "mode": "\(configuration.policy.mode.rawValue)",
                    "threshold": "\(configuration.policy.threshold)",
                    "scoring": "\(configuration.policy.scoring.rawValue)",
                    "fail": "\(configuration.policy.failClosed ? "closed" : "open")",
                    "time_budget_us": "\(configuration.timeBudgetMicros)",
                ])
            return model
        } catch {
            guard configuration.requireModel else {
                logger.error(
                    "spoofing model not loaded: static risk limits only (on_load_error = static_only)",
                    metadata: ["error": "\(error)"])
                return nil
            }
            throw error
        }
    }
}
