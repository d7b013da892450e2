// What `chronos status` reports of the persistence service, from either source, as pure values and
// text: the store itself (``StoreStatus``: high-water marks and recorded gaps, what stays true
// across restarts) and a running persister's metrics (``PersisterMetrics``: since its start). An
// ALARM line is printed for every shard that lost events (docs/persistence.md, "Status").

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

    public init(shards: [Shard]) { self.shards = shards }

    /// Reads `shards` of `store` (the configured ones) and every other shard the store has.
    public static func read(_ store: any EventStore, shards: [Int]) throws -> StoreStatus {
        StoreStatus(
            shards: try Set(shards).union(try store.storedShards()).sorted().map {
                Shard(id: $0, highWaterMark: try store.highWaterMark(shard: $0), gaps: try store.gaps(shard: $0))
            })
    }

    /// One ALARM line per shard with recorded gaps (empty: the store is complete up to its marks).
    public var alarms: [String] {
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
            default: break
            }
        }
        shards = byShard.values.sorted { $0.id < $1.id }
    }

    /// One ALARM line per shard that lost events since the persister started.
    public var alarms: [String] {
        shards.filter { $0.lostEvents > 0 }.map { shard in
            "ALARM shard \(shard.id): \(Self.integer(shard.lostEvents)) events lost since the persister started "
                + "(the engine's retransmission ring no longer had them; recorded in the store's gaps table)"
        }
    }

    /// The totals, per shard its mark, lost events and rejected frames, then the ALARM lines.
    public func report() -> String {
        var text = "  persister: \(Self.integer(eventsWritten)) events written, buffer \(Self.integer(bufferEvents)) "
        text += "events, \(Self.integer(retries)) retries\n"
        for shard in shards {
            text += "  shard \(shard.id): high-water mark \(Self.integer(shard.highWaterMark)), "
            text += "lost \(Self.integer(shard.lostEvents)), rejected frames \(Self.integer(shard.rejectedFrames))\n"
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
