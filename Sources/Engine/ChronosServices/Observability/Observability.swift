import Metrics
import Prometheus

/// Process-wide set-up of metrics: one Prometheus registry behind swift-metrics.
public enum Observability {
    /// Bootstraps swift-metrics with a Prometheus factory (once per process) and returns its registry.
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[ShardMetrics.commandDurationLabel] = ShardMetrics.commandDurationBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
