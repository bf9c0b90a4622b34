// npm run budget -- --dir <build output> --budgets <budgets.json> [--pushgateway <url>]
// The performance budget FinBot's front-end pipelines call after a build: gzip size of the
// assets matching each budget's pattern against its limit. Exits 1 when over budget; with
// --pushgateway the sizes go to Prometheus so the Business dashboard shows the trend.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import { Io, argumentError, runCli } from "./lib/cli";

export const budgetsSchema = z.strictObject({
    app: z.string().regex(/^[a-z][-a-z0-9]*$/),
    budgets: z.array(z.strictObject({ pattern: z.string().min(1), maxGzipKb: z.number().positive() })).min(1),
});
export type Budgets = z.output<typeof budgetsSchema>;

export interface BudgetResult {
    pattern: string;
    files: number;
    gzipBytes: number;
    limitBytes: number;
    over: boolean;
}

/** `assets/*.js` -> a regex over paths relative to the build directory (`**` crosses folders). */
export function patternRegex(pattern: string): RegExp {
    const escaped = pattern
        .split("**")
        .map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*"))
        .join(".*");
    return new RegExp(`^${escaped}$`);
}

function filesUnder(dir: string, prefix = ""): string[] {
    return readdirSync(path.join(dir, prefix)).flatMap((entry) => {
        const rel = prefix ? `${prefix}/${entry}` : entry;
        return statSync(path.join(dir, rel)).isDirectory() ? filesUnder(dir, rel) : [rel];
    });
}

export function measure(dir: string, budgets: Budgets): BudgetResult[] {
    const files = filesUnder(dir);
    const gzipSize = new Map(files.map((f) => [f, gzipSync(readFileSync(path.join(dir, f)), { level: 9 }).length]));
    return budgets.budgets.map(({ pattern, maxGzipKb }) => {
        const matched = files.filter((f) => patternRegex(pattern).test(f));
        const gzipBytes = matched.reduce((sum, f) => sum + gzipSize.get(f)!, 0);
        const limitBytes = Math.round(maxGzipKb * 1024);
        return { pattern, files: matched.length, gzipBytes, limitBytes, over: gzipBytes > limitBytes };
    });
}

/** Prometheus text exposition of the results, for the Pushgateway. */
export function exposition(app: string, results: BudgetResult[]): string {
    const label = (r: BudgetResult) => `{app="${app}",pattern="${r.pattern.replace(/"/g, '\\"')}"}`;
    return [
        "# TYPE finbot_asset_gzip_bytes gauge",
        ...results.map((r) => `finbot_asset_gzip_bytes${label(r)} ${r.gzipBytes}`),
        "# TYPE finbot_asset_budget_bytes gauge",
        ...results.map((r) => `finbot_asset_budget_bytes${label(r)} ${r.limitBytes}`),
        "",
    ].join("\n");
}

const USAGE = "usage: npm run budget -- --dir <build output> --budgets <budgets.json> [--pushgateway <url>]";

export async function main(argv: string[], io: Io): Promise<number> {
    let values: { dir?: string; budgets?: string; pushgateway?: string };
    try {
        ({ values } = parseArgs({
            args: argv,
            options: { dir: { type: "string" }, budgets: { type: "string" }, pushgateway: { type: "string" } },
        }));
    } catch (error) {
        io.err(`budget: ${argumentError(error)}`);
        io.err(USAGE);
        return 2;
    }
    const missing = (["dir", "budgets"] as const).filter((flag) => !values[flag]);
    if (missing.length > 0) {
        for (const flag of missing) io.err(`budget: --${flag} is required`);
        io.err(USAGE);
        return 2;
    }
    const dir = path.resolve(io.cwd, values.dir!);
    const budgetsFile = path.resolve(io.cwd, values.budgets!);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        io.err(`budget: --dir ${values.dir}: not a folder`);
        return 2;
    }
    let budgets: Budgets;
    try {
        const parsed = budgetsSchema.safeParse(JSON.parse(readFileSync(budgetsFile, "utf8")));
        if (!parsed.success) {
            for (const issue of parsed.error.issues)
                io.err(`budget: ${values.budgets}: ${issue.path.join(".") || "(top)"}: ${issue.message}`);
            return 2;
        }
        budgets = parsed.data;
    } catch (error) {
        const reason =
            (error as NodeJS.ErrnoException).code === "ENOENT"
                ? "cannot read the file"
                : `not valid JSON (${(error as Error).message.split("\n")[0]})`;
        io.err(`budget: ${values.budgets}: ${reason}`);
        return 2;
    }
    const results = measure(dir, budgets);
    for (const r of results) {
        io.out(
            `${r.files === 0 ? "NONE" : r.over ? "OVER" : "ok  "} ${r.pattern}: ${(r.gzipBytes / 1024).toFixed(1)} KiB gzip in ${r.files} file(s), budget ${(r.limitBytes / 1024).toFixed(1)} KiB`,
        );
    }
    // A pattern that matches nothing measures nothing: a renamed asset folder must not pass silently.
    for (const r of results.filter((x) => x.files === 0)) io.err(`budget: ${r.pattern} matches no file under ${values.dir}`);
    if (values.pushgateway) {
        try {
            const response = await fetch(`${values.pushgateway.replace(/\/$/, "")}/metrics/job/finbot_budget/app/${budgets.app}`, {
                method: "PUT",
                body: exposition(budgets.app, results),
                signal: AbortSignal.timeout(10_000),
            });
            if (!response.ok) {
                io.err(`budget: the Pushgateway answered ${response.status}`);
                return 1;
            }
        } catch (error) {
            io.err(`budget: cannot reach the Pushgateway at ${values.pushgateway}: ${(error as Error).message}`);
            return 1;
        }
    }
    return results.some((r) => r.over || r.files === 0) ? 1 : 0;
}

if (require.main === module) runCli("budget", main);
