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
};

export const DEFAULT_CHART_VERSIONS = Object.fromEntries(Object.entries(CHARTS).map(([name, chart]) => [name, chart.version])) as Record<
    ChartName,
    string
>;
