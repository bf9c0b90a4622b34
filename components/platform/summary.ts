// The reviewer's view of a plan: per component, what it creates and the sizes that matter.
// Pure: it reads the validated config and the recorded resources, nothing else.
import { PlatformConfig } from "../config/schema";
import { formatBytes, formatCpu } from "../config/quantities";
import { dataTierSummary } from "../data/summary";
import { totalRequests } from "../lib/footprint";
import { loggingSummary } from "../logging/summary";
import { monitoringSummary } from "../monitoring/summary";
import { trafficSummary } from "../traffic/summary";
import type { Platform } from ".";
import { byText, table } from "../lib/markdown";

/** A registered resource as far as the summary needs it. */
export interface PlannedResource {
    type: string;
    name: string;
}

export interface SummaryInput {
    stack: string;
    config: PlatformConfig;
    /** The built platform: its components declare what they run. */
    platform: Platform;
    resources: PlannedResource[];
    /** Key paths still holding placeholders (allowed in a plan, refused by a deployment). */
    placeholders: string[];
}

function workloadsSection(config: PlatformConfig): string {
    if (config.services.length === 0) return "## Workloads\n\nNo services configured.";
    const rows = config.services.map((svc) => [
        svc.name,
        config.releases.images[svc.image],
        `${svc.replicas.min}–${svc.replicas.max}`,
        `cpu ${svc.targets.cpuPercent}%, memory ${svc.targets.memoryPercent}%`,
        `${svc.resources.requests.cpu} / ${svc.resources.requests.memory}`,
        `${svc.resources.limits.cpu ?? "none"} / ${svc.resources.limits.memory}`,
        `+max(${svc.scaling.scaleUp.percent}%, ${svc.scaling.scaleUp.pods} pods)/${svc.scaling.scaleUp.periodSeconds}s`,
        `-${svc.scaling.scaleDown.percent}%/${svc.scaling.scaleDown.periodSeconds}s after ${svc.scaling.scaleDown.stabilizationSeconds}s`,
        svc.replicas.max > 1 ? "maxUnavailable 1" : "none",
        `${svc.slo.availability}% available, ${svc.slo.latency.percent}% < ${svc.slo.latency.thresholdSeconds}s`,
    ]);
    const at = (replicas: "min" | "max") =>
        totalRequests(config.services.map((s) => ({ part: s.name, pods: s.replicas[replicas], ...s.resources.requests })));
    const [min, max] = [at("min"), at("max")];
    return [
        "## Workloads (AutoscaledService)",
        "",
        table(
            [
                "service",
                "image",
                "HPA replicas",
                "HPA targets",
                "requests cpu / memory",
                "limits cpu / memory",
                "scale up",
                "scale down",
                "PDB",
                "SLO",
            ],
            rows,
        ),
        "",
        `Requested by services: ${formatCpu(min.millicores)} and ${formatBytes(min.bytes)} at minimum replicas, ` +
            `${formatCpu(max.millicores)} and ${formatBytes(max.bytes)} at maximum replicas.`,
    ].join("\n");
}

/**
 * What the platform's own observability (monitoring, logging, the node agents) requests of
 * everything the stack plans (services and workers at their minimum replicas), against the ceiling
 * FinbotObservabilityOverheadHigh watches in the running cluster.
 */
export function observabilityShare(platform: Platform, config: PlatformConfig): { cpu: number; memory: number } {
    const all = totalRequests(platform.footprint(config).requests);
    const own = totalRequests([...(platform.monitoring?.footprint.requests ?? []), ...(platform.logging?.footprint.requests ?? [])]);
    return { cpu: all.millicores > 0 ? own.millicores / all.millicores : 0, memory: all.bytes > 0 ? own.bytes / all.bytes : 0 };
}

function observabilitySection(platform: Platform, config: PlatformConfig): string {
    if (!config.monitoring.enabled && !config.logging.enabled) return "";
    const share = observabilityShare(platform, config);
    const ceiling = config.monitoring.overheadCeilingPercent / 100;
    const percent = (x: number) => `${(x * 100).toFixed(0)}%`;
    const over = [share.cpu > ceiling ? "CPU" : "", share.memory > ceiling ? "memory" : ""].filter(Boolean);
    return [
        "## Monitoring overhead",
        "",
        `Monitoring and logging request ${percent(share.cpu)} of the CPU and ${percent(share.memory)} of the memory this stack plans ` +
            `(services and workers at their minimum replicas); the ceiling is ${percent(ceiling)} (finbot:monitoring.overheadCeilingPercent, ` +
            `FinbotObservabilityOverheadHigh in the running cluster)` +
            (over.length > 0 ? `: **over it for ${over.join(" and ")}** at minimum replicas.` : "."),
    ].join("\n");
}

function resourcesSection(resources: PlannedResource[]): string {
    const counts = new Map<string, number>();
    for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const rows = [...counts.entries()].sort(([a], [b]) => byText(a, b)).map(([type, n]) => [type, n]);
    return ["## Resources by type", "", table(["type", "count"], rows), "", `${resources.length} resources in all.`].join("\n");
}

/** The whole summary.md. */
export function renderSummary(input: SummaryInput): string {
    const { config } = input;
    const header = [
        `# Plan of stack \`${input.stack}\` (${config.environment})`,
        "",
        table(
            ["namespace", "name"],
            Object.entries(config.namespaces).map(([area, name]) => [area, name]),
        ),
    ];
    if (input.placeholders.length > 0) {
        header.push(
            "",
            `**Placeholders to replace before deploying** (a real \`pulumi up\` refuses them): ${input.placeholders.map((p) => `\`${p}\``).join(", ")}`,
        );
    }
    return [
        ...header,
        "",
        workloadsSection(config),
        "",
        monitoringSummary(config, input.platform.monitoring),
        "",
        dataTierSummary(config, input.platform.dataTier),
        "",
        loggingSummary(config, input.platform.logging),
        "",
        trafficSummary(config, input.platform.traffic?.uis ?? [], input.platform.footprint(config)),
        "",
        observabilitySection(input.platform, config),
        "",
        resourcesSection(input.resources),
        "",
    ].join("\n");
}
