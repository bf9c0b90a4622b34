// How much one scrape may bring into Prometheus. One label explosion in a target (a user id or a
// URL in a label) would otherwise grow Prometheus' head until it runs out of memory, taking every
// alert with it. Each ServiceMonitor, PodMonitor and Probe of the platform carries a sample limit
// sized for its target, and Prometheus enforces a ceiling over every scrape, the charts' own
// monitors included. A scrape over its limit fails as a whole (its `up` is 0) and counts in
// prometheus_target_scrapes_exceeded_sample_limit_total, which the chart's
// PrometheusScrapeSampleLimitHit reads.
// Sizing (docs/monitoring-overhead.md): what one scrape of the target emits, estimated from its
// exporter's metric families and this platform's label sets, times about four for growth. Pure.

export interface ScrapeLimits {
    /** Samples one scrape may return (after relabelling). */
    sampleLimit: number;
    /** Labels one sample may carry. */
    labelLimit: number;
    labelNameLengthLimit: number;
    labelValueLengthLimit: number;
}

const LABELS = { labelLimit: 40, labelNameLengthLimit: 128, labelValueLengthLimit: 1024 };

/** Per kind of target: the samples of one scrape it is sized for (see the sizing above). */
export const SCRAPE_LIMITS = {
    /** A FinBot service (podinfo: Go runtime and process, HTTP request histograms by status and path). */
    service: { sampleLimit: 4000, ...LABELS },
    /** postgres_exporter or CloudNativePG's exporter: settings, database stats, the top pg_stat_statements. */
    postgres: { sampleLimit: 8000, ...LABELS },
    /** PgBouncer's metrics through CloudNativePG's pooler: pools, stats and lists per database and user. */
    pgbouncer: { sampleLimit: 2000, ...LABELS },
    /** redis_exporter: server info, keyspace and command stats. */
    redis: { sampleLimit: 4000, ...LABELS },
    /** RabbitMQ's aggregated /metrics: node, queues, connections and channels in total. */
    rabbitmq: { sampleLimit: 8000, ...LABELS },
    /**
     * The egress gateway's Envoy, kept to the third-party metrics: about 28 samples per upstream
     * cluster (requests, 5 response classes, a 20-bucket latency histogram, bytes both ways) for each
     * provider and Envoy's own half-dozen clusters, and the rate limit's counter: a few hundred.
     */
    egress: { sampleLimit: 2000, ...LABELS },
    /**
     * The checks' receiver, federated for k6_ series: per page two p75s, per load-tested service
     * about 30 (requests, failures, duration quantiles by status), a few hundred in all.
     */
    federation: { sampleLimit: 2000, ...LABELS },
    /** cert-manager's controller: per certificate its expiry, readiness and renewal time, and the controller's sync counts and Go runtime. */
    certManager: { sampleLimit: 2000, ...LABELS },
    /** A blackbox probe: a few dozen samples about one request. */
    probe: { sampleLimit: 200, ...LABELS },
} satisfies Record<string, ScrapeLimits>;

/** Prometheus-wide ceilings: no monitor, the charts' own included, may allow more. */
export const ENFORCED_SCRAPE_LIMITS: ScrapeLimits = {
    sampleLimit: 50000,
    labelLimit: 64,
    labelNameLengthLimit: 256,
    labelValueLengthLimit: 2048,
};
