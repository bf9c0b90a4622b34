// npm run rightsize -- --stack <name> | --config <file> --prometheus-url <url> [--window 7d] [--json] [--write [--force]] [--at <time>]
// Recommends CPU and memory requests and limits for each service and worker of a stack from what
// its containers used over a window (Prometheus: cAdvisor and kube-state-metrics, or the
// finbot-usage recording rules), with the change in requested cost. --write edits the stack file
// in place (only the changed resources values); without it nothing is written.
import { HOURS_PER_MONTH, allocationCost } from "../dashboards/cost";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { STACK_NAME, readStackFile } from "../components/config/load";
import { parseDuration } from "../components/config/quantities";
import { validateConfig } from "../components/config/validate";
import { anyOf, selector } from "../components/monitoring/rules";
import { CPU_USAGE_SERIES, MEMORY_USAGE_SERIES, cpuUsage, memoryUsage, podWorkload } from "../components/monitoring/usageRules";
import { loadPriceTable } from "../components/traffic/cost";
import { PRICE_REGION } from "../components/traffic/summary";
import { Io, argumentError, runCli } from "./lib/cli";
import { writeFileAtomic } from "./lib/files";
import {
    RULES,
    Recommendation,
    Report,
    Source,
    Stats,
    Workload,
    changesOf,
    chooseSource,
    coverageProblem,
    parseAt,
    recommend,
    recordedSuffices,
    renderChanges,
    renderReport,
    reportJson,
    withResources,
    writeRefusals,
} from "./lib/rightsize";

const USAGE =
    "usage: npm run rightsize -- (--stack <name> | --config <file>) --prometheus-url <url> [--window 7d] [--json] [--write [--force]] [--at <rfc3339|unix seconds>]";

export interface RightsizeArgs {
    stack: string;
    /** The stack file as given with --config; otherwise Pulumi.<stack>.yaml of the current directory. */
    file?: string;
    prometheusUrl: string;
    window: string;
    windowSeconds: number;
    json: boolean;
    write: boolean;
    /** Write cuts below the write floor or deeper than WRITE_GUARDS.maxCutShare (never zero usage). */
    force: boolean;
    /** Evaluate as of this time (seconds since the epoch). */
    at: number;
}

/** The stack a file is read as: `Pulumi.<stack>.yaml`, or the file's name without `.yaml`. */
function stackOfFile(file: string): string {
    const base = path.basename(file);
    return /^Pulumi\.(.+)\.ya?ml$/.exec(base)?.[1] ?? base.replace(/\.ya?ml$/, "");
}

export function parseRightsizeArgs(argv: string[], now = Date.now() / 1000): RightsizeArgs | { errors: string[] } {
    let values: {
        stack?: string;
        config?: string;
        "prometheus-url"?: string;
        window?: string;
        json?: boolean;
        write?: boolean;
        force?: boolean;
        at?: string;
    };
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                stack: { type: "string" },
                config: { type: "string" },
                "prometheus-url": { type: "string" },
                window: { type: "string" },
                json: { type: "boolean" },
                write: { type: "boolean" },
                force: { type: "boolean" },
                at: { type: "string" },
            },
        }));
    } catch (error) {
        return { errors: [argumentError(error)] };
    }
    const errors: string[] = [];
    if (values.stack === undefined && values.config === undefined) errors.push("--stack or --config is required");
    if (values.stack !== undefined && values.config !== undefined) errors.push("give --stack or --config, not both");
    const stack = values.stack ?? (values.config !== undefined ? stackOfFile(values.config) : "");
    if ((values.stack !== undefined || values.config) && !STACK_NAME.test(stack))
        errors.push(`${values.config !== undefined ? `--config ${values.config}` : `--stack "${stack}"`}: "${stack}" is not a stack name`);
    if (values.config === "") errors.push("--config needs a value");
    const url = values["prometheus-url"];
    if (url === undefined) errors.push("--prometheus-url is required");
    else if (!/^https?:\/\/[^/\s]+/.test(url) || !URL.canParse(url)) errors.push(`--prometheus-url ${url}: expected an http(s) URL`);
    const window = values.window ?? "7d";
    const windowSeconds = parseDuration(window);
    if (windowSeconds === undefined || windowSeconds < 3600 || windowSeconds % RULES.stepSeconds !== 0)
        errors.push(`--window ${window}: expected a Prometheus duration of at least 1h in whole 5 minutes, such as "7d" or "14d"`);
    if (values.force && !values.write) errors.push("--force goes with --write");
    const at = values.at === undefined ? Math.floor(now) : parseAt(values.at);
    if (at === undefined) errors.push(`--at ${values.at}: expected an RFC 3339 time ("2025-01-15T00:00:00Z") or Unix seconds`);
    if (errors.length > 0) return { errors };
    return {
        stack,
        file: values.config,
        prometheusUrl: url!.replace(/\/+$/, ""),
        window,
        windowSeconds: windowSeconds!,
        json: values.json ?? false,
        write: values.write ?? false,
        force: values.force ?? false,
        at: at!,
    };
}

/** A problem that ends the run: its lines go to stderr, and the exit code. */
export class RightsizeError extends Error {
    constructor(
        public readonly problems: string[],
        public readonly code = 1,
    ) {
        super(problems.join("\n"));
    }
}

interface Sample {
    metric: Record<string, string>;
    value: number;
}

/** An instant query at `at`; a Prometheus that cannot be reached, or refuses, is a RightsizeError. */
export async function instantQuery(url: string, expr: string, at: number): Promise<Sample[]> {
    const endpoint = `${url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(at) })}`;
    let response: Response;
    try {
        response = await fetch(endpoint, { signal: AbortSignal.timeout(120_000) });
    } catch (error) {
        const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
        throw new RightsizeError([`cannot reach Prometheus at ${url}: ${cause}`]);
    }
    let body: { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: unknown } };
    try {
        body = (await response.json()) as typeof body;
    } catch {
        throw new RightsizeError([`${url} did not answer like Prometheus (HTTP ${response.status}, not JSON)`]);
    }
    if (body.status !== "success")
        throw new RightsizeError([
            `Prometheus at ${url} refused a query (${body.errorType ?? `HTTP ${response.status}`}): ${(body.error ?? "").replace(/\s+/g, " ")}`,
        ]);
    if (body.data?.resultType !== "vector") return [];
    return (body.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({
        metric: r.metric,
        value: Number(r.value[1]),
    }));
}

/** Values by workload of a query's result, keeping only a workload's own container. */
function byWorkload(samples: Sample[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of samples) if (s.metric.workload && s.metric.workload === s.metric.container) out.set(s.metric.workload, s.value);
    return out;
}

/** What rightsize reads for a set of workloads: the recorded series, or the raw ones joined on the fly. */
function usageExpressions(source: Source, namespace: string, names: string[]): { cpu: string; memory: string } {
    const filter = anyOf(names);
    if (source === "recorded") {
        const matchers = selector({ namespace, workload: filter, container: filter });
        return { cpu: `${CPU_USAGE_SERIES}${matchers}`, memory: `${MEMORY_USAGE_SERIES}${matchers}` };
    }
    return {
        cpu: cpuUsage(namespace, { workloads: filter, containers: filter }),
        memory: memoryUsage(namespace, { workloads: filter, containers: filter }),
    };
}

/** Seconds of the window the samples of both CPU and memory cover, by workload. */
async function coverage(args: RightsizeArgs, exprs: { cpu: string; memory: string }): Promise<Map<string, number>> {
    const count = (expr: string) => instantQuery(args.prometheusUrl, `count_over_time((${expr})[${args.window}:5m])`, args.at);
    const [cpu, memory] = (await Promise.all([count(exprs.cpu), count(exprs.memory)])).map(byWorkload);
    const out = new Map<string, number>();
    for (const [name, n] of cpu) out.set(name, Math.min(n, memory.get(name) ?? 0) * RULES.stepSeconds);
    for (const name of memory.keys()) if (!out.has(name)) out.set(name, 0);
    return out;
}

async function statistics(
    args: RightsizeArgs,
    exprs: { cpu: string; memory: string },
): Promise<Map<string, { cpu: Stats; memory: Stats }>> {
    const over = (fn: (range: string) => string, expr: string) =>
        instantQuery(args.prometheusUrl, fn(`(${expr})[${args.window}:5m]`), args.at);
    const quantile = (q: number) => (range: string) => `quantile_over_time(${q}, ${range})`;
    const max = (range: string) => `max_over_time(${range})`;
    const results = await Promise.all([
        over(quantile(0.5), exprs.cpu),
        over(quantile(RULES.cpuQuantile), exprs.cpu),
        over(max, exprs.cpu),
        over(quantile(0.5), exprs.memory),
        over(quantile(0.95), exprs.memory),
        over(max, exprs.memory),
    ]);
    const [cpu50, cpu95, cpuMax, mem50, mem95, memMax] = results.map(byWorkload);
    const out = new Map<string, { cpu: Stats; memory: Stats }>();
    for (const name of memMax.keys()) {
        if (!cpu95.has(name)) continue;
        out.set(name, {
            cpu: { p50: cpu50.get(name)! * 1000, p95: cpu95.get(name)! * 1000, max: cpuMax.get(name)! * 1000 },
            memory: { p50: mem50.get(name)!, p95: mem95.get(name)!, max: memMax.get(name)! },
        });
    }
    return out;
}

export interface RightsizeResult {
    report: Report;
    /** Lines naming the workloads without a recommendation, and why. */
    skipped: string[];
}

/** Reads the stack, queries Prometheus and builds the report. */
export async function rightsize(cwd: string, args: RightsizeArgs): Promise<RightsizeResult & { file: string; text: string }> {
    const file = path.resolve(cwd, args.file ?? `Pulumi.${args.stack}.yaml`);
    const shown = args.file ?? `Pulumi.${args.stack}.yaml`;
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch {
        throw new RightsizeError([`${shown}: cannot read the stack file (is "${args.stack}" a stack of this project?)`], 2);
    }
    const config = validStack(args, shown, text);
    const workloads: Workload[] = [
        ...config.services.map((s, index) => ({
            name: s.name,
            kind: "service" as const,
            index,
            replicasMin: s.replicas.min,
            resources: s.resources,
        })),
        ...config.workers.map((w, index) => ({
            name: w.name,
            kind: "worker" as const,
            index,
            replicasMin: w.replicas.min,
            resources: w.resources,
        })),
    ];
    if (workloads.length === 0) throw new RightsizeError([`${shown}: has no services or workers to right-size`]);
    const prices = loadPriceTable(PRICE_REGION);
    if (!prices) throw new RightsizeError([`no price table for ${PRICE_REGION} in components/traffic/prices`]);
    const namespace = config.namespaces.apps;
    const names = workloads.map((w) => w.name);

    // The recorded series first (cheap); the raw ones only for workloads they do not cover well.
    const recorded = await coverage(args, usageExpressions("recorded", namespace, names));
    const rawNeeded = names.filter((n) => !recordedSuffices(recorded.get(n) ?? 0, args.windowSeconds));
    const raw = rawNeeded.length > 0 ? await coverage(args, usageExpressions("raw", namespace, rawNeeded)) : new Map<string, number>();

    const skipped: string[] = [];
    const chosen = new Map<Source, Array<{ workload: Workload; covered: number }>>([
        ["recorded", []],
        ["raw", []],
    ]);
    for (const workload of workloads) {
        const r = recorded.get(workload.name);
        const w = raw.get(workload.name);
        if (r === undefined && w === undefined) {
            skipped.push(
                `no usage data for ${workload.name} (${workload.kind}): no container ${workload.name} in a pod of Deployment ${workload.name} in namespace ${namespace} over ${args.window}`,
            );
            continue;
        }
        const source = chooseSource(r ?? 0, rawNeeded.includes(workload.name) ? (w ?? 0) : undefined, args.windowSeconds);
        const covered = source === "recorded" ? (r ?? 0) : (w ?? 0);
        const problem = coverageProblem(workload.name, covered, args.windowSeconds);
        if (problem) skipped.push(`${problem} (over ${args.window}; ${source} series)`);
        else chosen.get(source)!.push({ workload, covered });
    }

    const recommendations: Recommendation[] = [];
    for (const [source, list] of chosen) {
        if (list.length === 0) continue;
        const stats = await statistics(
            args,
            usageExpressions(
                source,
                namespace,
                list.map((x) => x.workload.name),
            ),
        );
        for (const { workload, covered } of list) {
            const s = stats.get(workload.name);
            if (!s) {
                skipped.push(`no usage data for ${workload.name} (${workload.kind}): its series vanished while it was read; run again`);
                continue;
            }
            recommendations.push(recommend(workload, { ...s, coveredSeconds: covered, source }, prices));
        }
    }
    recommendations.sort((a, b) => names.indexOf(a.workload.name) - names.indexOf(b.workload.name));
    const liveMonthlyCost = await liveCost(args, namespace);
    return {
        report: { stack: args.stack, window: args.window, at: args.at, namespace, prices, recommendations, liveMonthlyCost },
        skipped,
        file,
        text,
    };
}

/** OpenCost's allocation cost of each Deployment of the namespace at `--at`, a month at that pace (empty without OpenCost). */
async function liveCost(args: RightsizeArgs, namespace: string): Promise<Record<string, number>> {
    const expr =
        `sum by (workload) (${allocationCost(`namespace="${namespace}"`)} * on (namespace, pod) group_left (workload) ${podWorkload(namespace)})` +
        ` * ${HOURS_PER_MONTH}`;
    const samples = await instantQuery(args.prometheusUrl, expr, args.at);
    return Object.fromEntries(samples.filter((s) => s.metric.workload).map((s) => [s.metric.workload, s.value]));
}

/** The stack file's config, validated as the offline plan does (placeholders allowed). */
function validStack(args: RightsizeArgs, shown: string, text: string) {
    const read = readStackFile(args.stack, "", text);
    if (!read.ok) throw new RightsizeError(read.errors.map((e) => e.replace(`Pulumi.${args.stack}.yaml`, shown)));
    const result = validateConfig({ ...read.raw, file: shown }, "allow");
    if (!result.ok) throw new RightsizeError(result.errors);
    return result.config;
}

export async function main(argv: string[], io: Io): Promise<number> {
    const args = parseRightsizeArgs(argv);
    if ("errors" in args) {
        for (const e of args.errors) io.err(`rightsize: ${e}`);
        io.err(USAGE);
        return 2;
    }
    try {
        const { report, skipped, file, text } = await rightsize(io.cwd, args);
        // stdout holds the report only (with --json, exactly the JSON document); the rest goes to stderr.
        const note = args.json ? io.err : io.out;
        if (args.json) io.out(JSON.stringify(reportJson(report), null, 2));
        else io.out(renderReport(report));
        for (const line of skipped) io.err(`rightsize: ${line}`);
        if (report.recommendations.length === 0) {
            io.err(`rightsize: no recommendation for stack ${args.stack}: no workload has enough data over ${args.window}`);
            return 1;
        }
        const changes = report.recommendations.flatMap(changesOf);
        const shown = args.file ?? `Pulumi.${args.stack}.yaml`;
        if (!args.json) io.out("");
        if (!args.write) {
            note(
                changes.length
                    ? `nothing written: ${changes.length} value(s) would change (--write updates ${shown})`
                    : `nothing to write: ${shown} already matches`,
            );
            return 0;
        }
        if (changes.length === 0) {
            note(`${shown}: resources unchanged`);
            return 0;
        }
        const refused = writeRefusals(report.recommendations, changes, args.force);
        if (refused.length > 0) throw new RightsizeError([...refused, `${shown} not written`]);
        let updated: string;
        try {
            updated = withResources(text, changes);
        } catch (error) {
            throw new RightsizeError([`${shown} not written: ${(error as Error).message}`]);
        }
        try {
            validStack(args, shown, updated);
        } catch (error) {
            if (!(error instanceof RightsizeError)) throw error;
            throw new RightsizeError([`${shown} not written: with these values it would not validate`, ...error.problems]);
        }
        writeFileAtomic(file, updated);
        note([`wrote ${shown}:`, ...renderChanges(changes).map((l) => `  ${l}`)].join("\n"));
        return 0;
    } catch (error) {
        if (!(error instanceof RightsizeError)) throw error;
        for (const problem of error.problems) io.err(`rightsize: ${problem}`);
        return error.code;
    }
}

if (require.main === module) runCli("rightsize", main);
