import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
    existsSync,
    lstatSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    readdirSync,
    rmSync,
    statSync,
    symlinkSync,
    utimesSync,
    writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { SECRET_STAND_IN } from "../components/config/load";
import { secretString } from "../components/config/schema";
import { main as planMain, parsePlanArgs, writePlan } from "../scripts/plan";
import { byText, groupThousands } from "../components/lib/markdown";
import { observabilityShare, renderSummary } from "../components/platform/summary";
import { PROJECT_DIR, PlatformRun, loadStackConfig, runMain, runPlatform, runStack, runStackFile, loadStackFileConfig } from "./harness";

const PRELOAD = path.join(PROJECT_DIR, "scripts", "preload.cjs");
const PLAN = path.join(PROJECT_DIR, "scripts", "plan.ts");
const EVERYTHING = "test/stacks/everything.yaml";

/** The plan as its command line runs it, in-process. */
const plan = (args: string[], cwd = PROJECT_DIR) => runMain(planMain, args, cwd);

function projectCopyWith(stackFileText: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), "finbot-plan-"));
    writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stackFileText);
    return dir;
}

describe("offline plan (npm run plan)", () => {
    it("writes plan.json, manifests/, helm/ and summary.md for dev", async () => {
        const out = mkdtempSync(path.join(tmpdir(), "finbot-plan-out-"));
        const result = await plan(["--stack", "dev", "--out", out]);
        assert.equal(result.status, 0, result.stderr);
        const doc = JSON.parse(readFileSync(path.join(out, "plan.json"), "utf8"));
        assert.equal(doc.stack, "dev");
        assert.equal(doc.project, "finbot");
        assert.ok(doc.resources.length > 0);
        for (const r of doc.resources) {
            assert.deepEqual(Object.keys(r).sort(), ["dependsOn", "inputs", "name", "parent", "protect", "retainOnDelete", "type", "urn"]);
            assert.match(r.urn, /^urn:pulumi:dev::finbot::/);
        }
        const deployment = doc.resources.find(
            (r: { type: string; name: string }) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "finbot-api",
        );
        assert.ok(
            deployment.dependsOn.some((urn: string) => urn.endsWith("ServiceAccount::finbot-api")),
            "dependsOn holds URNs",
        );
        assert.ok(existsSync(path.join(out, "helm")));
        const manifests = readdirSync(path.join(out, "manifests"));
        assert.ok(manifests.includes("deployment-finbot-apps-api.yaml"), manifests.join(", "));
        const hpa = YAML.parse(readFileSync(path.join(out, "manifests", "horizontalpodautoscaler-finbot-apps-api.yaml"), "utf8"));
        assert.equal(hpa.kind, "HorizontalPodAutoscaler");
        const summary = readFileSync(path.join(out, "summary.md"), "utf8");
        assert.match(summary, /\| api \| ghcr\.io\/stefanprodan\/podinfo:6\.9\.2 \| 1–4 \|/);
    });

    it("replaces secrets by [secret] everywhere it writes", async () => {
        const { config } = loadStackConfig("dev");
        const secretConfig = structuredClone(config);
        secretConfig.services[0].secretEnv = { PAYMENT_API_KEY: secretString().parse(SECRET_STAND_IN) };
        const run = await runPlatform(secretConfig, "dev");
        const out = mkdtempSync(path.join(tmpdir(), "finbot-plan-secret-"));
        const files = writePlan(run, out, []);
        const all = files.map((f) => readFileSync(path.join(out, f), "utf8")).join("\n");
        assert.ok(!all.includes(SECRET_STAND_IN), "a secret value was written in plain text");
        const secret = YAML.parse(readFileSync(path.join(out, "manifests", "secret-finbot-apps-api-env.yaml"), "utf8"));
        assert.equal(secret.stringData, "[secret]");
        const deployment = run.get("kubernetes:apps/v1:Deployment", "finbot-api").inputs as {
            spec: { template: { spec: { containers: Array<{ envFrom: unknown[] }> } } };
        };
        assert.deepEqual(deployment.spec.template.spec.containers[0].envFrom[0], { secretRef: { name: "api-env" } });
    });

    it("plans prod, listing the placeholders a deployment would refuse", async () => {
        const out = mkdtempSync(path.join(tmpdir(), "finbot-plan-out-"));
        const result = await plan(["--stack=prod", `--out=${out}`]);
        assert.equal(result.status, 0, result.stderr);
        assert.match(readFileSync(path.join(out, "summary.md"), "utf8"), /Placeholders to replace.*finbot:cluster\.amiAlias/);
    });

    const broken: Array<[string, (text: string) => string, RegExp]> = [
        [
            "a wrong type",
            (t) => t.replace("port: 9898", "port: nine"),
            /^Pulumi\.dev\.yaml: finbot:services\[0\]\.port: expected a number, given "nine"$/m,
        ],
        [
            "a negative size",
            (t) => t.replace("min: 1, max: 4", "min: -1, max: 4"),
            /finbot:services\[0\]\.replicas\.min: expected a number >= 1, given -1/,
        ],
        [
            "an unknown key",
            (t) => t.replace("      port: 9898", "      prot: 9898\n      port: 9898"),
            /finbot:services\[0\]\.prot: unknown key/,
        ],
        [
            "min above max",
            (t) => t.replace("min: 1, max: 4", "min: 5, max: 4"),
            /replicas\.min: expected a value <= replicas\.max \(4\), given 5/,
        ],
        [
            "unparsable YAML",
            (t) => t.replace("  finbot:services:", "  finbot:services: [\n"),
            /^Pulumi\.dev\.yaml: not valid YAML at line \d+/,
        ],
    ];
    for (const [what, breakIt, expected] of broken) {
        it(`exits non-zero on ${what}, naming the key, with no stack trace`, async () => {
            const dir = projectCopyWith(breakIt(readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")));
            const result = await plan(["--stack", "dev", "--out", path.join(dir, "out")], dir);
            assert.equal(result.status, 1, result.stdout + result.stderr);
            assert.match(result.stderr, expected);
            assert.doesNotMatch(result.stderr, /\bat .*\(.*:\d+:\d+\)|Error:/, "no stack trace");
            assert.ok(!existsSync(path.join(dir, "out")), "nothing written");
        });
    }

    it("fails the prod plan when a service cannot serve 10x its peak, naming it and the numbers", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-plan-"));
        const text = readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8").replace(
            "replicas: { min: 3, max: 30 }",
            "replicas: { min: 3, max: 20 }",
        );
        writeFileSync(path.join(dir, "Pulumi.prod.yaml"), text);
        const result = await plan(["--stack", "prod", "--out", path.join(dir, "out")], dir);
        assert.equal(result.status, 1, result.stdout);
        assert.equal(
            result.stderr.trim(),
            "Pulumi.prod.yaml: finbot:services[0].replicas.max: expected enough replicas for 10x peak: 20 replicas x 200 req/s = 4000 req/s is 8x the peak of 500 req/s; 25 replicas are needed, given 20",
        );
    });

    it("states monitoring and logging's share of the planned requests against the ceiling, and flags a share over it", async () => {
        const prod = await runStack("prod");
        const share = observabilityShare(prod.platform, prod.config);
        // Prometheus, Alertmanager, Grafana, Elasticsearch and the rest against a still small FinBot.
        assert.ok(share.cpu > 0.3 && share.cpu < prod.config.monitoring.overheadCeilingPercent / 100, `${share.cpu}`);
        assert.ok(share.memory > 0.3 && share.memory < prod.config.monitoring.overheadCeilingPercent / 100, `${share.memory}`);
        const summary = (ceiling: number) =>
            renderSummary({
                stack: "prod",
                config: { ...prod.config, monitoring: { ...prod.config.monitoring, overheadCeilingPercent: ceiling } },
                platform: prod.platform,
                resources: [],
                placeholders: [],
            });
        assert.match(
            summary(85),
            new RegExp(
                `request ${Math.round(share.cpu * 100)}% of the CPU and ${Math.round(share.memory * 100)}% of the memory .* the ceiling is 85%[^*]*\\.\\n`,
            ),
        );
        assert.match(summary(30), /the ceiling is 30% .*: \*\*over it for CPU and memory\*\* at minimum replicas/);
    });

    it("rejects bad command lines with usage and exit 2", async () => {
        assert.deepEqual(parsePlanArgs(["--stack", "dev"]), {
            targets: [{ stack: "dev", file: undefined, out: path.join("plan", "dev"), against: undefined }],
        });
        assert.deepEqual(parsePlanArgs(["--stak", "dev"]), { errors: ["Unknown option '--stak'"] });
        assert.deepEqual(parsePlanArgs(["--stack"]), { errors: ["Option '--stack <value>' argument missing"] });
        assert.deepEqual(parsePlanArgs([]), { errors: ["--stack or --config is required"] });
        assert.deepEqual(parsePlanArgs(["--stack", "../../x"]), { errors: ['--stack "../../x": "../../x" is not a stack name'] });
        assert.deepEqual(parsePlanArgs(["--stack", "dev", "--stack", "dev"]), { errors: ['stack "dev" is named twice'] });
        const result = await plan(["--out"]);
        assert.equal(result.status, 2);
        assert.match(result.stderr, /usage: npm run plan -- --stack <name>/);
    });

    it("says so when the stack does not exist", async () => {
        const result = await plan(["--stack", "staging", "--out", mkdtempSync(path.join(tmpdir(), "finbot-plan-"))]);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /^Pulumi\.staging\.yaml: cannot read the stack file/);
    });

    it("plans several stacks in one process, each into <out>/<stack>, and any stack file with --config", async () => {
        const out = path.join(mkdtempSync(path.join(tmpdir(), "finbot-plan-")), "plans");
        const file = path.join(mkdtempSync(path.join(tmpdir(), "finbot-stack-")), "staging-copy.yaml");
        writeFileSync(file, readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml")));
        const result = await plan(["--stack", "dev", "--config", file, "--out", out]);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(readdirSync(out).sort(), ["dev", "staging-copy"]);
        assert.equal(JSON.parse(readFileSync(path.join(out, "staging-copy", "plan.json"), "utf8")).stack, "staging-copy");
        assert.match(result.stdout, /plan of stack dev: \d+ resources/);
    });

    it("writes diff.md against an earlier plan: resources by URN, input paths before → after, secrets only as changed", async () => {
        const base = mkdtempSync(path.join(tmpdir(), "finbot-plan-base-"));
        assert.equal((await plan(["--stack", "dev", "--out", base])).status, 0);
        const text = readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")
            .replace("min: 1, max: 4", "min: 2, max: 6")
            .replace("retentionDays: 7", "retentionDays: 9");
        const dir = projectCopyWith(text);
        const result = await plan(["--stack", "dev", "--out", path.join(dir, "out"), "--against", base], dir);
        assert.equal(result.status, 0, result.stderr);
        const diff = readFileSync(path.join(dir, "out", "diff.md"), "utf8");
        assert.match(diff, /^0 to add, 0 to remove, \d+ to change/m);
        assert.match(
            diff,
            /HorizontalPodAutoscaler::finbot-api`\n {2}- inputs\.spec\.maxReplicas: `4` → `6`\n {2}- inputs\.spec\.minReplicas: `1` → `2`/,
        );
        assert.match(diff, /^\+ \| api \| .* \| 2–6 \|/m, "the summary's table rows are diffed");
        // The lifecycle Job's requests changed (retention); the alertmanager secret did not.
        assert.match(diff, /ConfigMap::finbot-logging-lifecycle-requests`/);
        assert.doesNotMatch(diff, /alertmanager-config/);
        assert.doesNotMatch(diff, new RegExp(SECRET_STAND_IN));
    });

    it("says a secret changed without showing it", async () => {
        const { config } = loadStackConfig("dev");
        const withKey = (key: string) => {
            const c = structuredClone(config);
            c.services[0].secretEnv = { PAYMENT_API_KEY: secretString().parse(key) };
            return c;
        };
        const before = mkdtempSync(path.join(tmpdir(), "finbot-plan-"));
        writePlan(await runPlatform(withKey("first-stand-in"), "dev"), before, []);
        const after = mkdtempSync(path.join(tmpdir(), "finbot-plan-"));
        const side = {
            resources: JSON.parse(readFileSync(path.join(before, "plan.json"), "utf8")).resources,
            fingerprints: JSON.parse(readFileSync(path.join(before, "fingerprints.json"), "utf8")),
            summary: readFileSync(path.join(before, "summary.md"), "utf8"),
        };
        writePlan(await runPlatform(withKey("second-stand-in"), "dev"), after, [], side);
        const diff = readFileSync(path.join(after, "diff.md"), "utf8");
        assert.match(diff, /Secret::finbot-api-env`\n {2}- inputs\.stringData: \[secret\] changed/);
        assert.doesNotMatch(diff, /stand-in/);
    });
});

describe("offline plan: the mocks' short cuts", () => {
    // The mocks return only what a provider computes (the engine resolves the rest to the
    // inputs), and the SDK's messages carry copies instead of protobuf encodings; planned without
    // them (every resource's inputs echoed, as a provider returns them, and every message encoded
    // and decoded), every stack's plan is the same: the same resources with the same inputs, and
    // the same files.
    /** Every file a plan writes, resources in URN order (the order they register in follows timing). */
    function planFiles(run: PlatformRun): Record<string, string> {
        const out = mkdtempSync(path.join(tmpdir(), "finbot-plan-state-"));
        const files = writePlan(run, out, []);
        const byUrn = (a: { urn: string }, b: { urn: string }) => a.urn.localeCompare(b.urn);
        return Object.fromEntries(
            files.map((file) => {
                const text = readFileSync(path.join(out, file), "utf8");
                if (file === "plan.json") {
                    const doc = JSON.parse(text) as { resources: Array<{ urn: string }> };
                    return [file, JSON.stringify({ ...doc, resources: doc.resources.sort(byUrn) })];
                }
                if (file === "fingerprints.json") return [file, JSON.stringify(Object.entries(JSON.parse(text)).sort())];
                return [file, text];
            }),
        );
    }

    const stacks = [
        { stack: "dev", config: () => loadStackConfig("dev").config, run: () => runStack("dev") },
        { stack: "prod", config: () => loadStackConfig("prod").config, run: () => runStack("prod") },
        { stack: "everything", config: () => loadStackFileConfig(EVERYTHING).config, run: () => runStackFile(EVERYTHING) },
    ];
    for (const { stack, config, run } of stacks) {
        it(`changes nothing in ${stack}'s plan`, async () => {
            const short = await run();
            const whole = await runPlatform(config(), stack, { shortCuts: false });
            assert.ok(
                whole.kubernetesObjects().some((r) => r.state.spec !== undefined),
                "inputs echoed",
            );
            assert.ok(
                short.kubernetesObjects().every((r) => r.state.spec === undefined),
                "computed outputs only",
            );
            const [a, b] = [planFiles(short), planFiles(whole)];
            assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
            for (const name of Object.keys(a)) assert.equal(a[name], b[name], name);
        });
    }
});

describe("offline plan: it never destroys files", () => {
    /** A git repository with a tracked file, for the tracked-path rules. */
    function repository(): string {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-plan-repo-"));
        cpStack(dir);
        mkdirSync(path.join(dir, "components"));
        writeFileSync(path.join(dir, "components", "kept.ts"), "export {};\n");
        const git = (...args: string[]) =>
            execFileSync("git", ["-c", "user.email=ci@finbot.test", "-c", "user.name=ci", ...args], { cwd: dir });
        git("init", "-q");
        git("add", "-A");
        git("commit", "-qm", "start");
        return dir;
    }
    const cpStack = (dir: string) =>
        writeFileSync(path.join(dir, "Pulumi.dev.yaml"), readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml")));
    const status = (dir: string) => execFileSync("git", ["status", "--porcelain", "--ignored"], { cwd: dir, encoding: "utf8" });

    const refusals: Array<[string, (dir: string) => string[], RegExp]> = [
        ["the current directory", () => ["--out", "."], /^plan: --out \. is the current directory or one of its parents$/],
        ["a parent of it", () => ["--out", ".."], /^plan: --out \.\. is the current directory or one of its parents$/],
        ["a tracked folder", () => ["--out", "components"], /^plan: --out components holds files tracked by git \(components\/kept\.ts\)$/],
        ["a tracked file", () => ["--out", "Pulumi.dev.yaml"], /^plan: --out Pulumi\.dev\.yaml holds files tracked by git/],
        [
            "a folder with other files",
            (dir) => (mkdirSync(path.join(dir, "notes")), writeFileSync(path.join(dir, "notes", "a.txt"), "x"), ["--out", "notes"]),
            /^plan: --out notes is not empty and holds no earlier plan\.json$/,
        ],
        [
            "a stack's folder that links to a tracked one, below a safe folder",
            (dir) => (
                mkdirSync(path.join(dir, "plans")),
                symlinkSync(path.join(dir, "components"), path.join(dir, "plans", "dev")),
                ["--config", "other.yaml", "--out", "plans"]
            ),
            /^plan: --out plans\/dev holds files tracked by git \(components\/kept\.ts\)$/,
        ],
        [
            "the parent of several plans",
            () => ["--stack", "dev", "--out", "."],
            /^plan: --out \. is the current directory or one of its parents$/,
        ],
    ];
    for (const [what, args, message] of refusals) {
        it(`refuses ${what} with one line and exit 2, leaving the tree as it was`, async () => {
            const dir = repository();
            const argv = args(dir);
            const before = status(dir);
            const result = await plan(
                [
                    "--stack",
                    "dev",
                    ...argv.filter((a, i) => !(a === "--stack" && argv[i + 1] === "dev") && !(a === "dev" && argv[i - 1] === "--stack")),
                ],
                dir,
            );
            assert.equal(result.status, 2, result.stdout);
            assert.match(result.stderr.trim(), message);
            assert.equal(result.stderr.trim().split("\n").length, 1);
            assert.equal(status(dir), before, "git status unchanged");
        });
    }

    it("replaces an earlier plan, and refuses one that holds more than a plan", async () => {
        const dir = repository();
        assert.equal((await plan(["--stack", "dev", "--out", "out"], dir)).status, 0);
        assert.equal((await plan(["--stack", "dev", "--out", "out"], dir)).status, 0, "an earlier plan is replaced");
        writeFileSync(path.join(dir, "out", "mine.txt"), "keep me");
        const result = await plan(["--stack", "dev", "--out", "out"], dir);
        assert.equal(result.status, 2);
        assert.equal(result.stderr.trim(), "plan: --out out holds more than an earlier plan (mine.txt)");
        assert.equal(readFileSync(path.join(dir, "out", "mine.txt"), "utf8"), "keep me");
    });

    it("replaces an earlier plan as if written afresh: unchanged files untouched, stale ones gone, links never written through", async () => {
        const dir = repository();
        const out = path.join(dir, "out");
        assert.equal((await plan(["--stack", "dev", "--out", "out"], dir)).status, 0);
        const fresh = mkdtempSync(path.join(tmpdir(), "finbot-plan-fresh-"));
        assert.equal((await plan(["--stack", "dev", "--out", fresh], dir)).status, 0);
        // An earlier plan that differs: a stale manifest and folder, an edited file, a link planted
        // where a manifest goes (to a file outside), and a file whose text is already right.
        const outside = path.join(dir, "outside.txt");
        writeFileSync(outside, "not the plan's");
        writeFileSync(path.join(out, "manifests", "stale-object.yaml"), "kind: Stale\n");
        mkdirSync(path.join(out, "helm", "old-folder"));
        writeFileSync(path.join(out, "helm", "old-folder", "x.yaml"), "x: 1\n");
        writeFileSync(path.join(out, "summary.md"), "edited\n");
        const linked = path.join(out, "manifests", "namespace-finbot-apps.yaml");
        rmSync(linked);
        symlinkSync(outside, linked);
        const untouched = path.join(out, "plan.json");
        utimesSync(untouched, new Date(0), new Date(0));
        assert.equal((await plan(["--stack", "dev", "--out", "out"], dir)).status, 0);
        const files = (root: string) =>
            (readdirSync(root, { recursive: true }) as string[]).sort().map((f) => {
                const full = path.join(root, f);
                return [
                    f,
                    lstatSync(full).isSymbolicLink() ? "link" : lstatSync(full).isDirectory() ? "folder" : readFileSync(full, "utf8"),
                ];
            });
        assert.deepEqual(files(out), files(fresh));
        assert.equal(readFileSync(outside, "utf8"), "not the plan's", "the link's target is not written");
        assert.equal(statSync(untouched).mtimeMs, 0, "a file already holding its text is not written again");
    });

    it("as a process: a bad stack file is one line per problem and exit 1, never a stack trace", () => {
        const dir = projectCopyWith(readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8").replace("port: 9898", "port: nine"));
        const result = spawnSync(process.execPath, ["--require", PRELOAD, PLAN, "--stack", "dev"], {
            cwd: dir,
            encoding: "utf8",
            timeout: 60_000,
        });
        assert.equal(result.status, 1, result.stdout);
        assert.equal(result.stderr.trim(), 'Pulumi.dev.yaml: finbot:services[0].port: expected a number, given "nine"');
        assert.ok(!existsSync(path.join(dir, "plan")), "nothing written");
    });
});

describe("summary.md's tables (components/lib/markdown.ts)", () => {
    it("orders summary tables the same whatever the runner's locale: case-insensitively, then by code point", () => {
        const types = [
            "kubernetes:core/v1:Secret",
            "aws:z",
            "finbot:data:DataTier",
            "aws:å",
            "finbot:data:Database",
            "Finbot:a",
            "finbot:a",
        ];
        assert.deepEqual([...types].sort(byText), [
            "aws:z",
            "aws:å",
            "Finbot:a",
            "finbot:a",
            "finbot:data:Database",
            "finbot:data:DataTier",
            "kubernetes:core/v1:Secret",
        ]);
    });

    it("writes request counts with their thousands grouped, as the en-US locale does", () => {
        for (const count of [0, 7, 999, 1000, 600000, 1234567, 1000000000, -4500, Number.MAX_SAFE_INTEGER])
            assert.equal(groupThousands(count), count.toLocaleString("en-US"));
        assert.throws(() => groupThousands(1.5), /not a whole number/);
    });
});
