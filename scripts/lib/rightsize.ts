// Right-sizing (npm run rightsize): from measured usage to recommended requests and limits, the
// cost of the change, the report and the edit of the stack file. Pure: no Prometheus, no files.
import YAML, { isAlias, isNode, isScalar } from "yaml";
import { parseBytes, parseCpu } from "../../components/config/quantities";
import { Resources } from "../../components/config/primitives";

/** The rules a recommendation follows; docs/capacity.md ("Right-sizing") states the same. */
export const RULES = {
    /** CPU request: this quantile of the 5-minute CPU rate over the window. */
    cpuQuantile: 0.95,
    /** Memory request and limit: the peak working set plus this many percent. */
    memoryMarginPercent: 15,
    /** CPU is rounded up to a multiple of this many millicores. */
    cpuStepMillicores: 5,
    /** Memory is rounded up to whole MiB. */
    memoryStepBytes: 2 ** 20,
    /** Nothing is recommended below these. */
    cpuFloorMillicores: 10,
    memoryFloorBytes: 32 * 2 ** 20,
    /** Usage is sampled every 5 minutes over the window. */
    stepSeconds: 300,
    /** Data must cover 24 hours of the window, or half of it when the window is shorter than 48 hours. */
    minimumCoverageSeconds: 24 * 3600,
    /** The recorded series are used when they cover this share of the window; otherwise the raw ones when they cover more. */
    recordedShare: 0.9,
};

export const RULES_TEXT =
    `CPU request = p${RULES.cpuQuantile * 100} of the 5-minute CPU rate, rounded up to ${RULES.cpuStepMillicores}m (floor ${RULES.cpuFloorMillicores}m); ` +
    `memory request = limit = peak working set + ${RULES.memoryMarginPercent}%, rounded up to 1Mi (floor ${RULES.memoryFloorBytes / 2 ** 20}Mi); ` +
    `CPU limit unchanged. Usage is the busiest pod's, sampled every 5m.`;

export type Kind = "service" | "worker";

/** A service or worker of the stack file: Deployment, container and `finbot:<kind>s[index]` share the name. */
export interface Workload {
    name: string;
    kind: Kind;
    /** Position in finbot:services or finbot:workers. */
    index: number;
    replicasMin: number;
    resources: Resources;
}

export interface Stats {
    p50: number;
    p95: number;
    max: number;
}

export type Source = "recorded" | "raw";

export interface Usage {
    /** Millicores. */
    cpu: Stats;
    /** Bytes. */
    memory: Stats;
    /** How much of the window the samples cover. */
    coveredSeconds: number;
    source: Source;
}

export interface Recommendation {
    workload: Workload;
    usage: Usage;
    recommended: { requests: { cpu: string; memory: string }; limits: { memory: string } };
    /** Change of the requested capacity's monthly cost at replicas.min, in the price table's currency. */
    monthlyCostDelta: number;
    notes: string[];
}

/** The slice of the price table the cost delta needs (components/traffic/prices/<region>.json). */
export interface CapacityPrices {
    region: string;
    date: string;
    currency: string;
    hoursPerMonth: number;
    ec2VcpuHourly: number;
    ec2GibHourly: number;
}

/** `value` rounded up to a multiple of `step`, ignoring floating-point noise just above a multiple. */
export function roundUp(value: number, step: number): number {
    return Math.ceil(value / step - 1e-6) * step;
}

/** Millicores as a Kubernetes quantity: "145m". */
export function cpuQuantity(millicores: number): string {
    return `${millicores}m`;
}

/** Bytes (whole MiB) as a Kubernetes quantity: "230Mi", or "2Gi" when whole GiB. */
export function memoryQuantity(bytes: number): string {
    const mib = Math.round(bytes / 2 ** 20);
    return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

/** The CPU request for a p95 in millicores: rounded up, at least the floor, at most the CPU limit. */
export function recommendCpu(p95Millicores: number, limit?: string): { millicores: number; note?: string } {
    const wanted = Math.max(RULES.cpuFloorMillicores, roundUp(p95Millicores, RULES.cpuStepMillicores));
    const limitMillicores = limit === undefined ? undefined : parseCpu(limit);
    if (limitMillicores !== undefined && wanted > limitMillicores)
        return {
            millicores: limitMillicores,
            note: `p95 CPU (${Math.round(p95Millicores)}m) is above the CPU limit (${limit}): the request is capped at the limit; raise limits.cpu to let it use more`,
        };
    return { millicores: wanted };
}

/** The memory request (= limit) for a peak working set in bytes: plus the margin, rounded up to MiB, at least the floor. */
export function recommendMemory(peakBytes: number): number {
    return Math.max(RULES.memoryFloorBytes, roundUp((peakBytes * (100 + RULES.memoryMarginPercent)) / 100, RULES.memoryStepBytes));
}

/** How much of a window the data must cover: 24 hours, or half the window when that is shorter. */
export function requiredCoverage(windowSeconds: number): number {
    return Math.min(RULES.minimumCoverageSeconds, windowSeconds / 2);
}

/**
 * Which series to read for a workload: the recorded ones when they cover most of the window (or
 * the raw ones were not asked), else whichever covers more (the recorded ones on a tie).
 */
export function chooseSource(recordedSeconds: number, rawSeconds: number | undefined, windowSeconds: number): Source {
    if (rawSeconds === undefined || recordedSeconds >= RULES.recordedShare * windowSeconds) return "recorded";
    return rawSeconds > recordedSeconds ? "raw" : "recorded";
}

/** Whether the recorded series cover enough of the window that the raw ones need not be asked. */
export function recordedSuffices(recordedSeconds: number, windowSeconds: number): boolean {
    return recordedSeconds >= RULES.recordedShare * windowSeconds;
}

/** "3h", "47.5h": hours, rounded down to a tenth. */
export function formatHours(seconds: number): string {
    return `${Math.floor((seconds / 3600) * 10) / 10}h`;
}

/** Why a workload gets no recommendation, or undefined when its data covers enough of the window. */
export function coverageProblem(name: string, coveredSeconds: number, windowSeconds: number): string | undefined {
    const required = requiredCoverage(windowSeconds);
    if (coveredSeconds >= required) return undefined;
    return `not enough data for ${name}: ${formatHours(coveredSeconds)} of the required ${formatHours(required)}`;
}

/** Change of the monthly cost of what a workload requests at replicas.min. */
export function monthlyCostDelta(
    current: Resources["requests"],
    recommended: Resources["requests"],
    replicas: number,
    prices: CapacityPrices,
): number {
    const vcpu = (parseCpu(recommended.cpu)! - parseCpu(current.cpu)!) / 1000;
    const gib = (parseBytes(recommended.memory)! - parseBytes(current.memory)!) / 2 ** 30;
    return (vcpu * prices.ec2VcpuHourly + gib * prices.ec2GibHourly) * prices.hoursPerMonth * replicas;
}

export function recommend(workload: Workload, usage: Usage, prices: CapacityPrices): Recommendation {
    const cpu = recommendCpu(usage.cpu.p95, workload.resources.limits.cpu);
    const memory = memoryQuantity(recommendMemory(usage.memory.max));
    const requests = { cpu: cpuQuantity(cpu.millicores), memory };
    return {
        workload,
        usage,
        recommended: { requests, limits: { memory } },
        monthlyCostDelta: monthlyCostDelta(workload.resources.requests, requests, workload.replicasMin, prices),
        notes: cpu.note ? [cpu.note] : [],
    };
}

/**
 * What --write will not do on its own. Zero usage is refused always: it is a Prometheus that sees
 * nothing (a renamed container, a broken scrape), not a workload that needs nothing. A cut below
 * the floor, or deeper than the share, needs --force: one bad window must not cut prod's memory
 * from 512Mi to 32Mi.
 */
const WRITE_GUARDS = {
    /** The most one write may cut a value by. */
    maxCutShare: 0.5,
    cpuFloorMillicores: 20,
    memoryFloorBytes: 48 * 2 ** 20,
};

/** Why --write refuses these changes (one line each), or none. */
export function writeRefusals(recommendations: Recommendation[], changes: ResourceChange[], force: boolean): string[] {
    const zero = recommendations
        .filter((rec) => rec.usage.cpu.max === 0 || rec.usage.memory.max === 0)
        .map(
            (rec) =>
                `${rec.workload.name}: zero usage measured (peak CPU ${rec.usage.cpu.max}m, peak memory ${rec.usage.memory.max} bytes): Prometheus sees nothing of it, which is no measure of its need (not written, even with --force)`,
        );
    if (force) return zero;
    const cuts = changes.flatMap((change) => {
        const cpu = change.path[1] === "cpu";
        const parse = cpu ? parseCpu : parseBytes;
        const [before, after] = [parse(change.before)!, parse(change.after)!];
        if (after >= before) return [];
        const what = `${change.workload.name}: resources.${change.path.join(".")} ${change.before} -> ${change.after}`;
        const floor = cpu ? WRITE_GUARDS.cpuFloorMillicores : WRITE_GUARDS.memoryFloorBytes;
        const share = 1 - after / before;
        if (after < floor)
            return [`${what} is below the write floor (${cpu ? cpuQuantity(floor) : memoryQuantity(floor)}); --force writes it`];
        if (share > WRITE_GUARDS.maxCutShare)
            return [`${what} cuts ${Math.round(share * 100)}%, more than ${WRITE_GUARDS.maxCutShare * 100}% at once; --force writes it`];
        return [];
    });
    return [...zero, ...cuts];
}

/** One value to change in the stack file: `resources.<path>` of a workload. */
export interface ResourceChange {
    workload: Workload;
    path: ["requests", "cpu"] | ["requests", "memory"] | ["limits", "memory"];
    before: string;
    after: string;
}

/** The values a recommendation changes (a value equal in quantity, "1" and "1000m", is left alone). */
export function changesOf(rec: Recommendation): ResourceChange[] {
    const { resources } = rec.workload;
    const candidates: Array<[ResourceChange["path"], string, string, (q: string) => number | undefined]> = [
        [["requests", "cpu"], resources.requests.cpu, rec.recommended.requests.cpu, parseCpu],
        [["requests", "memory"], resources.requests.memory, rec.recommended.requests.memory, parseBytes],
        [["limits", "memory"], resources.limits.memory, rec.recommended.limits.memory, parseBytes],
    ];
    return candidates
        .filter(([, before, after, parse]) => parse(before) !== parse(after))
        .map(([path, before, after]) => ({ workload: rec.workload, path, before, after }));
}

const listKey = (kind: Kind) => (kind === "service" ? "finbot:services" : "finbot:workers");

/**
 * The stack file's text with the changed resources written in. Each value is replaced where it
 * stands, so every other byte (comments, flow maps, quoting elsewhere) stays as it was.
 */
export function withResources(text: string, changes: ResourceChange[]): string {
    const doc = YAML.parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
    const edits = changes.map((change) => {
        const item = ["config", listKey(change.workload.kind), change.workload.index];
        const name = doc.getIn([...item, "name"]);
        if (name !== change.workload.name)
            throw new Error(`${listKey(change.workload.kind)}[${change.workload.index}] is not ${change.workload.name} in the stack file`);
        // A value shared through a YAML anchor would change every workload that aliases it.
        const shared = [["resources"], ["resources", change.path[0]], ["resources", ...change.path]]
            .map((p) => doc.getIn([...item, ...p], true))
            .some((n) => isAlias(n) || (isNode(n) && n.anchor !== undefined));
        if (shared)
            throw new Error(
                `${change.workload.name}'s resources use a YAML anchor or alias: change resources.${change.path.join(".")} by hand`,
            );
        const node = doc.getIn([...item, "resources", ...change.path], true);
        if (!isScalar(node) || !node.range)
            throw new Error(`cannot locate ${change.workload.name}'s resources.${change.path.join(".")} in the stack file`);
        return { start: node.range[0], end: node.range[1], value: YAML.stringify(change.after).trim() };
    });
    let out = text;
    for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.value + out.slice(edit.end);
    return out;
}

// ---- the report ----

export interface Report {
    stack: string;
    window: string;
    /** Evaluation time, seconds since the epoch. */
    at: number;
    namespace: string;
    prices: CapacityPrices;
    recommendations: Recommendation[];
    /** What each workload costs now at OpenCost's prices, a month at this pace (empty without OpenCost). */
    liveMonthlyCost?: Record<string, number>;
}

const mcores = (m: number) => `${Math.round(m)}m`;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)}Mi`;

/** The `--json` document. */
export function reportJson(report: Report): object {
    return {
        stack: report.stack,
        window: report.window,
        recommendations: report.recommendations.map((r) => ({
            name: r.workload.name,
            kind: r.workload.kind,
            container: r.workload.name,
            current: {
                requests: { ...r.workload.resources.requests },
                limits: { ...r.workload.resources.limits },
            },
            recommended: r.recommended,
            usage: {
                cpuMillicores: roundStats(r.usage.cpu, 1),
                memoryBytes: roundStats(r.usage.memory, 0),
                coveredHours: Math.floor((r.usage.coveredSeconds / 3600) * 10) / 10,
                source: r.usage.source,
            },
        })),
    };
}

function roundStats(stats: Stats, digits: number): Stats {
    const f = 10 ** digits;
    return { p50: Math.round(stats.p50 * f) / f, p95: Math.round(stats.p95 * f) / f, max: Math.round(stats.max * f) / f };
}

/** A Markdown table with its columns padded, readable in a terminal and in a pull request. */
export function alignedTable(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

export function signedMoney(amount: number, currency: string): string {
    const rounded = Math.round(amount * 100) / 100;
    return `${rounded > 0 ? "+" : rounded < 0 ? "-" : "±"}${Math.abs(rounded).toFixed(2)} ${currency}`;
}

/** The human report: what was measured, the table, the notes and the total cost change. */
export function renderReport(report: Report): string {
    const { prices } = report;
    const rows = report.recommendations.map((r) => {
        const { requests, limits } = r.workload.resources;
        const changed = changesOf(r).length > 0;
        return [
            r.workload.name,
            r.workload.kind,
            String(r.workload.replicasMin),
            `${requests.cpu} / ${requests.memory}`,
            `${limits.cpu ?? "none"} / ${limits.memory}`,
            `${mcores(r.usage.cpu.p50)} / ${mcores(r.usage.cpu.p95)} / ${mcores(r.usage.cpu.max)}`,
            `${mib(r.usage.memory.p50)} / ${mib(r.usage.memory.p95)} / ${mib(r.usage.memory.max)}`,
            `${formatHours(r.usage.coveredSeconds)} ${r.usage.source}`,
            changed ? `${r.recommended.requests.cpu} / ${r.recommended.requests.memory}` : "unchanged",
            changed ? `${limits.cpu ?? "none"} / ${r.recommended.limits.memory}` : "unchanged",
            signedMoney(r.monthlyCostDelta, prices.currency),
        ];
    });
    const total = report.recommendations.reduce((sum, r) => sum + r.monthlyCostDelta, 0);
    const notes = report.recommendations.flatMap((r) => r.notes.map((n) => `- ${r.workload.name}: ${n}`));
    return [
        `Right-sizing of stack ${report.stack}, namespace ${report.namespace}, over ${report.window} up to ${new Date(report.at * 1000).toISOString().replace(".000Z", "Z")}`,
        RULES_TEXT,
        "",
        alignedTable(
            [
                "workload",
                "kind",
                "replicas.min",
                "requests now (cpu / memory)",
                "limits now (cpu / memory)",
                "CPU p50 / p95 / max",
                "memory p50 / p95 / max",
                "data",
                "recommended requests (cpu / memory)",
                "recommended limits (cpu / memory)",
                "Δ cost / month",
            ],
            rows,
        ),
        ...(notes.length ? ["", ...notes] : []),
        "",
        `Δ requested cost: ${signedMoney(total, prices.currency)} a month at replicas.min ` +
            `(${prices.region} prices of ${prices.date}: ${prices.ec2VcpuHourly}/vCPU-hour, ${prices.ec2GibHourly}/GiB-hour, ${prices.hoursPerMonth} hours a month)`,
        liveCostLine(report),
    ].join("\n");
}

/** The live cost beside the estimate: OpenCost's allocation cost of each workload now, at a monthly pace. */
function liveCostLine(report: Report): string {
    const live = Object.entries(report.liveMonthlyCost ?? {}).filter(([name]) =>
        report.recommendations.some((r) => r.workload.name === name),
    );
    if (live.length === 0) return "Live cost: no OpenCost series in this Prometheus (finbot:monitoring.cost installs OpenCost).";
    return `Live cost now (OpenCost, a month at this pace): ${live.map(([name, usd]) => `${name} ${usd.toFixed(2)} USD`).join(", ")}.`;
}

/** "api: resources.requests.cpu 50m -> 145m" lines of what --write changes. */
export function renderChanges(changes: ResourceChange[]): string[] {
    return changes.map((c) => `${c.workload.name}: resources.${c.path.join(".")} ${c.before} -> ${c.after}`);
}

/** Seconds since the epoch of `--at`: RFC 3339 ("2025-01-15T00:00:00Z") or Unix seconds; undefined when neither. */
export function parseAt(value: string): number | undefined {
    if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
    if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms / 1000;
}
