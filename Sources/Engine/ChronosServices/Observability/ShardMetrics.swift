import Metrics

/// The swift-metrics instruments of one engine shard (`shard` dimension), created once before
/// the loop. With `MetricsSystem.bootstrap(PrometheusMetricsFactory(…))` they are exported by
/// ``MetricsServer``; without a bootstrap they do nothing.
///
/// | metric | kind | meaning |
/// |---|---|---|
/// | `chronos_engine_commands_total` | counter | commands that reached the engine |
/// | `chronos_engine_events_total` | counter | events produced (each published and sequenced) |
/// | `chronos_engine_bad_frames_total` | counter | frames that did not decode or were not commands |
/// | `chronos_engine_wrong_shard_total` | counter | orders for another shard's symbol |
/// | `chronos_engine_undelivered_reports_total` | counter | reports a gateway could not be sent |
/// | `chronos_engine_unpublished_events_total` | counter | events the PUB socket refused |
/// | `chronos_engine_replay_requests_total` | counter | retransmission requests answered |
/// | `chronos_engine_last_sequence` | gauge | the shard's last event sequence number |
/// | `chronos_engine_command_seconds` | histogram | decode → match → reports sent, per command |
struct ShardMetrics {
    static let commandDurationLabel = "chronos_engine_command_seconds"

    let commands: Counter
    let events: Counter
    let badFrames: Counter
    let wrongShard: Counter
    let undeliveredReports: Counter
    let unpublishedEvents: Counter
    let replayRequests: Counter
    let lastSequence: Gauge
    let commandDuration: Timer

    init(shard: Int) {
        let dimensions = [("shard", String(shard))]
        commands = Counter(label: "chronos_engine_commands_total", dimensions: dimensions)
        events = Counter(label: "chronos_engine_events_total", dimensions: dimensions)
        badFrames = Counter(label: "chronos_engine_bad_frames_total", dimensions: dimensions)
        wrongShard = Counter(label: "chronos_engine_wrong_shard_total", dimensions: dimensions)
        undeliveredReports = Counter(label: "chronos_engine_undelivered_reports_total", dimensions: dimensions)
        unpublishedEvents = Counter(label: "chronos_engine_unpublished_events_total", dimensions: dimensions)
        replayRequests = Counter(label: "chronos_engine_replay_requests_total", dimensions: dimensions)
        lastSequence = Gauge(label: "chronos_engine_last_sequence", dimensions: dimensions)
        commandDuration = Timer(label: Self.commandDurationLabel, dimensions: dimensions)
    }

    /// Histogram buckets for ``commandDuration``: 1 µs … 10 ms.
    static let commandDurationBuckets: [Duration] = [
        .microseconds(1), .microseconds(2), .microseconds(5), .microseconds(10), .microseconds(20),
        .microseconds(50), .microseconds(100), .microseconds(200), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10),
    ]
}
