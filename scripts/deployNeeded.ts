// npm run deploy:needed -- --stack <stack> --deployed <commit> --deployed-plan <dir> --plan <dir>
// Whether a merge to main changes what a stack runs, so that its deploy (preview -> approval -> up)
// runs for every such change and only for those. It compares the offline plan of HEAD with the
// one of the commit the stack last ran, and the inputs a plan cannot show: the stack file (its
// encrypted secrets plan as stand-ins) and package-lock.json (provider and SDK versions). Prints
// GitHub step outputs `deploy=true|false` and `reason=...`; holds and needs no credential.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { stackFileNameOrError } from "./lib/promotion";
import { Io, argumentError, runCli } from "./lib/cli";
import { git, onFirstParentHistory, resolveCommit } from "./lib/git";
import { planChanges, readPlanSide } from "./lib/planDiff";

const USAGE = "usage: npm run deploy:needed -- --stack <stack> --deployed <commit|''> --deployed-plan <dir> --plan <dir>";

/** Why the stack must be deployed, or undefined when HEAD runs what it already runs. */
export function deployReason(
    projectDir: string,
    stack: string,
    deployed: string,
    deployedPlanDir: string,
    planDir: string,
): string | undefined {
    if (!deployed) return `no successful deployment of ${stack} is recorded`;
    const commit = resolveCommit(projectDir, deployed);
    if (!commit) return `the deployed commit ${deployed} is not in this repository's history`;
    const short = commit.slice(0, 8);
    if (!onFirstParentHistory(projectDir, commit)) return `the deployed commit ${short} is not on main's first-parent history`;
    // What changes what runs although the offline plan cannot show it.
    const unplannedInputs = [stackFileNameOrError(stack), "package-lock.json"];
    const changedFiles = git(projectDir, ["diff", "--name-only", commit, "HEAD", "--", ...unplannedInputs]);
    if (changedFiles) return `${changedFiles.split("\n").join(", ")} changed since ${short}`;
    const head = readPlanSide(path.resolve(projectDir, planDir));
    if (!head) throw new Error(`${planDir} holds no plan.json (make one with npm run plan -- --stack ${stack} --out ${planDir})`);
    const before = readPlanSide(path.resolve(projectDir, deployedPlanDir));
    if (!before) return `the deployed commit ${short} has no offline plan to compare with`;
    const { added, removed, changed, counts } = planChanges(before, head);
    if (added.length + removed.length + changed.length > 0) return `the offline plan changed since ${short}: ${counts}`;
    return undefined;
}

export function main(argv: string[], io: Io): number {
    let values: Record<string, string | undefined>;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                deployed: { type: "string" },
                "deployed-plan": { type: "string" },
                plan: { type: "string" },
            },
        }));
    } catch (error) {
        io.err(`deploy:needed: ${argumentError(error)}`);
        io.err(USAGE);
        return 2;
    }
    const missing = (["stack", "deployed", "deployed-plan", "plan"] as const).filter((flag) => values[flag] === undefined);
    if (missing.length > 0) {
        for (const flag of missing) io.err(`deploy:needed: --${flag} is required`);
        io.err(USAGE);
        return 2;
    }
    const reason = deployReason(io.cwd, values.stack!, values.deployed!, values["deployed-plan"]!, values.plan!);
    io.out(`deploy=${reason !== undefined}`);
    io.out(
        `reason=${reason ?? `the offline plan, ${stackFileNameOrError(values.stack!)} and package-lock.json equal the deployed commit's`}`,
    );
    return 0;
}

if (require.main === module) runCli("deploy:needed", main);
