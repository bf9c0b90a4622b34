import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterService, clusterUrl } from "../lib/services";
import { helmRelease } from "../lib/helm";
import { PLATFORM_CRITICAL } from "../lib/priority";
import { PlatformConfig, ServiceConfig } from "../config/schema";

export interface AutoscalingArgs {
    /** Namespace of the autoscaling controllers (created by the caller). */
    namespace: string;
    /** Exact chart versions from `finbot:releases.charts`. */
    chartVersions: PlatformConfig["releases"]["charts"];
    /** Install KEDA (there are queue workers). */
    keda: boolean;
    /** Install metrics-server (CPU/memory metrics for HPAs). */
    metricsServer: boolean;
    /** Skip kubelet certificate checks (laptop clusters such as kind use self-signed kubelet certs). */
    insecureKubeletTls: boolean;
    /**
     * Two replicas of every controller, with disruption budgets (production): a node drain never stops scaling.
     * @default false
     */
    highlyAvailable?: boolean;
    /**
     * Prometheus to read request rates from; prometheus-adapter is installed when set.
     * @default no prometheus-adapter
     */
    prometheus?: ClusterService;
    /** FinBot's services: prometheus-adapter exposes their request rates. */
    services: ServiceConfig[];
}

/** The custom metric an HPA can target: `<requests counter without _total>_per_second`. */
export const requestRateMetric = (service: ServiceConfig) => `${service.slo.sli.requestsMetric.replace(/_total$/, "")}_per_second`;

/** prometheus-adapter rules exposing each services' request rate per pod as a custom metric. */
export function adapterRules(services: ServiceConfig[]): Array<Record<string, unknown>> {
    const counters = [...new Set(services.map((s) => s.slo.sli.requestsMetric))];
    return counters.map((counter) => ({
        seriesQuery: `${counter}{namespace!="",pod!=""}`,
        resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
        name: { matches: `^${counter}$`, as: `${counter.replace(/_total$/, "")}_per_second` },
        metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
    }));
}

/** What HPAs scale on: metrics-server (CPU, memory), prometheus-adapter (requests/s), KEDA (queues). */
export class Autoscaling extends pulumi.ComponentResource {
    /** The KEDA release, when installed: ScaledObjects depend on its CRDs. */
    public readonly keda?: k8s.helm.v3.Release;

    constructor(name: string, args: AutoscalingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:workloads:Autoscaling", name, {}, opts);
        const release = (chart: "metrics-server" | "prometheus-adapter" | "keda", releaseName: string, values: Record<string, unknown>) =>
            helmRelease(
                `${name}-${releaseName}`,
                { chart, version: args.chartVersions[chart], releaseName, namespace: args.namespace, values },
                { parent: this },
            );
        const replicas = args.highlyAvailable ? 2 : 1;
        const budget = { enabled: replicas > 1, minAvailable: 1 };
        if (args.metricsServer) {
            release("metrics-server", "metrics-server", {
                args: args.insecureKubeletTls ? ["--kubelet-insecure-tls"] : [],
                replicas,
                podDisruptionBudget: budget,
                priorityClassName: PLATFORM_CRITICAL,
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
            });
        }
        if (args.prometheus) {
            const { port } = args.prometheus;
            release("prometheus-adapter", "prometheus-adapter", {
                prometheus: { url: clusterUrl(args.prometheus).replace(/:\d+$/, ""), port },
                rules: { default: false, custom: adapterRules(args.services) },
                replicas,
                podDisruptionBudget: { enabled: replicas > 1, maxUnavailable: 1 },
                priorityClassName: PLATFORM_CRITICAL,
                resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
            });
        }
        if (args.keda) {
            // A second operator and metrics server stand by (leader election); only one metrics server
            // answers external.metrics.k8s.io at a time, so while it restarts the HPAs keep their
            // last replica counts for a few seconds. Admission webhooks serve from both replicas.
            const keep = replicas > 1 ? { minAvailable: 1 } : {};
            this.keda = release("keda", "keda", {
                priorityClassName: PLATFORM_CRITICAL,
                operator: { replicaCount: replicas },
                metricsServer: { replicaCount: replicas },
                webhooks: { replicaCount: replicas },
                podDisruptionBudget: { operator: keep, metricServer: keep, webhooks: keep },
                resources: {
                    operator: { requests: { cpu: "50m", memory: "100Mi" }, limits: { memory: "512Mi" } },
                    metricServer: { requests: { cpu: "50m", memory: "100Mi" }, limits: { memory: "512Mi" } },
                    webhooks: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                },
            });
        }
        this.registerOutputs({});
    }
}
