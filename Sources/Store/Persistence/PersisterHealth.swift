import Foundation

/// Whether a running persister can be trusted now, and if not why: a snapshot of
/// ``PersistenceService/health()`` (docs/persistence.md, "Failure handling").
///
/// The persister is **ready** when the store is open, its last call succeeded (and none has been
/// running for longer than ``stuckCallSeconds``), and every configured shard is followed. Before
/// the first opening, while the store fails, and while a shard is refused (another identity) or
/// dropped (its sequence went back), it is not ready.
public struct PersisterHealth: Sendable, Equatable {
    /// One shard as the persister sees it.
    public enum ShardState: Sendable, Equatable {
        /// Not followed yet: the store has not been opened.
        case waiting
        /// Followed: its events are read and written.
        case following
        /// Not followed: the store holds its events under another identity (``ShardIdentity``
        /// canonical texts: the store's, and this configuration's).
        case refused(stored: String, configured: String)
        /// No longer followed: the engine announced sequence `announced`, below `read`, what the
        /// persister had already read of it (the store's mark was `stored`): an engine restarted
        /// without its history, numbering again from a lower sequence.
        case regressed(announced: UInt64, read: UInt64, stored: UInt64)
    }

    public struct Shard: Sendable, Equatable {
        public var id: Int
        public var state = ShardState.waiting
        /// The last sequence the engine announced (event or heartbeat), as last read; nil before the first.
        public var engineSequence: UInt64?
        /// The store's high-water mark, as this persister wrote or read it.
        public var highWaterMark: UInt64 = 0
        /// Seconds that events announced by the engine have waited, unstored, without the store
        /// reaching them (0 when it keeps up): how long the lag has not shrunk.
        public var stalledSeconds: Double = 0
        /// The lag alarm (`lag_alarm_events` or `lag_alarm_seconds` passed).
        public var lagAlarm = false

        public init(id: Int) { self.id = id }

        /// Events the engine announced that the store does not hold yet.
        public var lag: UInt64 {
            guard let engineSequence, engineSequence > highWaterMark else { return 0 }
            return engineSequence - highWaterMark
        }
    }

    /// A store call running longer than this (seconds) counts as failing: the persister is not ready.
    public static let stuckCallSeconds = 5.0

    /// The store is open (and the last call on it succeeded).
    public var storeOpen = false
    /// The store was opened at least once since the start.
    public var started = false
    /// Store calls that failed in a row (openings and writes); 0 after a success.
    public var consecutiveFailures = 0
    /// Seconds since the first failure of the current streak (0: not failing).
    public var failingSeconds: Double = 0
    /// The last failure: what was done and the store's error.
    public var lastError: String?
    /// Set when the store could not be opened within `startup_timeout_ms`: the persister gave up.
    public var startupFailure: String?
    /// The store call in progress (e.g. `writing 200 events`), nil between calls.
    public var activity: String?
    /// Seconds the call in progress has been running.
    public var activitySeconds: Double = 0
    /// Seconds since the writer started.
    public var uptimeSeconds: Double = 0
    public var shards: [Shard]

    public init(shards: [Int]) { self.shards = shards.map(Shard.init(id:)) }

    /// A store call has been running for longer than ``stuckCallSeconds``.
    public var isStuck: Bool { activity != nil && activitySeconds > Self.stuckCallSeconds }

    /// Ready: the store open and answering, every shard followed.
    public var ready: Bool {
        storeOpen && consecutiveFailures == 0 && !isStuck && shards.allSatisfy { $0.state == .following }
    }

    /// Why it is not ready (empty when ready), one sentence each.
    public var reasons: [String] {
        var reasons: [String] = []
        if let startupFailure { reasons.append(startupFailure) }
        if isStuck, let activity {
            reasons.append("a store call has been running for \(Self.seconds(activitySeconds)): \(activity)")
        }
        if consecutiveFailures > 0 {
            reasons.append(
                "the store is failing: \(consecutiveFailures) consecutive failure\(consecutiveFailures == 1 ? "" : "s") "
                    + "for \(Self.seconds(failingSeconds)), retrying")
        } else if !started {
            reasons.append("starting: the store is not open yet")
        }
        for shard in shards {
            switch shard.state {
            case .waiting, .following: break
            case .refused(let stored, let configured):
                reasons.append(
                    "shard \(shard.id) refused: the store holds it as \"\(stored)\", this configuration makes it "
                        + "\"\(configured)\"")
            case .regressed(let announced, let read, let stored):
                reasons.append(
                    "shard \(shard.id) no longer followed: its engine announced sequence \(announced), below the "
                        + "\(read) already read (store high-water mark \(stored)): restarted without its history")
            }
        }
        return reasons
    }

    /// The text of the status file (``PersisterStatusFile``): `key: value` lines.
    public func report(pid: Int32, at wallClock: Date = Date()) -> String {
        var text = "chronos persist status\npid: \(pid)\nwritten: \(ISO8601DateFormatter().string(from: wallClock))\n"
        text += "ready: \(ready ? "yes" : "no")\n"
        for reason in reasons { text += "reason: \(reason)\n" }
        if let lastError { text += "last error: \(lastError)\n" }
        if let activity { text += "store call: \(activity) (\(Self.seconds(activitySeconds)))\n" }
        return text
    }

    /// `12.3 s`.
    static func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }
}

/// Where a persister's status text is for `chronos status --persist-port`: the error text that
/// metrics cannot carry. `chronos persist` with a fixed metrics port P rewrites
/// `chronos-persist-P.status` in the temporary folder (`TMPDIR`, else `/tmp`) every second and
/// removes it when it exits; `chronos status --persist-port P` on the same host prints its reasons.
public enum PersisterStatusFile {
    /// The file of the persister whose metrics endpoint is `port`.
    public static func path(port: Int) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("chronos-persist-\(port).status").path
    }

    /// The `reason:`, `last error:` and `store call:` lines of the file at `path` (empty when it is
    /// missing or unreadable).
    public static func reasons(at path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init).filter {
            $0.hasPrefix("reason: ") || $0.hasPrefix("last error: ") || $0.hasPrefix("store call: ")
        }
    }
}
