// The one place where chart and image versions are pinned. These are the defaults of
// `finbot:releases`; a stack file overrides them, and promotion moves them from dev to prod.

/** A Helm chart the platform installs: where it comes from and the version pinned by default. */
export interface ChartSource {
    /** Helm repository URL (or an `oci://` registry path, then `chart` is appended to it). */
    repo: string;
    /** Pinned chart version. */
    version: string;
}

/** Charts by the name used in `finbot:releases.charts` (the upstream chart name). */
export const CHARTS = {
    "kube-prometheus-stack": { repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3" },
    "prometheus-blackbox-exporter": {
        repo: "https://prometheus-community.github.io/helm-charts",
        version: "11.17.2",
    },
    "cloudnative-pg": { repo: "https://cloudnative-pg.github.io/charts", version: "0.29.0" },
    keda: { repo: "https://kedacore.github.io/charts", version: "2.20.2" },
    "eck-operator": { repo: "https://helm.elastic.co", version: "3.5.0" },
    "cert-manager": { repo: "https://charts.jetstack.io", version: "v1.21.1" },
    // An OCI chart: `repo` is the chart reference itself.
    "gateway-helm": { repo: "oci://docker.io/envoyproxy/gateway-helm", version: "v1.9.0" },
    "metrics-server": { repo: "https://kubernetes-sigs.github.io/metrics-server/", version: "3.13.1" },
    "prometheus-adapter": { repo: "https://prometheus-community.github.io/helm-charts", version: "5.3.0" },
    "prometheus-pushgateway": { repo: "https://prometheus-community.github.io/helm-charts", version: "3.8.0" },
    "prometheus-elasticsearch-exporter": { repo: "https://prometheus-community.github.io/helm-charts", version: "7.4.0" },
} as const satisfies Record<string, ChartSource>;

export type ChartName = keyof typeof CHARTS;

/**
 * Images the platform itself runs (not FinBot's services), by key of `finbot:releases.images`.
 * FinBot's service images are added per stack.
 */
export const PLATFORM_IMAGES: Record<string, string> = {
    // A small public HTTP service with health endpoints and Prometheus metrics: the stand-in
    // for FinBot's API until its own image is published.
    podinfo: "ghcr.io/stefanprodan/podinfo:6.9.2",
    // CloudNativePG's PostgreSQL operand image.
    postgresql: "ghcr.io/cloudnative-pg/postgresql:17.6",
    redis: "docker.io/library/redis:8.2.2",
    "redis-exporter": "docker.io/oliver006/redis_exporter:v1.88.0",
    "postgres-exporter": "quay.io/prometheuscommunity/postgres-exporter:v0.20.1",
    rabbitmq: "docker.io/library/rabbitmq:4.1.4-management",
    // Runs the idempotent Elasticsearch API calls (lifecycle policy, index template).
    curl: "docker.io/curlimages/curl:8.17.0",
    k6: "docker.io/grafana/k6:2.2.0",
};

/** Elastic Stack version the ECK operator runs (Elasticsearch, Kibana, Logstash, Beats, APM). */
export const ELASTIC_STACK_VERSION = "9.4.3";

/** Release manifests applied as they are published (no chart upstream); pinned by version in the URL. */
export const MANIFESTS = {
    "rabbitmq-cluster-operator": {
        version: "v2.22.3",
        url: (version: string) => `https://github.com/rabbitmq/cluster-operator/releases/download/${version}/cluster-operator.yml`,
    },
};

export const DEFAULT_CHART_VERSIONS = Object.fromEntries(Object.entries(CHARTS).map(([name, chart]) => [name, chart.version])) as Record<
    ChartName,
    string
>;
