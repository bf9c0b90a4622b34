// npm run policy -- <plan dir> [<plan dir>...] [--report <file>]
// The policy pack over offline plans, without the Pulumi engine or credentials: what a pull
// request's plans would violate. Each stack runs in the environment its policy config names
// (policy/config.<stack>.json; production, the strictest, when there is none). Prints a Markdown
// report (also to --report) and exits 1 when a mandatory rule is violated.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { EvaluatedResource, Violation, evaluate } from "../policy/evaluate";
import { allPolicies } from "../policy/rules";
import { Io, argumentError, runCli } from "./lib/cli";
import { outputFileProblem, writeFileAtomic } from "./lib/files";
import { table } from "../components/lib/markdown";

const USAGE = "usage: npm run policy -- <plan dir> [<plan dir>...] [--report <file>]";

interface PlanFile {
    stack: string;
    resources: Array<{ urn: string; type: string; name: string; inputs: Record<string, unknown> }>;
}

/** The environment the pack runs a stack's plan in. */
export function policyEnvironment(projectDir: string, stack: string): string {
    const file = path.join(projectDir, "policy", `config.${stack}.json`);
    if (!existsSync(file)) return "production";
    const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, { environment?: string }>;
    return Object.values(config).find((c) => c.environment)?.environment ?? "production";
}

/** The resources a plan registered with a provider, as the pack sees them (secrets stay "[secret]"). */
export function planResources(plan: PlanFile): EvaluatedResource[] {
    return plan.resources
        .filter((r) => !r.type.startsWith("finbot:"))
        .map((r) => ({ type: r.type, urn: r.urn, name: r.name, props: r.inputs }));
}

/** How every report starts: an earlier one may be replaced, nothing else (outputFileProblem). */
const REPORT_HEADING = "## Policy pack over the offline plans";

export function renderReport(results: Array<{ stack: string; environment: string; violations: Violation[]; rules: number }>): string {
    const lines = [REPORT_HEADING, ""];
    for (const r of results) {
        const mandatory = r.violations.filter((v) => v.enforcementLevel === "mandatory").length;
        lines.push(
            `### ${r.stack} (${r.environment}): ${mandatory === 0 ? "✅" : "❌"} ${mandatory} mandatory, ${r.violations.length - mandatory} advisory violation(s) of ${r.rules} rules`,
            "",
        );
        if (r.violations.length > 0) {
            lines.push(
                table(
                    ["rule", "level", "resource", "violation"],
                    r.violations.map((v) => [v.policy, v.enforcementLevel, v.urn?.split("::").pop() ?? "(stack)", v.message]),
                ),
                "",
            );
        }
    }
    return lines.join("\n");
}

export async function main(argv: string[], io: Io): Promise<number> {
    let parsed: { values: { report?: string }; positionals: string[] };
    try {
        parsed = parseArgs({ args: argv, allowPositionals: true, options: { report: { type: "string" } } });
    } catch (error) {
        io.err(`policy: ${argumentError(error)}`);
        io.err(USAGE);
        return 2;
    }
    if (parsed.positionals.length === 0) {
        io.err("policy: name at least one plan folder");
        io.err(USAGE);
        return 2;
    }
    const report = parsed.values.report;
    const unwritable = report === undefined ? undefined : outputFileProblem(report, io.cwd, REPORT_HEADING);
    if (unwritable) {
        io.err(`policy: --report ${unwritable}`);
        return 2;
    }
    const plans: PlanFile[] = [];
    for (const dir of parsed.positionals) {
        const file = path.resolve(io.cwd, dir, "plan.json");
        if (!existsSync(file)) {
            io.err(`policy: ${dir} holds no plan.json (make one with npm run plan)`);
            return 2;
        }
        plans.push(JSON.parse(readFileSync(file, "utf8")) as PlanFile);
    }
    const results = [];
    for (const plan of plans) {
        const environment = policyEnvironment(io.cwd, plan.stack);
        results.push({
            stack: plan.stack,
            environment,
            rules: allPolicies.length,
            violations: await evaluate(allPolicies, planResources(plan), environment),
        });
    }
    const rendered = renderReport(results);
    io.out(rendered);
    if (report) writeFileAtomic(path.resolve(io.cwd, report), `${rendered}\n`);
    return results.some((r) => r.violations.some((v) => v.enforcementLevel === "mandatory")) ? 1 : 0;
}

if (require.main === module) runCli("policy", main);
