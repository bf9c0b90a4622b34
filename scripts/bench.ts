// npm run bench [-- --runs N]: measures the wall time of the test suite and of the offline plan of
// each stack, and writes docs/benchmarks.md. Numbers in docs come from here, not from tests.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

interface Command {
    label: string;
    argv: string[];
}

const COMMANDS: Command[] = [
    { label: "`npm test` (whole suite)", argv: ["npm", "test", "--silent"] },
    {
        label: "`npm run plan -- --stack dev`",
        argv: [TSX, "scripts/plan.ts", "--stack", "dev", "--out", path.join(os.tmpdir(), "finbot-bench", "dev")],
    },
    {
        label: "`npm run plan -- --stack prod`",
        argv: [TSX, "scripts/plan.ts", "--stack", "prod", "--out", path.join(os.tmpdir(), "finbot-bench", "prod")],
    },
];

function time(command: Command): number {
    const start = process.hrtime.bigint();
    const result = spawnSync(command.argv[0], command.argv.slice(1), { cwd: ROOT, stdio: "ignore" });
    if (result.status !== 0) throw new Error(`${command.label} failed with exit code ${result.status}`);
    return Number(process.hrtime.bigint() - start) / 1e9;
}

function main(): void {
    const runsArg = process.argv.indexOf("--runs");
    const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 3;
    if (!Number.isInteger(runs) || runs < 1) {
        console.error("usage: npm run bench [-- --runs N]   (N >= 1)");
        process.exit(2);
    }
    const rows = COMMANDS.map((command) => {
        const seconds = Array.from({ length: runs }, () => time(command)).sort((a, b) => a - b);
        const median = seconds[Math.floor(seconds.length / 2)];
        return `| ${command.label} | ${seconds[0].toFixed(2)} | ${median.toFixed(2)} | ${seconds[seconds.length - 1].toFixed(2)} |`;
    });
    const text = [
        "# Benchmarks",
        "",
        "<!-- written by `npm run bench`; rerun it after changes that may matter -->",
        "",
        `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ` +
            `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${runs} runs each, wall time in seconds ` +
            "(the plan includes starting tsx and loading the Pulumi SDK).",
        "",
        "| command | min | median | max |",
        "| --- | --- | --- | --- |",
        ...rows,
        "",
    ].join("\n");
    writeFileSync(path.join(ROOT, "docs", "benchmarks.md"), text);
    console.log(text);
}

main();
