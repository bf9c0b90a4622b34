// The data tier's ports, as clients, monitors and network policies name them.
export const POSTGRES = 5432;
export const REDIS = 6379;
export const AMQPS = 5671;
export const RABBITMQ_MANAGEMENT_TLS = 15671;

// Where Prometheus scrapes the data tier.
/** PostgreSQL's metrics: CloudNativePG's instance manager (v1.30 pkg/management/url PostgresMetricsPort), and postgres_exporter beside Aurora. */
export const POSTGRES_METRICS = 9187;
/** CloudNativePG's PgBouncer poolers (v1.30 pkg/management/url PgBouncerMetricsPort). */
export const POOLER_METRICS = 9127;
/** redis_exporter. */
export const REDIS_METRICS = 9121;
/** RabbitMQ's Prometheus plugin over TLS: the operator's `prometheus-tls` port when TLS is on (v2.22 internal/resource/service.go). */
export const RABBITMQ_METRICS_TLS = 15691;
