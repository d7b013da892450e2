import Metrics

/// The swift-metrics instruments of one engine shard (`shard` dimension), created once before
/// the loop. With `MetricsSystem.bootstrap(PrometheusMetricsFactory(…))` they are exported by
/// `MetricsServer` (MetricsEndpoint); without a bootstrap they do nothing.
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
/// | `chronos_engine_command_seconds` | histogram | decode → match → journal → reports sent, per command |
/// | `chronos_engine_journal_failures_total` | counter | events the journal could not take (the shard stops) |
/// | `chronos_engine_snapshot_failures_total` | counter | snapshots that could not be written |
/// | `chronos_engine_snapshot_sequence` | gauge | the last event the newest snapshot includes |
/// | `chronos_engine_snapshot_seconds` | timer | writing one snapshot (serialize, write, sync) |
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
    let journalFailures: Counter
    let snapshotFailures: Counter
    let snapshotSequence: Gauge
    let snapshotDuration: Timer

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
        journalFailures = Counter(label: "chronos_engine_journal_failures_total", dimensions: dimensions)
        snapshotFailures = Counter(label: "chronos_engine_snapshot_failures_total", dimensions: dimensions)
        snapshotSequence = Gauge(label: "chronos_engine_snapshot_sequence", dimensions: dimensions)
        snapshotDuration = Timer(label: "chronos_engine_snapshot_seconds", dimensions: dimensions)
    }

    /// Histogram buckets for ``commandDuration``: 1 µs … 10 ms.
}
