// npm run bench [-- --runs N] [--test-runs N] [--anchor <dir>] [--baseline <dir>]: measures, side
// by side in one run, the wall time of the offline plan of both stacks (one process), of an anchor
// (a folder holding another tool's offline render, run as `npx ts-node --transpile-only app.ts`,
// e.g. EKS Blueprints' CDK synth), of the test suite, and of a baseline's test suite (a checkout of
// an earlier commit with its node_modules installed), and writes docs/benchmarks.md with the ratios. Numbers in docs
// come from here, not from tests.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { Io, argumentError, runCli } from "./lib/cli";

const ROOT = path.resolve(__dirname, "..");

interface Command {
    label: string;
    argv: string[];
    cwd: string;
    runs: number;
    /** Runs before each timed run, untimed. */
    before?: () => void;
}

/** The folders the tools' loader caches compiled code in (scripts/preload.cjs, loaded with this script). */
const { CACHE_DIRS } = createRequire(__filename)("./preload.cjs") as { CACHE_DIRS: string[] };

interface Options {
    runs: number;
    testRuns: number;
    anchor?: string;
    /** A checkout of an earlier commit, its dependencies installed: its `npm test` runs beside ours. */
    baseline?: string;
}

const USAGE =
    "usage: npm run bench [-- --runs N] [--test-runs N] [--anchor <dir with app.ts>] [--baseline <checkout with node_modules>]   (N >= 1; --test-runs 0 skips the suites)";

/** The options, or the problems with them (one line each). */
function parseOptions(argv: string[]): { ok: true; options: Options } | { ok: false; errors: string[] } {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                runs: { type: "string" },
                "test-runs": { type: "string" },
                anchor: { type: "string" },
                baseline: { type: "string" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (error) {
        return { ok: false, errors: [argumentError(error)] };
    }
    const errors: string[] = [];
    const count = (name: string, value: string | undefined, fallback: number, min: number) => {
        const n = value === undefined ? fallback : Number(value);
        if (!Number.isInteger(n) || n < min) errors.push(`--${name}: expected a whole number >= ${min}, given ${JSON.stringify(value)}`);
        return n;
    };
    const runs = count("runs", values.runs, 5, 1);
    const testRuns = count("test-runs", values["test-runs"], 1, 0);
    const anchor = values.anchor ? path.resolve(values.anchor) : undefined;
    if (anchor && !existsSync(path.join(anchor, "app.ts"))) errors.push(`--anchor: expected a folder with app.ts, given ${values.anchor}`);
    const baseline = values.baseline ? path.resolve(values.baseline) : undefined;
    if (baseline && !existsSync(path.join(baseline, "node_modules")))
        errors.push(
            `--baseline: expected a checkout with its node_modules installed (git worktree add <dir> <commit>; npm ci there), given ${values.baseline}`,
        );
    return errors.length > 0 ? { ok: false, errors } : { ok: true, options: { runs, testRuns, anchor, baseline } };
}

function time(command: Command): number {
    command.before?.();
    const start = process.hrtime.bigint();
    const result = spawnSync(command.argv[0], command.argv.slice(1), { cwd: command.cwd, stdio: "ignore" });
    if (result.status !== 0) throw new Error(`${command.label} failed with exit code ${result.status}`);
    return Number(process.hrtime.bigint() - start) / 1e9;
}

function commands(options: Options): Command[] {
    const out = path.join(os.tmpdir(), "finbot-bench");
    return [
        {
            label: "`npm run plan -- --stack dev --stack prod` (one process)",
            argv: ["npm", "run", "-s", "plan", "--", "--stack", "dev", "--stack", "prod", "--out", out],
            cwd: ROOT,
            runs: options.runs,
        },
        {
            label: "the same, first run after `npm ci` (the loader's compile caches empty)",
            argv: ["npm", "run", "-s", "plan", "--", "--stack", "dev", "--stack", "prod", "--out", out],
            cwd: ROOT,
            runs: 1,
            before: () => CACHE_DIRS.forEach((dir) => rmSync(dir, { recursive: true, force: true })),
        },
        ...(options.anchor
            ? [
                  {
                      label: "anchor: EKS Blueprints CDK synth of two clusters (`npx ts-node --transpile-only app.ts`)",
                      argv: ["npx", "ts-node", "--transpile-only", "app.ts"],
                      cwd: options.anchor,
                      runs: options.runs,
                  },
              ]
            : []),
        ...(options.testRuns > 0
            ? [
                  {
                      label: "`npm test` (whole suite, mocha in parallel)",
                      argv: ["npm", "test", "--silent"],
                      cwd: ROOT,
                      runs: options.testRuns,
                  },
              ]
            : []),
        ...(options.testRuns > 0 && options.baseline
            ? [
                  {
                      label: `baseline: \`npm test\` of ${path.basename(options.baseline)}`,
                      argv: ["npm", "test", "--silent"],
                      cwd: options.baseline,
                      runs: options.testRuns,
                  },
              ]
            : []),
    ];
}

export function main(argv: string[], io: Io): number {
    const parsed = parseOptions(argv);
    if (!parsed.ok) {
        for (const e of parsed.errors) io.err(`bench: ${e}`);
        io.err(USAGE);
        return 2;
    }
    const list = commands(parsed.options);
    // Interleaved, so that the machine's drift hits every command alike.
    const seconds = list.map(() => [] as number[]);
    const rounds = Math.max(...list.map((c) => c.runs));
    for (let round = 0; round < rounds; round++) list.forEach((c, i) => round < c.runs && seconds[i].push(time(c)));
    const median = (i: number) => [...seconds[i]].sort((a, b) => a - b)[Math.floor(seconds[i].length / 2)];
    const rows = list.map((c, i) => {
        const s = [...seconds[i]].sort((a, b) => a - b);
        return `| ${c.label} | ${s.length} | ${s[0].toFixed(2)} | ${median(i).toFixed(2)} | ${s[s.length - 1].toFixed(2)} |`;
    });
    // Ratios of medians: the plan against the anchor, the suite against the baseline's.
    const index = (prefix: string) => list.findIndex((c) => c.label.startsWith(prefix));
    const ratio = (a: number, b: number, what: string) => (a >= 0 && b >= 0 ? [`- ${what}: ${(median(a) / median(b)).toFixed(2)}×`] : []);
    const ratios = [
        ...ratio(index("`npm run plan"), index("anchor:"), "the offline plan of both stacks against the anchor"),
        ...ratio(index("`npm test`"), index("baseline:"), "`npm test` against the baseline's suite"),
    ];
    const text = [
        "# Benchmarks",
        "",
        "<!-- written by `npm run bench`; rerun it after changes that may matter -->",
        "",
        `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ` +
            `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; commands interleaved, wall time in seconds ` +
            "(whole processes: starting Node and loading the SDKs included).",
        "",
        "| command | runs | min | median | max |",
        "| --- | --- | --- | --- | --- |",
        ...rows,
        "",
        ...(ratios.length > 0 ? ["Ratios of the medians:", "", ...ratios, ""] : []),
    ].join("\n");
    writeFileSync(path.join(ROOT, "docs", "benchmarks.md"), text);
    io.out(text);
    return 0;
}

if (require.main === module) runCli("bench", main);
