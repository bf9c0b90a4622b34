// Alerts on the platform itself, beyond kube-prometheus-stack's defaults: autoscaling at its
// ceiling, memory-leak trends, volumes filling up, latency regressions against last week and
// certificates about to expire. Pure: config in, rule groups out.
import { ServiceConfig } from "../config/schema";
import { RuleGroup, anyOf, selector } from "./rules";
import { usageRecordingRules } from "./usageRules";

export interface PlatformRuleArgs {
    /** Namespace of FinBot's services. */
    appsNamespace: string;
    /** Namespaces whose persistent volumes are watched. */
    volumeNamespaces: string[];
    /** FinBot's services: regression rules per service. */
    services: ServiceConfig[];
    /** cert-manager issues certificates (the traffic area is on). */
    certificates: boolean;
    /** Prometheus' memory limit: how many head series it holds. */
    prometheusMemoryLimitBytes: number;
    /** Namespaces of monitoring, logging and the node agents: their share of the cluster's requests is watched. */
    observabilityNamespaces: string[];
    /** finbot:monitoring.overheadCeilingPercent. */
    overheadCeilingPercent: number;
    /**
     * Services probed from outside in as well (their edge probe must report too).
     * @default none
     */
    edgeServices?: string[];
}

/** Autoscaling and capacity: an HPA stuck at maxReplicas means the next spike is not absorbed. */
export function autoscalingRules(appsNamespace: string): RuleGroup {
    const ns = selector({ namespace: appsNamespace });
    return {
        name: "finbot-autoscaling",
        rules: [
            {
                alert: "FinbotHPAAtMaxReplicas",
                expr:
                    `label_replace(kube_horizontalpodautoscaler_status_current_replicas${ns} ` +
                    `>= on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_max_replicas${ns}, ` +
                    `"service", "$1", "horizontalpodautoscaler", "(.*)")`,
                for: "30m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "{{ $labels.service }} has run at its maximum replicas for 30 minutes",
                    description:
                        "The HPA of {{ $labels.service }} cannot add replicas: raise replicas.max (check node capacity) or find what drives the load.",
                    runbook: "capacity" as const,
                },
            },
        ],
    };
}

/** Memory: a working set rising steadily for hours that will reach the limit (leak in a long-running process). */
export function memoryLeakRules(appsNamespace: string): RuleGroup {
    const containers = selector({ namespace: appsNamespace, container: "~.+", image: "~.+" });
    const workingSet = `container_memory_working_set_bytes${containers}`;
    return {
        name: "finbot-memory",
        rules: [
            {
                alert: "FinbotMemoryLeakSuspected",
                expr:
                    `label_replace(` +
                    `(predict_linear(${workingSet}[6h], 4 * 3600) > on (namespace, pod, container) group_left ` +
                    `max by (namespace, pod, container) (kube_pod_container_resource_limits${selector({ namespace: appsNamespace, resource: "memory" })})) ` +
                    `and on (namespace, pod, container) (deriv(${workingSet}[6h]) > 0), ` +
                    `"service", "$1", "container", "(.*)")`,
                for: "1h",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "{{ $labels.pod }} memory has grown for 6h and will reach its limit within 4h",
                    description:
                        "The working set of {{ $labels.container }} in {{ $labels.pod }} keeps rising; at this trend it is OOM-killed within 4 hours. Take a heap profile before it restarts.",
                    runbook: "memory-leak" as const,
                },
            },
        ],
    };
}

/** Disk: persistent volumes of the platform's namespaces filling up. */
export function volumeRules(namespaces: string[]): RuleGroup {
    const ns = selector({ namespace: anyOf(namespaces) });
    const freeRatio = `kubelet_volume_stats_available_bytes${ns} / kubelet_volume_stats_capacity_bytes${ns}`;
    const rule = (severity: "page" | "ticket", free: number, hours: number, forDuration: string) => ({
        alert: "FinbotVolumeFillingUp",
        expr: `(${freeRatio} < ${free}) and (predict_linear(kubelet_volume_stats_available_bytes${ns}[6h], ${hours} * 3600) < 0)`,
        for: forDuration,
        labels: { severity },
        annotations: {
            summary: `Volume {{ $labels.persistentvolumeclaim }} is ${Math.round((1 - free) * 100)}% full and fills within ${hours}h`,
            description:
                "{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} free and the trend of the last 6h fills it. Grow the volume or shorten retention.",
            runbook: "disk" as const,
        },
    });
    return { name: "finbot-volumes", rules: [rule("ticket", 0.15, 24, "1h"), rule("page", 0.05, 4, "15m")] };
}

/** Performance regression: p95 latency now against the same time last week. */
export function regressionRules(services: ServiceConfig[], appsNamespace: string): RuleGroup {
    return {
        name: "finbot-regressions",
        rules: services.map((service) => {
            const target = selector({ namespace: appsNamespace, service: service.name });
            const p95 = (offset: string) =>
                `histogram_quantile(0.95, sum by (le) (rate(${service.slo.sli.durationMetric}_bucket${target}[30m]${offset})))`;
            return {
                alert: "FinbotLatencyRegression",
                expr: `(${p95("")} > 1.5 * ${p95(" offset 1w")}) and (sum(rate(${service.slo.sli.requestsMetric}${target}[30m])) > 1)`,
                for: "30m",
                labels: { severity: "ticket", service: service.name },
                annotations: {
                    summary: `${service.name}: p95 latency is 50% above the same time last week`,
                    description: `p95 latency of ${service.name} is {{ $value | humanizeDuration }}, more than 1.5x last week's at this hour. Compare releases deployed since.`,
                    runbook: "latency-regression" as const,
                },
            };
        }),
    };
}

/** Certificates cert-manager manages (the gateway's): renewal failing long enough to matter. */
export function certificateRules(): RuleGroup {
    const remaining = "certmanager_certificate_expiration_timestamp_seconds - time()";
    const rule = (severity: "page" | "ticket", days: number) => ({
        alert: "FinbotCertificateExpiresSoon",
        expr: `${remaining} < ${days} * 86400`,
        for: "1h",
        labels: { severity },
        annotations: {
            summary: `Certificate {{ $labels.namespace }}/{{ $labels.name }} expires within ${days} days`,
            description:
                "cert-manager renews 30 days ahead, so renewal is failing: {{ $value | humanizeDuration }} left. Check the Certificate's and the ACME order's status.",
            runbook: "certificates" as const,
        },
    });
    return { name: "finbot-certificates", rules: [rule("ticket", 14), rule("page", 3)] };
}

/**
 * A public service's uptime probe that stops reporting (the blackbox exporter or its Probe gone)
 * would hide an outage from the uptime SLO: page when the series is absent.
 */
export function probePresenceRules(services: ServiceConfig[], edgeServices: string[] = []): RuleGroup {
    const probed = [
        ...services.filter((s) => s.public).map((s) => ({ job: "uptime", service: s.name })),
        ...[...new Set(edgeServices)].map((service) => ({ job: "uptime-edge", service })),
    ];
    return {
        name: "finbot-uptime-probes",
        rules: probed.map((s) => ({
            alert: "FinbotUptimeProbeMissing",
            expr: `absent(probe_success${selector(s)})`,
            for: "5m",
            labels: { severity: "page", job: s.job },
            annotations: {
                summary: `No ${s.job} probe result for ${s.service}`,
                description: "The blackbox exporter or its Probe is gone: an outage of the service would not page.",
                runbook: "slo-burn" as const,
            },
        })),
    };
}

/** Memory a head series costs Prometheus, with what queries and compaction take beside it (a generous estimate). */
const BYTES_PER_HEAD_SERIES = 8 * 1024;

/** The head series a Prometheus with this memory limit holds before it runs short: 80% of limit / bytes per series. */
export function headSeriesBudget(memoryLimitBytes: number): number {
    return Math.floor((0.8 * memoryLimitBytes) / BYTES_PER_HEAD_SERIES);
}

/**
 * Monitoring overhead: the head growing toward what Prometheus' memory holds (a label explosion
 * that the scrape limits let through a little at a time). Scrapes over their limits are the
 * chart's PrometheusScrapeSampleLimitHit and PrometheusLabelLimitHit (kube-prometheus' mixin).
 */
/** Monitoring, logging and the node agents' share of the cluster's requested CPU and memory, by `resource`. */
export const OBSERVABILITY_SHARE = "finbot:observability_requests:share";

export function overheadRules(
    args: Pick<PlatformRuleArgs, "prometheusMemoryLimitBytes" | "observabilityNamespaces" | "overheadCeilingPercent">,
): RuleGroup {
    const budget = headSeriesBudget(args.prometheusMemoryLimitBytes);
    const requests = (namespaces?: string[]) =>
        `sum by (resource) (kube_pod_container_resource_requests${selector({ resource: "~cpu|memory", ...(namespaces ? { namespace: anyOf(namespaces) } : {}) })})`;
    return {
        name: "finbot-monitoring-overhead",
        rules: [
            { record: OBSERVABILITY_SHARE, expr: `${requests(args.observabilityNamespaces)} / ${requests()}` },
            {
                alert: "FinbotObservabilityOverheadHigh",
                expr: `${OBSERVABILITY_SHARE} > ${args.overheadCeilingPercent / 100}`,
                for: "1h",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "Monitoring and logging request {{ $value | humanizePercentage }} of the cluster's {{ $labels.resource }}",
                    description: `Over the ceiling of ${args.overheadCeilingPercent}% (finbot:monitoring.overheadCeilingPercent) for an hour: the platform's own observability crowds out FinBot. The Autoscaling and capacity dashboard shows which part grew.`,
                    runbook: "monitoring-overhead" as const,
                },
            },
            {
                alert: "FinbotPrometheusHeadSeriesHigh",
                expr: `max by (namespace, pod) (prometheus_tsdb_head_series{job="kube-prometheus-stack-prometheus"}) > ${budget}`,
                for: "30m",
                labels: { severity: "ticket" },
                annotations: {
                    summary: "Prometheus {{ $labels.pod }} holds {{ $value }} series, near what its memory holds",
                    description: `Over ${budget} head series (80% of the memory limit at ${BYTES_PER_HEAD_SERIES / 1024} KiB a series): find the job that grew on the Monitoring overhead panel before Prometheus runs out of memory.`,
                    runbook: "monitoring-overhead" as const,
                },
            },
        ],
    };
}

/** The platform's health rule groups (autoscaling, memory, volumes, ...), which the monitoring area serves. */
export function platformHealthRuleGroups(args: PlatformRuleArgs): RuleGroup[] {
    return [
        autoscalingRules(args.appsNamespace),
        memoryLeakRules(args.appsNamespace),
        volumeRules(args.volumeNamespaces),
        regressionRules(args.services, args.appsNamespace),
        ...(args.certificates ? [certificateRules()] : []),
        probePresenceRules(args.services, args.edgeServices),
        overheadRules(args),
        // What npm run rightsize reads over 7-14 days without re-joining cAdvisor with kube-state-metrics.
        usageRecordingRules(args.appsNamespace),
    ].filter((group) => group.rules.length > 0);
}
