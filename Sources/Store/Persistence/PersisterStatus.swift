// What `chronos status` reports of the persistence service, from either source, as pure values and
// text: the store itself (``StoreStatus``: high-water marks and recorded gaps, what stays true
// across restarts, plus the findings of ``StoreIntegrity``) and a running persister's metrics
// (``PersisterMetrics``: since its start, with its readiness and lag). An ALARM line is printed
// for every shard that lost events, and for every other finding (docs/persistence.md, "Status").

/// The store's view: each shard's high-water mark and the ranges recorded as lost.
public struct StoreStatus: Hashable, Sendable {
    public struct Shard: Hashable, Sendable {
        public var id: Int
        /// Every event 1…mark is stored or recorded as lost.
        public var highWaterMark: UInt64
        /// Ranges the engine's retransmission ring could no longer serve.
        public var gaps: [ClosedRange<UInt64>]

        public init(id: Int, highWaterMark: UInt64, gaps: [ClosedRange<UInt64>]) {
            self.id = id
            self.highWaterMark = highWaterMark
            self.gaps = gaps
        }

        /// Events in the recorded gaps.
        public var lostEvents: UInt64 { gaps.reduce(0) { $0 + ($1.upperBound - $1.lowerBound + 1) } }
    }

    public var shards: [Shard]
    /// ALARM lines of ``StoreIntegrity`` (damaged file, missing events, rows against frames, identities).
    public var findings: [String] = []

    public init(shards: [Shard], findings: [String] = []) {
        self.shards = shards
        self.findings = findings
    }

    /// Reads `shards` of `store` (the configured ones) and every other shard the store has.
    public static func read(_ store: any EventStore, shards: [Int]) throws -> StoreStatus {
        StoreStatus(
            shards: try Set(shards).union(try store.storedShards()).sorted().map {
                Shard(id: $0, highWaterMark: try store.highWaterMark(shard: $0), gaps: try store.gaps(shard: $0))
            })
    }

    /// One ALARM line per shard with recorded gaps, then the ``findings`` (empty: the store is
    /// complete up to its marks and sound).
    public var alarms: [String] {
        gapAlarms + findings
    }

    private var gapAlarms: [String] {
        shards.filter { !$0.gaps.isEmpty }.map { shard in
            let ranges = shard.gaps.prefix(5).map { "\($0.lowerBound)…\($0.upperBound)" }.joined(separator: ", ")
            let more = shard.gaps.count > 5 ? " and \(shard.gaps.count - 5) more" : ""
            return
                "ALARM shard \(shard.id): \(shard.lostEvents) events lost, recorded in gaps (sequences \(ranges)\(more))"
        }
    }

    /// Per shard its mark and gaps, then the ALARM lines; `store` names the store.
    public func report(store: String) -> String {
        var text = "chronos status: store \(store)\n"
        for shard in shards {
            let gaps =
                shard.gaps.isEmpty
                ? "no gaps" : "\(shard.gaps.count) gap\(shard.gaps.count == 1 ? "" : "s") (\(shard.lostEvents) events)"
            text += "  shard \(shard.id): high-water mark \(shard.highWaterMark), \(gaps)\n"
        }
        for alarm in alarms { text += alarm + "\n" }
        return text
    }
}

/// A running persister's view, read from its Prometheus exposition (`chronos_persist_*`).
public struct PersisterMetrics: Hashable, Sendable {
    public struct Shard: Hashable, Sendable {
        public var id: Int
        /// `chronos_persist_high_water_mark{shard}`: last contiguous persisted sequence.
        public var highWaterMark: Double = 0
        /// `chronos_persist_lost_events_total{shard}`: events the ring could not serve since the start.
        public var lostEvents: Double = 0
        /// `chronos_persist_rejected_frames_total{shard}`: corrupt, truncated or foreign frames.
        public var rejectedFrames: Double = 0
        /// `chronos_persist_engine_sequence{shard}`: the engine's last announced sequence (nil: not exported).
        public var engineSequence: Double?
        /// `chronos_persist_lag_events{shard}`: engine sequence − high-water mark.
        public var lagEvents: Double = 0
        /// `chronos_persist_lag_stalled_seconds{shard}`: how long announced events have waited unstored.
        public var lagStalledSeconds: Double = 0
        /// `chronos_persist_lag_alarm{shard}`: past `lag_alarm_events` or `lag_alarm_seconds`.
        public var lagAlarm = false
        /// `chronos_persist_sequence_regressions_total{shard}`: the engine's sequence went back.
        public var sequenceRegressions: Double = 0
        /// `chronos_persist_identity_mismatch{shard}`: the store holds the shard under another identity.
        public var identityMismatch = false
    }

    /// By shard id.
    public var shards: [Shard] = []
    /// `chronos_persist_buffer_events`: events read and not yet written.
    public var bufferEvents: Double = 0
    /// `chronos_persist_retries_total`: failed writes or store openings.
    public var retries: Double = 0
    /// `chronos_persist_events_total`: events written in committed transactions.
    public var eventsWritten: Double = 0
    /// Whether the exposition had any `chronos_persist_` sample (false: not a persister).
    public var isPersister = false
    /// `chronos_persist_ready` (nil: a persister that does not export it).
    public var ready: Bool?
    /// `chronos_persist_consecutive_failures`: store calls failed in a row.
    public var consecutiveFailures: Double = 0
    /// `chronos_persist_failing_seconds`: how long the store has been failing.
    public var failingSeconds: Double = 0

    /// Reads the samples of the Prometheus text exposition format that the persister serves.
    public init(exposition: String) {
        var byShard: [Int: Shard] = [:]
        for line in exposition.split(separator: "\n") {
            guard !line.hasPrefix("#"), let sample = Self.sample(line), sample.name.hasPrefix("chronos_persist_")
            else { continue }
            isPersister = true
            let shardID = sample.labels["shard"].flatMap { Int($0) }
            switch (sample.name, shardID) {
            case ("chronos_persist_buffer_events", _): bufferEvents = sample.value
            case ("chronos_persist_retries_total", _): retries = sample.value
            case ("chronos_persist_events_total", _): eventsWritten = sample.value
            case ("chronos_persist_high_water_mark", let id?):
                byShard[id, default: Shard(id: id)].highWaterMark = sample.value
            case ("chronos_persist_lost_events_total", let id?):
                byShard[id, default: Shard(id: id)].lostEvents = sample.value
            case ("chronos_persist_rejected_frames_total", let id?):
                byShard[id, default: Shard(id: id)].rejectedFrames = sample.value
            case ("chronos_persist_ready", _): ready = sample.value != 0
            case ("chronos_persist_consecutive_failures", _): consecutiveFailures = sample.value
            case ("chronos_persist_failing_seconds", _): failingSeconds = sample.value
            case ("chronos_persist_engine_sequence", let id?):
                byShard[id, default: Shard(id: id)].engineSequence = sample.value
            case ("chronos_persist_lag_events", let id?): byShard[id, default: Shard(id: id)].lagEvents = sample.value
            case ("chronos_persist_lag_stalled_seconds", let id?):
                byShard[id, default: Shard(id: id)].lagStalledSeconds = sample.value
            case ("chronos_persist_lag_alarm", let id?):
                byShard[id, default: Shard(id: id)].lagAlarm = sample.value != 0
            case ("chronos_persist_sequence_regressions_total", let id?):
                byShard[id, default: Shard(id: id)].sequenceRegressions = sample.value
            case ("chronos_persist_identity_mismatch", let id?):
                byShard[id, default: Shard(id: id)].identityMismatch = sample.value != 0
            default: break
            }
        }
        shards = byShard.values.sorted { $0.id < $1.id }
    }

    /// The ALARM lines: per shard, events lost since the persister started, a sequence
    /// regression, another identity in the store, a lag past its alarm.
    public var alarms: [String] {
        shards.flatMap { shard -> [String] in
            var alarms: [String] = []
            if shard.lostEvents > 0 {
                alarms.append(
                    "ALARM shard \(shard.id): \(Self.integer(shard.lostEvents)) events lost since the persister started "
                        + "(the engine's retransmission ring no longer had them; recorded in the store's gaps table)")
            }
            if shard.sequenceRegressions > 0 {
                alarms.append(
                    "ALARM shard \(shard.id): sequence regression: its engine numbers again below what is stored "
                        + "(restarted without its history); the persister no longer follows it")
            }
            if shard.identityMismatch {
                alarms.append(
                    "ALARM shard \(shard.id): the store holds this shard under another configuration; it is not persisted"
                )
            }
            if shard.lagAlarm {
                alarms.append(
                    "ALARM shard \(shard.id): the store is \(Self.integer(shard.lagEvents)) events behind the engine, "
                        + "not shrinking for \(Self.integer(shard.lagStalledSeconds.rounded())) s")
            }
            return alarms
        }
    }

    /// Why the persister is not ready (empty when it is, or does not say): from the metrics alone.
    public var notReadyReasons: [String] {
        guard ready == false else { return [] }
        var reasons: [String] = []
        if consecutiveFailures > 0 {
            reasons.append(
                "the store is failing: \(Self.integer(consecutiveFailures)) consecutive failures for "
                    + "\(Self.integer(failingSeconds.rounded())) s, retrying")
        } else if failingSeconds > 0 {
            reasons.append("a store call has not returned for \(Self.integer(failingSeconds.rounded())) s")
        }
        for shard in shards where shard.sequenceRegressions > 0 || shard.identityMismatch {
            reasons.append("shard \(shard.id) is not followed")
        }
        if reasons.isEmpty { reasons.append("starting: the store is not open yet, or not every shard is followed") }
        return reasons
    }

    /// The totals and readiness, per shard its mark, lost events, rejected frames and lag, then the
    /// ALARM lines.
    public func report() -> String {
        var text = "  persister: \(Self.integer(eventsWritten)) events written, buffer \(Self.integer(bufferEvents)) "
        text += "events, \(Self.integer(retries)) retries\n"
        if let ready {
            text += ready ? "  ready\n" : notReadyReasons.map { "  NOT READY: \($0)\n" }.joined()
        }
        for shard in shards {
            text += "  shard \(shard.id): high-water mark \(Self.integer(shard.highWaterMark)), "
            text += "lost \(Self.integer(shard.lostEvents)), rejected frames \(Self.integer(shard.rejectedFrames))"
            if let engineSequence = shard.engineSequence {
                text += ", engine sequence \(Self.integer(engineSequence)), lag \(Self.integer(shard.lagEvents))"
            }
            text += "\n"
        }
        for alarm in alarms { text += alarm + "\n" }
        return text
    }

    /// One sample line: `name{label="value",…} value [timestamp]`.
    static func sample(_ line: Substring) -> (name: Substring, labels: [String: String], value: Double)? {
        let name = line.prefix { $0 != "{" && $0 != " " }
        guard !name.isEmpty else { return nil }
        var rest = line.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            guard let close = rest.lastIndex(of: "}") else { return nil }
            for pair in rest[rest.index(after: rest.startIndex)..<close].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let key = parts[0].trimmingSpaces
                var value = parts[1].trimmingSpaces
                if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                    value = value.dropFirst().dropLast()
                }
                labels[String(key)] = String(value)
            }
            rest = rest[rest.index(after: close)...]
        }
        guard let text = rest.split(separator: " ").first, let value = Double(text) else { return nil }
        return (name, labels, value)
    }

    /// A sample value as an integer when it is one (counters and gauges of counts).
    static func integer(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e18 ? String(Int64(value)) : String(value)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return result
    }
}
