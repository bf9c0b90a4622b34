// The pinned versions: the defaults of `finbot:releases`, read from releases.json (the one place
// they are written; Renovate proposes bumps there). A stack file overrides them only where the
// stack differs; promotion copies dev's effective releases into Pulumi.prod.yaml.
import releases from "./releases.json";

/** A Helm chart the platform installs: where it comes from and the version pinned by default. */
export interface ChartSource {
    /** Helm repository URL, or for an OCI chart the chart reference itself (`oci://...`). */
    repo: string;
    /** Pinned chart version. */
    version: string;
}

/** A release manifest applied as published (no chart upstream), verified against its SHA-256. */
export interface ManifestSource {
    /** GitHub repository publishing the release. */
    repository: string;
    version: string;
    /** File name of the release asset. */
    asset: string;
    /** SHA-256 of the asset, recorded by `npm run manifests:pin`; null until recorded. */
    sha256: string | null;
}

/** Charts by the name used in `finbot:releases.charts` (the upstream chart name). */
export const CHARTS = releases.charts satisfies Record<string, ChartSource>;
export type ChartName = keyof typeof CHARTS;

/** Images the platform itself runs (not FinBot's services, whose images each stack names). */
export const PLATFORM_IMAGES: Record<string, string> = releases.images;

/** Elastic Stack version the ECK operator runs (Elasticsearch, Kibana, Logstash, Beats, APM). */
export const ELASTIC_STACK_VERSION: string = releases.elasticStack;

/** Release manifests by name. */
export const MANIFESTS: Record<"rabbitmq-cluster-operator" | "rabbitmq-messaging-topology-operator", ManifestSource> = releases.manifests;

/** The download URL of a manifest's release asset. */
export const manifestUrl = (m: Pick<ManifestSource, "repository" | "version" | "asset">) =>
    `https://github.com/${m.repository}/releases/download/${m.version}/${m.asset}`;

export const DEFAULT_CHART_VERSIONS = Object.fromEntries(Object.entries(CHARTS).map(([name, chart]) => [name, chart.version])) as Record<
    ChartName,
    string
>;

/**
 * Charts that install another chart's CRDs so that they follow its pin (Helm never upgrades a
 * chart's `crds/` folder): Envoy Gateway's CRDs come from gateway-crds-helm at gateway-helm's version.
 */
export const CRD_CHARTS: Partial<Record<ChartName, { chart: string }>> = {
    "gateway-helm": { chart: "oci://docker.io/envoyproxy/gateway-crds-helm" },
    // Upstream's recommended way: the karpenter-crd chart (CRDs in templates) at karpenter's version.
    karpenter: { chart: "oci://public.ecr.aws/karpenter/karpenter-crd" },
};
