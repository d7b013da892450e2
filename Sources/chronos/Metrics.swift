import ChronosConfig
import EngineService
import Logging
import MetricsEndpoint
import Runtime
import ServiceLifecycle

/// The metrics endpoint of a service process, or nil when disabled.
///
/// - Parameters:
///   - override: `--metrics-port`: a port, 0 for a free one, -1 to disable.
///   - offset: added to the configured port (`chronos engine --shard K` uses 1 + K).
func metricsService(_ exchange: ExchangeConfiguration, override: Int?, offset: Int, logger: Logger)
    -> ServiceGroupConfiguration.ServiceConfiguration?
{
    if override == -1 || (override == nil && !exchange.metrics.enabled) { return nil }
    let port = override ?? (exchange.metrics.port == 0 ? 0 : exchange.metrics.port + offset)
    let registry = Observability.bootstrapPrometheus(microsecondTimers: EngineShard.microsecondTimers)
    return .init(service: MetricsServer(host: exchange.metrics.host, port: port, registry: registry, logger: logger))
}
