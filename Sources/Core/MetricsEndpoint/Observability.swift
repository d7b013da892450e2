import Metrics
import Prometheus

/// Process-wide set-up of metrics: one Prometheus registry behind swift-metrics.
public enum Observability {
    /// Histogram buckets for latencies of microseconds (1 µs … 10 ms), where Prometheus's
    /// default buckets (5 ms … 10 s) would put everything in the first.
    public static let microsecondBuckets: [Duration] = [
        .microseconds(1), .microseconds(2), .microseconds(5), .microseconds(10), .microseconds(20),
        .microseconds(50), .microseconds(100), .microseconds(200), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10),
    ]

    /// Bootstraps swift-metrics with a Prometheus factory (once per process) and returns its
    /// registry. The timers named in `microsecondTimers` get ``microsecondBuckets``.
    public static func bootstrapPrometheus(microsecondTimers: [String] = []) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        for label in microsecondTimers { factory.durationHistogramBuckets[label] = microsecondBuckets }
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
