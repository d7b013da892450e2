import ChronosCore

/// What the risk engine does with the spoofing model's score.
public enum SpoofingModelMode: String, Sendable, CaseIterable {
    /// No features, no model.
    case off
    /// Score every order, report and count the score; never act on it.
    case shadow
    /// Orders scoring at or above the threshold go on marked `flag` (surveillance alert).
    case flag
    /// … go on marked `throttle`: the caller slows the account down.
    case throttle
    /// … are rejected `spoofing_model` (not recommended: a model guesses intent).
    case reject
}

/// When the model runs.
public enum SpoofingScoring: String, Sendable, CaseIterable {
    /// In the order's path: the order waits for its own score.
    case inPath = "in_path"
    /// Score-behind: after each of an account's events the account's score is recomputed off the
    /// order path (``RiskEngine/refreshBehindScores(now:limit:)``) and applied to its next order.
    /// The first order of an account on a symbol is scored in its path.
    case behind
}

/// The spoofing model's policy (`[risk.model]` in the configuration).
public struct SpoofingPolicy: Hashable, Sendable {
    public var mode: SpoofingModelMode
    /// Scores at or above this act (flag, throttle, reject); 0…1.
    public var threshold: Double
    public var scoring: SpoofingScoring
    /// When the model fails (error, non-finite score, time budget exceeded): false = fail open
    /// (the order goes on unscored, counted), true = fail closed (rejected `model_unavailable`).
    public var failClosed: Bool

    public init(
        mode: SpoofingModelMode = .flag, threshold: Double = 0.1, scoring: SpoofingScoring = .inPath,
        failClosed: Bool = false
    ) {
        self.mode = mode
        self.threshold = threshold
        self.scoring = scoring
        self.failClosed = failClosed
    }
}

/// Counters of the spoofing model's use, for metrics and tests.
public struct SpoofingModelCounters: Hashable, Sendable {
    /// Orders and replaces that got a score (in the path or from score-behind).
    public var scored = 0
    /// Scores computed off the order path by ``RiskEngine/refreshBehindScores(now:limit:)``.
    public var behindRefreshes = 0
    /// Scores at or above the threshold, by action taken (shadow counts them under `shadowHits`).
    public var shadowHits = 0
    public var flagged = 0
    public var throttled = 0
    public var rejected = 0
    /// The scorer failed (fail-open: unscored; fail-closed: rejected).
    public var failures = 0
}
