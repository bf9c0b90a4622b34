// The reviewer's view of a plan: per component, what it creates and the sizes that matter.
// Pure: it reads the validated config and the recorded resources, nothing else.
import { PlatformConfig } from "../config/schema";
import { formatBytes, formatCpu, parseBytes, parseCpu } from "../config/quantities";
import { dataTierSummary } from "../data/summary";
import { loggingSummary } from "../logging/summary";
import { monitoringSummary } from "../monitoring/summary";
import { trafficSummary } from "../traffic/summary";
import { allDashboards, allRuleGroups, operatorUis } from "./catalog";
import { table } from "./table";

/** A registered resource as far as the summary needs it. */
export interface PlannedResource {
    type: string;
    name: string;
}

export interface SummaryInput {
    stack: string;
    config: PlatformConfig;
    resources: PlannedResource[];
    /** Key paths still holding placeholders (allowed in a plan, refused by a deployment). */
    placeholders: string[];
}

/** Requests of all services at their minimum and maximum replica counts. */
export function workloadCapacity(config: PlatformConfig): { minCpu: number; minMemory: number; maxCpu: number; maxMemory: number } {
    let minCpu = 0;
    let minMemory = 0;
    let maxCpu = 0;
    let maxMemory = 0;
    for (const svc of config.services) {
        const cpu = parseCpu(svc.resources.requests.cpu)!;
        const memory = parseBytes(svc.resources.requests.memory)!;
        minCpu += cpu * svc.replicas.min;
        minMemory += memory * svc.replicas.min;
        maxCpu += cpu * svc.replicas.max;
        maxMemory += memory * svc.replicas.max;
    }
    return { minCpu, minMemory, maxCpu, maxMemory };
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
    const capacity = workloadCapacity(config);
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
        `Requested by services: ${formatCpu(capacity.minCpu)} and ${formatBytes(capacity.minMemory)} at minimum replicas, ` +
            `${formatCpu(capacity.maxCpu)} and ${formatBytes(capacity.maxMemory)} at maximum replicas.`,
    ].join("\n");
}

function resourcesSection(resources: PlannedResource[]): string {
    const counts = new Map<string, number>();
    for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const rows = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => [type, n]);
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
        monitoringSummary(config, allRuleGroups(config), allDashboards(config)),
        "",
        dataTierSummary(config),
        "",
        loggingSummary(config),
        "",
        trafficSummary(config, operatorUis(config)),
        "",
        resourcesSection(input.resources),
        "",
    ].join("\n");
}
