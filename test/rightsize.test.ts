// Right-sizing (npm run rightsize): the pure rules (percentile -> request, rounding, floors, cost,
// the report, the in-place edit), the usage recording rules under promtool, and the whole command
// against a real Prometheus holding two days of synthetic cAdvisor and kube-state-metrics history.
import * as assert from "node:assert/strict";
import { ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { readStackFileAt } from "../components/config/load";
import { validateConfig } from "../components/config/validate";
import { CPU_USAGE_SERIES, MEMORY_USAGE_SERIES, cpuUsage, memoryUsage, usageRecordingRules } from "../components/monitoring/usageRules";
import { promtoolTest, scratchDir, writeRuleFile } from "../scripts/lib/promtool";
import {
    CapacityPrices,
    Recommendation,
    Workload,
    alignedTable,
    changesOf,
    chooseSource,
    coverageProblem,
    memoryQuantity,
    monthlyCostDelta,
    parseAt,
    recommend,
    recommendCpu,
    recommendMemory,
    requiredCoverage,
    roundUp,
    withResources,
    writeRefusals,
} from "../scripts/lib/rightsize";
import { instantQuery, main, parseRightsizeArgs } from "../scripts/rightsize";
import { run } from "../scripts/lib/tools";
import { PROJECT_DIR, runMain } from "./harness";
import { requireTool } from "./tools";
import { freePort, startPrometheus, stopServer } from "./servers";

const MI = 2 ** 20;
const PRICES: CapacityPrices = {
    region: "eu-central-1",
    date: "2026-11-26",
    currency: "USD",
    hoursPerMonth: 730,
    ec2VcpuHourly: 0.0425,
    ec2GibHourly: 0.0057,
};

const workload = (over: Partial<Workload> = {}): Workload => ({
    name: "api",
    kind: "service",
    index: 0,
    replicasMin: 1,
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    ...over,
});
const usage = (cpuP95: number, memoryMax: number) => ({
    cpu: { p50: cpuP95 / 2, p95: cpuP95, max: cpuP95 * 2 },
    memory: { p50: memoryMax / 2, p95: memoryMax, max: memoryMax },
    coveredSeconds: 48 * 3600,
    source: "raw" as const,
});

describe("rightsize: the rules", () => {
    it("rounds CPU up to 5m and memory up to whole MiB, ignoring floating-point noise", () => {
        assert.equal(roundUp(142, 5), 145);
        assert.equal(roundUp(150.00000001, 5), 150);
        assert.equal(roundUp(150.01, 5), 155);
        assert.equal(recommendMemory(200 * MI), 230 * MI); // 200Mi + 15% = 230Mi exactly
        assert.equal(recommendMemory(48 * MI), 56 * MI); // 55.2Mi -> 56Mi
        assert.equal(recommendMemory(1.5 * 2 ** 30), 1767 * MI); // 1766.4Mi -> 1767Mi
    });

    it("never recommends below the floors (10m CPU, 32Mi memory)", () => {
        assert.deepEqual(recommendCpu(0.4), { millicores: 10 });
        assert.deepEqual(recommendCpu(11), { millicores: 15 });
        assert.equal(recommendMemory(3 * MI), 32 * MI);
        assert.equal(recommendMemory(0), 32 * MI);
    });

    it("caps the CPU request at the CPU limit the stack keeps, and says so", () => {
        const capped = recommendCpu(1240, "1");
        assert.equal(capped.millicores, 1000);
        assert.match(capped.note!, /p95 CPU \(1240m\) is above the CPU limit \(1\)/);
        assert.deepEqual(recommendCpu(240, "1"), { millicores: 240 });
    });

    it("sets memory request = limit and keeps the CPU limit", () => {
        const rec = recommend(
            workload({ resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } } }),
            usage(142, 200 * MI),
            PRICES,
        );
        assert.deepEqual(rec.recommended, { requests: { cpu: "145m", memory: "230Mi" }, limits: { memory: "230Mi" } });
        assert.equal(memoryQuantity(2048 * MI), "2Gi");
    });

    it("prices the change of requests at replicas.min from the price table", () => {
        // (+95m * 0.0425 + 166Mi * 0.0057 per GiB) * 730 h * 1 replica
        const delta = monthlyCostDelta({ cpu: "50m", memory: "64Mi" }, { cpu: "145m", memory: "230Mi" }, 1, PRICES);
        assert.ok(Math.abs(delta - (0.095 * 0.0425 + (166 / 1024) * 0.0057) * 730) < 1e-9);
        assert.equal(
            monthlyCostDelta({ cpu: "1", memory: "1Gi" }, { cpu: "500m", memory: "512Mi" }, 3, PRICES),
            (-0.5 * 0.0425 - 0.5 * 0.0057) * 730 * 3,
        );
        assert.equal(monthlyCostDelta({ cpu: "25m", memory: "32Mi" }, { cpu: "35m", memory: "56Mi" }, 0, PRICES), 0);
    });

    it("requires 24h of data, or half the window when it is shorter than two days", () => {
        assert.equal(requiredCoverage(14 * 86400), 86400);
        assert.equal(requiredCoverage(12 * 3600), 6 * 3600);
        assert.equal(coverageProblem("x", 3 * 3600, 7 * 86400), "not enough data for x: 3h of the required 24h");
        assert.equal(coverageProblem("x", 86400, 7 * 86400), undefined);
    });

    it("reads the recorded series when they cover 90% of the window, else whichever covers more", () => {
        assert.equal(chooseSource(7 * 86400, undefined, 7 * 86400), "recorded");
        assert.equal(chooseSource(3 * 86400, 7 * 86400, 7 * 86400), "raw");
        assert.equal(chooseSource(3 * 86400, 2 * 86400, 7 * 86400), "recorded");
    });

    it("changes only values that differ in quantity ('1' and '1000m' are equal)", () => {
        const rec: Recommendation = {
            ...recommend(
                workload({ resources: { requests: { cpu: "1", memory: "230Mi" }, limits: { memory: "256Mi" } } }),
                usage(1000, 200 * MI),
                PRICES,
            ),
        };
        assert.deepEqual(
            changesOf(rec).map((c) => [c.path.join("."), c.before, c.after]),
            [["limits.memory", "256Mi", "230Mi"]],
        );
    });

    it("edits values where they stand: flow and block maps, quotes and comments kept", () => {
        const text = [
            "config:",
            "  finbot:services:",
            "    - name: api # the API",
            "      resources:",
            "        # sized by hand",
            '        requests: { cpu: "1", memory: 2Gi } # trailing',
            "        limits:",
            "          memory: 4Gi",
            "  finbot:workers:",
            "    - name: w",
            "      resources: { requests: { cpu: 25m, memory: 32Mi }, limits: { memory: 64Mi } }",
            "",
        ].join("\n");
        const api = workload({ resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "4Gi" } } });
        const w = workload({
            name: "w",
            kind: "worker",
            resources: { requests: { cpu: "25m", memory: "32Mi" }, limits: { memory: "64Mi" } },
        });
        const out = withResources(text, [
            { workload: api, path: ["requests", "cpu"], before: "1", after: "1200m" },
            { workload: api, path: ["limits", "memory"], before: "4Gi", after: "2Gi" },
            { workload: w, path: ["requests", "memory"], before: "32Mi", after: "56Mi" },
            { workload: w, path: ["limits", "memory"], before: "64Mi", after: "56Mi" },
        ]);
        assert.equal(
            out,
            text
                .replace('cpu: "1"', "cpu: 1200m")
                .replace("memory: 4Gi", "memory: 2Gi")
                .replace("{ cpu: 25m, memory: 32Mi }, limits: { memory: 64Mi }", "{ cpu: 25m, memory: 56Mi }, limits: { memory: 56Mi }"),
        );
        assert.throws(
            () => withResources(text, [{ workload: { ...w, index: 3 }, path: ["requests", "cpu"], before: "", after: "5m" }]),
            /is not w/,
        );
        // A value shared through an anchor is left for a person to change.
        const anchored = [
            "config:",
            "  finbot:workers:",
            "    - name: w",
            "      resources: &small { requests: { cpu: 25m, memory: 32Mi }, limits: { memory: 64Mi } }",
            "    - name: v",
            "      resources: *small",
            "",
        ].join("\n");
        for (const target of [w, { ...w, name: "v", index: 1 }])
            assert.throws(
                () => withResources(anchored, [{ workload: target, path: ["requests", "cpu"], before: "25m", after: "5m" }]),
                /YAML anchor or alias/,
            );
    });

    it("--write refuses zero usage always, and cuts below the floor or over half at once without --force", () => {
        const workload = (name: string, memory: string): Workload => ({
            name,
            kind: "service",
            index: 0,
            replicasMin: 2,
            resources: { requests: { cpu: "100m", memory }, limits: { memory } },
        });
        const stats = (max: number) => ({ p50: max, p95: max, max });
        const rec = (w: Workload, cpu: number, memory: number) =>
            recommend(w, { cpu: stats(cpu), memory: stats(memory), coveredSeconds: 7 * 86400, source: "raw" }, PRICES);
        const zero = rec(workload("api", "512Mi"), 0, 0);
        const deep = rec(workload("api", "512Mi"), 90, 200 * MI);
        const mild = rec(workload("api", "512Mi"), 90, 300 * MI);
        const low = rec(workload("worker", "96Mi"), 90, 40 * MI);
        assert.match(writeRefusals([zero], changesOf(zero), true)[0], /^api: zero usage measured .*not written, even with --force/);
        assert.deepEqual(writeRefusals([deep], changesOf(deep), false), [
            "api: resources.requests.memory 512Mi -> 230Mi cuts 55%, more than 50% at once; --force writes it",
            "api: resources.limits.memory 512Mi -> 230Mi cuts 55%, more than 50% at once; --force writes it",
        ]);
        assert.deepEqual(writeRefusals([deep], changesOf(deep), true), []);
        assert.deepEqual(writeRefusals([mild], changesOf(mild), false), [], "345Mi is a 33% cut");
        assert.deepEqual(writeRefusals([low], changesOf(low), false), [
            "worker: resources.requests.memory 96Mi -> 46Mi is below the write floor (48Mi); --force writes it",
            "worker: resources.limits.memory 96Mi -> 46Mi is below the write floor (48Mi); --force writes it",
        ]);
    });

    it("pads the table's columns", () => {
        assert.equal(alignedTable(["a", "bb"], [["xyz", "1"]]), "| a   | bb |\n| --- | -- |\n| xyz | 1  |");
    });

    it("refuses bad arguments with one line per problem", async () => {
        assert.deepEqual(parseRightsizeArgs(["--window", "3x", "--at", "yesterday", "--stack", "../x"]), {
            errors: [
                '--stack "../x": "../x" is not a stack name',
                "--prometheus-url is required",
                '--window 3x: expected a Prometheus duration of at least 1h in whole 5 minutes, such as "7d" or "14d"',
                '--at yesterday: expected an RFC 3339 time ("2025-01-15T00:00:00Z") or Unix seconds',
            ],
        });
        assert.equal(parseAt("2025-01-15T00:00:00Z"), 1736899200);
        assert.equal(parseAt("1736899200"), 1736899200);
        const result = await runMain(main, ["--stack", "dev", "--config", "Pulumi.dev.yaml", "--prometheus-url", "ftp://x", "--bogus"]);
        assert.equal(result.status, 2);
        assert.deepEqual(result.stderr.trim().split("\n").length, 2, result.stderr);
        const bad = await runMain(main, ["--stack", "dev", "--config", "Pulumi.dev.yaml", "--prometheus-url", "ftp://x"]);
        assert.equal(bad.status, 2);
        assert.match(
            bad.stderr,
            /^rightsize: give --stack or --config, not both\nrightsize: --prometheus-url ftp:\/\/x: expected an http\(s\) URL\nusage: /,
        );
    });
});

describe("rightsize: the usage recording rules under promtool", function () {
    it("record the busiest pod's CPU rate and peak working set per Deployment container", function () {
        requireTool(this, "promtool", "prometheus");
        const dir = scratchDir("usage-rules");
        const file = writeRuleFile(dir, [usageRecordingRules("finbot-apps")]);
        assert.equal(run("promtool", ["check", "rules", file]).status, 0);
        const apps = 'namespace="finbot-apps"';
        const result = promtoolTest(file, [
            {
                interval: "1m",
                input_series: [
                    // Two pods of Deployment api (ReplicaSet api-1), and one of another namespace.
                    { series: `container_cpu_usage_seconds_total{${apps}, pod="api-1-a", container="api", image="i"}`, values: "0+6x20" },
                    { series: `container_cpu_usage_seconds_total{${apps}, pod="api-1-b", container="api", image="i"}`, values: "0+3x20" },
                    { series: `container_cpu_usage_seconds_total{${apps}, pod="api-1-b", container="", image=""}`, values: "0+60x20" },
                    {
                        series: `container_cpu_usage_seconds_total{${apps}, pod="api-1-b", container="proxy", image="p"}`,
                        values: "0+12x20",
                    },
                    {
                        series: `container_cpu_usage_seconds_total{namespace="other", pod="api-1-a", container="api", image="i"}`,
                        values: "0+60x20",
                    },
                    {
                        series: `container_memory_working_set_bytes{${apps}, pod="api-1-a", container="api", image="i"}`,
                        values: "100 100 300 100x17",
                    },
                    { series: `container_memory_working_set_bytes{${apps}, pod="api-1-b", container="api", image="i"}`, values: "200x20" },
                    { series: `kube_pod_owner{${apps}, pod="api-1-a", owner_kind="ReplicaSet", owner_name="api-1"}`, values: "1x20" },
                    { series: `kube_pod_owner{${apps}, pod="api-1-b", owner_kind="ReplicaSet", owner_name="api-1"}`, values: "1x20" },
                    {
                        series: `kube_replicaset_owner{${apps}, replicaset="api-1", owner_kind="Deployment", owner_name="api"}`,
                        values: "1x20",
                    },
                    {
                        series: `kube_pod_owner{namespace="other", pod="api-1-a", owner_kind="ReplicaSet", owner_name="api-1"}`,
                        values: "1x20",
                    },
                    {
                        series: `kube_replicaset_owner{namespace="other", replicaset="api-1", owner_kind="Deployment", owner_name="api"}`,
                        values: "1x20",
                    },
                ],
                promql_expr_test: [
                    {
                        expr: CPU_USAGE_SERIES,
                        eval_time: "10m",
                        exp_samples: [
                            { labels: `${CPU_USAGE_SERIES}{container="api", namespace="finbot-apps", workload="api"}`, value: 0.1 },
                            { labels: `${CPU_USAGE_SERIES}{container="proxy", namespace="finbot-apps", workload="api"}`, value: 0.2 },
                        ],
                    },
                    {
                        // The 300 at 2m is within the last 5 minutes at 6m, gone at 8m.
                        expr: MEMORY_USAGE_SERIES,
                        eval_time: "6m",
                        exp_samples: [
                            { labels: `${MEMORY_USAGE_SERIES}{container="api", namespace="finbot-apps", workload="api"}`, value: 300 },
                        ],
                    },
                    {
                        expr: MEMORY_USAGE_SERIES,
                        eval_time: "8m",
                        exp_samples: [
                            { labels: `${MEMORY_USAGE_SERIES}{container="api", namespace="finbot-apps", workload="api"}`, value: 200 },
                        ],
                    },
                ],
            },
        ]);
        rmSync(dir, { recursive: true, force: true });
        assert.equal(result.status, 0, result.output);
    });
});

// ---- a real Prometheus with two days of history ----

/** The end of the synthetic history (a multiple of 2 hours, so the 2-hour usage cycle lines up with the window). */
const END = Date.parse("2025-01-15T00:00:00Z") / 1000;
const HOUR = 3600;
const APPS = "finbot-apps";

interface Pod {
    namespace: string;
    deployment: string;
    replicaSet: string;
    pod: string;
    from: number;
    to: number;
    containers: Array<{ name: string; cpu: (t: number) => number; memory: (t: number) => number }>;
}

/** Which 5-minute block of the 2-hour cycle the minute ending at `t` is in (0..23). */
const block = (t: number) => Math.floor(((t - 1) % 7200) / 300);
/**
 * api: 100m for 20 blocks of 24, 120m for 2, 142m for 1, 400m for 1: p50 100m, p90 120m,
 * p95 142m (the 92nd to 96th percentiles), max 400m.
 */
const apiCpu = (t: number) => (block(t) < 20 ? 0.1 : block(t) < 22 ? 0.12 : block(t) === 22 ? 0.142 : 0.4);
/** api: 150Mi, 180Mi in the busy block, and one 200Mi sample 30 hours before the end (on the old pod). */
const apiMemory = (t: number) => (t === END - 30 * HOUR ? 200 * MI : block(t) === 23 ? 180 * MI : 150 * MI);

const PODS: Pod[] = [
    // api before and after a rollout 24h before the end; a second, quieter replica after it.
    {
        namespace: APPS,
        deployment: "api",
        replicaSet: "api-aaa",
        pod: "api-aaa-x1",
        from: END - 49 * HOUR,
        to: END - 24 * HOUR,
        containers: [{ name: "api", cpu: apiCpu, memory: apiMemory }],
    },
    {
        namespace: APPS,
        deployment: "api",
        replicaSet: "api-bbb",
        pod: "api-bbb-y1",
        from: END - 24 * HOUR,
        to: END,
        containers: [
            { name: "api", cpu: apiCpu, memory: apiMemory },
            // A sidecar: never counted as the api container.
            { name: "log-shipper", cpu: () => 0.9, memory: () => 900 * MI },
        ],
    },
    {
        namespace: APPS,
        deployment: "api",
        replicaSet: "api-bbb",
        pod: "api-bbb-y2",
        from: END - 24 * HOUR,
        to: END,
        containers: [{ name: "api", cpu: () => 0.05, memory: () => 120 * MI }],
    },
    // settlement-worker: 32m steady, 40Mi with one 48Mi sample.
    {
        namespace: APPS,
        deployment: "settlement-worker",
        replicaSet: "settlement-worker-ccc",
        pod: "settlement-worker-ccc-z1",
        from: END - 49 * HOUR,
        to: END,
        containers: [{ name: "settlement-worker", cpu: () => 0.032, memory: (t) => (t === END - 5 * HOUR ? 48 * MI : 40 * MI) }],
    },
    // notify-worker: only the last 2 hours.
    {
        namespace: APPS,
        deployment: "notify-worker",
        replicaSet: "notify-worker-ddd",
        pod: "notify-worker-ddd-w1",
        from: END - 2 * HOUR,
        to: END,
        containers: [{ name: "notify-worker", cpu: () => 0.02, memory: () => 50 * MI }],
    },
    // A Deployment named api in another namespace: never read.
    {
        namespace: "other",
        deployment: "api",
        replicaSet: "api-eee",
        pod: "api-eee-v1",
        from: END - 49 * HOUR,
        to: END,
        containers: [{ name: "api", cpu: () => 2, memory: () => 4096 * MI }],
    },
];

/** The pods' history as OpenMetrics, one sample a minute. */
function openMetrics(pods: Pod[]): string {
    const families = new Map<string, string[]>();
    const add = (family: string, lines: string[]) => families.set(family, [...(families.get(family) ?? []), ...lines]);
    const labels = (l: Record<string, string>) =>
        `{${Object.entries(l)
            .map(([k, v]) => `${k}="${v}"`)
            .join(",")}}`;
    for (const p of pods) {
        const times: number[] = [];
        for (let t = p.from; t <= p.to; t += 60) times.push(t);
        for (const c of p.containers) {
            const l = labels({ namespace: p.namespace, pod: p.pod, container: c.name, image: `example/${c.name}:1` });
            let counter = 0;
            add(
                "container_cpu_usage_seconds_total",
                times.map((t, i) => `container_cpu_usage_seconds_total${l} ${(counter += i === 0 ? 0 : c.cpu(t) * 60)} ${t}`),
            );
            add(
                "container_memory_working_set_bytes",
                times.map((t) => `container_memory_working_set_bytes${l} ${c.memory(t)} ${t}`),
            );
        }
        // OpenCost: every container allocated 100m and 256Mi on node-a.
        for (const c of p.containers) {
            const l = labels({ namespace: p.namespace, pod: p.pod, container: c.name, node: "node-a" });
            add(
                "container_cpu_allocation",
                times.map((t) => `container_cpu_allocation${l} 0.1 ${t}`),
            );
            add(
                "container_memory_allocation_bytes",
                times.map((t) => `container_memory_allocation_bytes${l} ${256 * MI} ${t}`),
            );
        }
        const owner = labels({
            namespace: p.namespace,
            pod: p.pod,
            owner_kind: "ReplicaSet",
            owner_name: p.replicaSet,
            owner_is_controller: "true",
        });
        add(
            "kube_pod_owner",
            times.map((t) => `kube_pod_owner${owner} 1 ${t}`),
        );
    }
    const replicaSets = new Map(pods.map((p) => [`${p.namespace}/${p.replicaSet}`, p]));
    for (const p of replicaSets.values()) {
        const l = labels({
            namespace: p.namespace,
            replicaset: p.replicaSet,
            owner_kind: "Deployment",
            owner_name: p.deployment,
            owner_is_controller: "true",
        });
        const lines: string[] = [];
        for (let t = END - 49 * HOUR; t <= END; t += 60) lines.push(`kube_replicaset_owner${l} 1 ${t}`);
        add("kube_replicaset_owner", lines);
    }
    // OpenCost's node prices: 0.04 per vCPU-hour, 0.005 per GiB-hour.
    const node = labels({ node: "node-a" });
    for (const [family, price] of [
        ["node_cpu_hourly_cost", 0.04],
        ["node_ram_hourly_cost", 0.005],
    ] as const) {
        const lines: string[] = [];
        for (let t = END - 49 * HOUR; t <= END; t += 60) lines.push(`${family}${node} ${price} ${t}`);
        add(family, lines);
    }
    return [...families.entries()].flatMap(([family, lines]) => [`# TYPE ${family} gauge`, ...lines]).join("\n") + "\n# EOF\n";
}

/** Pulumi.dev.yaml with two more workers: one with 2 hours of data, one never seen. */
function stackWithMoreWorkers(dir: string): string {
    const text = readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");
    const extra = [
        "    - name: notify-worker",
        "      image: podinfo",
        "      queue: notifications.send",
        "      replicas: { min: 1, max: 2 }",
        "      resources: { requests: { cpu: 25m, memory: 32Mi }, limits: { memory: 64Mi } }",
        "      health: { liveness: /healthz, port: 9898 }",
        "    - name: ghost-worker",
        "      image: podinfo",
        "      queue: notifications.send",
        "      replicas: { min: 1, max: 2 }",
        "      resources: { requests: { cpu: 25m, memory: 32Mi }, limits: { memory: 64Mi } }",
        "      health: { liveness: /healthz, port: 9898 }",
        "",
    ].join("\n");
    const marker = "  # One small Elasticsearch node";
    assert.ok(text.includes(marker));
    const file = path.join(dir, "Pulumi.more.yaml");
    writeFileSync(file, text.replace(marker, `${extra}${marker}`));
    return file;
}

describe("rightsize against a real Prometheus", function () {
    this.timeout(20_000);
    let server: ChildProcess | undefined;
    let url = "";
    let dir = "";
    const at = ["--at", "2025-01-15T00:00:00Z"];
    const rightsize = (args: string[], cwd = PROJECT_DIR) => runMain(main, ["--prometheus-url", url, ...at, ...args], cwd);

    before(async function () {
        this.timeout(30_000);
        requireTool(this, "prometheus", "prometheus");
        requireTool(this, "promtool", "prometheus");
        dir = scratchDir("rightsize");
        const data = path.join(dir, "data");
        mkdirSync(data);
        writeFileSync(path.join(dir, "history.om"), openMetrics(PODS));
        // One block for the whole history: the default 2-hour blocks take several times longer to write.
        const created = run("promtool", [
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=72h",
            "-q",
            path.join(dir, "history.om"),
            data,
        ]);
        assert.equal(created.status, 0, created.output);
        // The recording rules, backfilled over the last 24 hours only: a 1-day window reads them,
        // a 2-day window falls back to the raw series (which cover more of it).
        const first = await startPrometheus(dir, data);
        const rules = writeRuleFile(dir, [usageRecordingRules(APPS)]);
        const backfill = run(
            "promtool",
            [
                "tsdb",
                "create-blocks-from",
                "rules",
                `--start=${END - 24 * HOUR}`,
                `--end=${END}`,
                `--url=${first.url}`,
                `--output-dir=${path.join(dir, "recorded")}`,
                "--max-block-duration=72h",
                rules,
            ],
            dir,
        );
        await stopServer(first.process);
        assert.equal(backfill.status, 0, backfill.output);
        for (const b of readdirSync(path.join(dir, "recorded"))) renameSync(path.join(dir, "recorded", b), path.join(data, b));
        ({ process: server, url } = await startPrometheus(dir, data));
    });

    after(async () => {
        await stopServer(server);
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const API = {
        name: "api",
        kind: "service",
        container: "api",
        current: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
        // p95 142m -> 145m; peak 200Mi (on the pod replaced 24h before the end) + 15% = 230Mi.
        recommended: { requests: { cpu: "145m", memory: "230Mi" }, limits: { memory: "230Mi" } },
        usage: {
            cpuMillicores: { p50: 100, p95: 142, max: 400 },
            memoryBytes: { p50: 150 * MI, p95: 180 * MI, max: 200 * MI },
            coveredHours: 48,
            source: "raw",
        },
    };
    const WORKER = {
        name: "settlement-worker",
        kind: "worker",
        container: "settlement-worker",
        current: { requests: { cpu: "25m", memory: "32Mi" }, limits: { memory: "64Mi" } },
        // 32m -> 35m; peak 48Mi + 15% = 55.2Mi -> 56Mi.
        recommended: { requests: { cpu: "35m", memory: "56Mi" }, limits: { memory: "56Mi" } },
        usage: {
            cpuMillicores: { p50: 32, p95: 32, max: 32 },
            memoryBytes: { p50: 40 * MI, p95: 40 * MI, max: 48 * MI },
            coveredHours: 48,
            source: "raw",
        },
    };

    it("recommends by value from two days of raw usage, and prints exactly the JSON document", async () => {
        const result = await rightsize(["--stack", "dev", "--window", "2d", "--json"]);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(JSON.parse(result.stdout), { stack: "dev", window: "2d", recommendations: [API, WORKER] });
        assert.equal(result.stderr, "nothing written: 6 value(s) would change (--write updates Pulumi.dev.yaml)\n");
    });

    it("prints the table: current, usage p50/p95/max, recommended and the monthly cost change", async () => {
        const result = await rightsize(["--stack", "dev", "--window", "2d"]);
        assert.equal(result.status, 0, result.stderr);
        const lines = result.stdout.split("\n");
        assert.equal(lines[0], "Right-sizing of stack dev, namespace finbot-apps, over 2d up to 2025-01-15T00:00:00Z");
        assert.match(
            lines[1],
            /^CPU request = p95 of the 5-minute CPU rate, rounded up to 5m \(floor 10m\); memory request = limit = peak working set \+ 15%, rounded up to 1Mi \(floor 32Mi\)/,
        );
        const row = (name: string) =>
            lines
                .find((l) => l.startsWith(`| ${name} `))!
                .split("|")
                .slice(1, -1)
                .map((c) => c.trim());
        assert.deepEqual(row("api"), [
            "api",
            "service",
            "1",
            "50m / 64Mi",
            "none / 128Mi",
            "100m / 142m / 400m",
            "150Mi / 180Mi / 200Mi",
            "48h raw",
            "145m / 230Mi",
            "none / 230Mi",
            // (95m * 0.0425 + 166Mi * 0.0057/GiB) * 730 h * 1 replica
            "+3.62 USD",
        ]);
        // Beside the estimate, what OpenCost says each costs now: (0.1 × 0.04 + 0.25 GiB × 0.005) × 730 h per
        // container, three api containers (a sidecar included) and one worker's.
        assert.ok(
            lines.includes("Live cost now (OpenCost, a month at this pace): api 11.50 USD, settlement-worker 3.83 USD."),
            result.stdout,
        );
        // replicas.min 0 (scale to zero): no requested capacity while idle, so no cost change.
        assert.deepEqual(row("settlement-worker").slice(2), [
            "0",
            "25m / 32Mi",
            "none / 64Mi",
            "32m / 32m / 32m",
            "40Mi / 40Mi / 48Mi",
            "48h raw",
            "35m / 56Mi",
            "none / 56Mi",
            "±0.00 USD",
        ]);
        assert.ok(
            lines.includes(
                "Δ requested cost: +3.62 USD a month at replicas.min (eu-central-1 prices of 2026-11-26: 0.0425/vCPU-hour, 0.0057/GiB-hour, 730 hours a month)",
            ),
        );
        assert.match(result.stdout, /\nnothing written: 6 value\(s\) would change \(--write updates Pulumi\.dev\.yaml\)\n$/);
    });

    it("reads the recorded series when they cover the window, with the same numbers as the raw ones", async () => {
        const result = await rightsize(["--stack", "dev", "--window", "1d", "--json"]);
        assert.equal(result.status, 0, result.stderr);
        const [api, worker] = (JSON.parse(result.stdout) as { recommendations: Array<typeof API> }).recommendations;
        assert.equal(api.usage.source, "recorded");
        assert.equal(worker.usage.source, "recorded");
        // Over the last day the 200Mi peak is out of the window: 180Mi + 15% = 207Mi.
        assert.deepEqual(api.recommended, { requests: { cpu: "145m", memory: "207Mi" }, limits: { memory: "207Mi" } });
        assert.deepEqual(worker.recommended, WORKER.recommended);
        // The fallback's expressions over the same day give the same usage.
        const filter = { workloads: "~api", containers: "~api" };
        const over = async (fn: (range: string) => string, expr: string) =>
            (await instantQuery(url, fn(`(${expr})[1d:5m]`), END)).find((s) => s.metric.workload === "api")!.value;
        const p95 = (range: string) => `quantile_over_time(0.95, ${range})`;
        const max = (range: string) => `max_over_time(${range})`;
        assert.ok(Math.abs((await over(p95, cpuUsage(APPS, filter))) * 1000 - api.usage.cpuMillicores.p95) < 0.1);
        assert.equal(await over(max, memoryUsage(APPS, filter)), api.usage.memoryBytes.max);
        assert.equal(api.usage.memoryBytes.max, 180 * MI);
    });

    it("names and skips workloads with too little data and those it cannot see", async () => {
        const file = stackWithMoreWorkers(dir);
        const result = await rightsize(["--config", file, "--window", "2d"]);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(result.stderr.trim().split("\n"), [
            "rightsize: not enough data for notify-worker: 2h of the required 24h (over 2d; recorded series)",
            "rightsize: no usage data for ghost-worker (worker): no container ghost-worker in a pod of Deployment ghost-worker in namespace finbot-apps over 2d",
        ]);
        assert.match(result.stdout, /^\| api /m);
        assert.match(result.stdout, /^\| settlement-worker /m);
        assert.doesNotMatch(result.stdout, /notify-worker|ghost-worker/);
        // Half of a 3-hour window is enough.
        const short = await rightsize(["--config", file, "--window", "3h", "--json"]);
        const names = (JSON.parse(short.stdout) as { recommendations: Array<{ name: string }> }).recommendations.map((r) => r.name);
        assert.deepEqual(names, ["api", "settlement-worker", "notify-worker"]);
    });

    it("--write edits only the changed resources values of a copy of Pulumi.dev.yaml, which still validates", async () => {
        const copy = scratchDir("rightsize-write");
        const file = path.join(copy, "Pulumi.dev.yaml");
        copyFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), file);
        const before = readFileSync(file, "utf8");

        const dry = await rightsize(["--stack", "dev", "--window", "2d"], copy);
        assert.equal(dry.status, 0, dry.stderr);
        assert.equal(readFileSync(file, "utf8"), before, "nothing is written without --write");

        const written = await rightsize(["--stack", "dev", "--window", "2d", "--write"], copy);
        assert.equal(written.status, 0, written.stderr);
        assert.match(
            written.stdout,
            /wrote Pulumi\.dev\.yaml:\n {2}api: resources\.requests\.cpu 50m -> 145m\n {2}api: resources\.requests\.memory 64Mi -> 230Mi\n {2}api: resources\.limits\.memory 128Mi -> 230Mi\n {2}settlement-worker: resources\.requests\.cpu 25m -> 35m\n/,
        );
        const after = readFileSync(file, "utf8");
        const [a, b] = [before.split("\n"), after.split("\n")];
        assert.equal(a.length, b.length);
        const changed = a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]]]));
        assert.deepEqual(changed, [
            ["        requests: { cpu: 50m, memory: 64Mi }", "        requests: { cpu: 145m, memory: 230Mi }"],
            ["        limits: { memory: 128Mi }", "        limits: { memory: 230Mi }"],
            [
                "      resources: { requests: { cpu: 25m, memory: 32Mi }, limits: { memory: 64Mi } }",
                "      resources: { requests: { cpu: 35m, memory: 56Mi }, limits: { memory: 56Mi } }",
            ],
        ]);
        assert.ok(after.includes("# podinfo stands in for FinBot's API"), "comments are kept");
        assert.deepEqual(readdirSync(copy), ["Pulumi.dev.yaml"], "no temporary file is left");
        const read = readStackFileAt(file);
        assert.ok(read.ok);
        const valid = validateConfig(read.raw, "allow");
        assert.ok(valid.ok, valid.ok ? "" : valid.errors.join("\n"));
        assert.deepEqual(valid.config.services[0].resources, { requests: { cpu: "145m", memory: "230Mi" }, limits: { memory: "230Mi" } });

        // Run again: nothing left to change.
        const again = await rightsize(["--stack", "dev", "--window", "2d", "--write"], copy);
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stdout, /Pulumi\.dev\.yaml: resources unchanged\n$/);
        assert.equal(readFileSync(file, "utf8"), after);
        rmSync(copy, { recursive: true, force: true });
    });

    it("--write refuses a cut of more than half without --force, writing nothing, and writes it with --force", async () => {
        const copy = scratchDir("rightsize-cut");
        const file = path.join(copy, "Pulumi.dev.yaml");
        // The api as prod sizes it: 512Mi, where the measured peak (200Mi + 15%) asks for 230Mi.
        const text = readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")
            .replace("requests: { cpu: 50m, memory: 64Mi }", "requests: { cpu: 50m, memory: 512Mi }")
            .replace("limits: { memory: 128Mi }", "limits: { memory: 512Mi }");
        writeFileSync(file, text);
        const refused = await rightsize(["--stack", "dev", "--window", "2d", "--write"], copy);
        assert.equal(refused.status, 1);
        assert.deepEqual(refused.stderr.trim().split("\n"), [
            "rightsize: api: resources.requests.memory 512Mi -> 230Mi cuts 55%, more than 50% at once; --force writes it",
            "rightsize: api: resources.limits.memory 512Mi -> 230Mi cuts 55%, more than 50% at once; --force writes it",
            "rightsize: Pulumi.dev.yaml not written",
        ]);
        assert.equal(readFileSync(file, "utf8"), text, "nothing written");
        const forced = await rightsize(["--stack", "dev", "--window", "2d", "--write", "--force"], copy);
        assert.equal(forced.status, 0, forced.stderr);
        assert.match(readFileSync(file, "utf8"), /requests: \{ cpu: 145m, memory: 230Mi \}/);
        rmSync(copy, { recursive: true, force: true });
    });

    it("fails with one line, exit 1, when Prometheus cannot be reached", async () => {
        const closed = await freePort();
        const result = await runMain(main, ["--stack", "dev", "--prometheus-url", `http://127.0.0.1:${closed}`, ...at]);
        assert.equal(result.status, 1);
        assert.equal(result.stdout, "");
        assert.match(
            result.stderr,
            new RegExp(`^rightsize: cannot reach Prometheus at http://127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED.*\\n$`),
        );
    });

    it("exits 1 when no workload has enough data", async () => {
        const result = await runMain(main, ["--stack", "dev", "--prometheus-url", url, "--at", String(END - 40 * HOUR), "--window", "2d"]);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /rightsize: not enough data for api: 9h of the required 24h/);
        assert.match(result.stderr, /rightsize: no recommendation for stack dev: no workload has enough data over 2d\n$/);
    });
});
