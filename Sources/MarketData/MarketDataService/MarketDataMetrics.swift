import Metrics

/// The swift-metrics instruments of one shard's market data (dimension `shard`).
///
/// | metric | kind | meaning |
/// |---|---|---|
/// | `chronos_marketdata_events_applied_total` | counter | engine events applied to the book |
/// | `chronos_marketdata_updates_published_total` | counter | level, trade and best bid/offer updates published |
/// | `chronos_marketdata_snapshots_served_total` | counter | snapshot requests answered with a snapshot |
/// | `chronos_marketdata_snapshots_published_total` | counter | periodic snapshots published |
/// | `chronos_marketdata_bad_requests_total` | counter | snapshot requests refused (malformed, unknown symbol) |
/// | `chronos_marketdata_failed_sends_total` | counter | messages a socket refused or failed to take |
/// | `chronos_marketdata_faults_total` | counter | events the book reported a fault for |
/// | `chronos_marketdata_lost_events_total` | counter | events the shard's journal could no longer replay |
/// | `chronos_marketdata_impaired_symbols` | gauge | symbols whose book may differ from the engine's |
/// | `chronos_marketdata_lag_events` | gauge | the engine's last announced sequence − the last event applied |
struct MarketDataMetrics {
    let eventsApplied: Counter
    let updatesPublished: Counter
    let snapshotsServed: Counter
    let snapshotsPublished: Counter
    let badRequests: Counter
    let failedSends: Counter
    let faults: Counter
    let lostEvents: Counter
    let impairedSymbols: Gauge
    let lag: Gauge

    init(shard: Int) {
        let dimensions = [("shard", String(shard))]
        eventsApplied = Counter(label: "chronos_marketdata_events_applied_total", dimensions: dimensions)
        updatesPublished = Counter(label: "chronos_marketdata_updates_published_total", dimensions: dimensions)
        snapshotsServed = Counter(label: "chronos_marketdata_snapshots_served_total", dimensions: dimensions)
        snapshotsPublished = Counter(label: "chronos_marketdata_snapshots_published_total", dimensions: dimensions)
        badRequests = Counter(label: "chronos_marketdata_bad_requests_total", dimensions: dimensions)
        failedSends = Counter(label: "chronos_marketdata_failed_sends_total", dimensions: dimensions)
        faults = Counter(label: "chronos_marketdata_faults_total", dimensions: dimensions)
        lostEvents = Counter(label: "chronos_marketdata_lost_events_total", dimensions: dimensions)
        impairedSymbols = Gauge(label: "chronos_marketdata_impaired_symbols", dimensions: dimensions)
        lag = Gauge(label: "chronos_marketdata_lag_events", dimensions: dimensions)
    }
}
