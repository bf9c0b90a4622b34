// npm run budget -- --dir <build output> --budgets <budgets.json> [--pushgateway <url>]
// The performance budget FinBot's front-end pipelines call after a build: gzip size of the
// assets matching each budget's pattern against its limit. Exits 1 when over budget; with
// --pushgateway the sizes go to Prometheus so the Business dashboard shows the trend.
import { readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { z } from "zod";

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

async function main(argv: string[]): Promise<number> {
    const get = (flag: string) => {
        const i = argv.indexOf(flag);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const dir = get("--dir");
    const budgetsFile = get("--budgets");
    const pushgateway = get("--pushgateway");
    if (!dir || !budgetsFile) {
        console.error("usage: npm run budget -- --dir <build output> --budgets <budgets.json> [--pushgateway <url>]");
        return 2;
    }
    let budgets: Budgets;
    try {
        budgets = budgetsSchema.parse(JSON.parse(readFileSync(budgetsFile, "utf8")));
    } catch (error) {
        console.error(
            `budget: ${budgetsFile}: ${error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") : (error as Error).message}`,
        );
        return 2;
    }
    const results = measure(dir, budgets);
    for (const r of results) {
        console.log(
            `${r.over ? "OVER" : "ok  "} ${r.pattern}: ${(r.gzipBytes / 1024).toFixed(1)} KiB gzip in ${r.files} file(s), budget ${(r.limitBytes / 1024).toFixed(1)} KiB`,
        );
    }
    if (pushgateway) {
        const response = await fetch(`${pushgateway.replace(/\/$/, "")}/metrics/job/finbot_budget/app/${budgets.app}`, {
            method: "PUT",
            body: exposition(budgets.app, results),
        });
        if (!response.ok) {
            console.error(`budget: the Pushgateway answered ${response.status}`);
            return 1;
        }
    }
    return results.some((r) => r.over) ? 1 : 0;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
