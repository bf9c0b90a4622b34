// npm run rollback -- --stack <stack> [--to <commit>]
// Restores earlier releases of a stack file from git history: those of `--to`, or by default the
// ones the current releases replaced. Only the values it restores change (in place); every other
// key and line stays, so no pin is ever dropped, and a second run goes further back instead of
// flipping back. Infrastructure rollback is `pulumi stack history` and `pulumi up` of an older
// commit (docs/delivery.md).
import * as path from "node:path";
import { parseArgs } from "node:util";
import { Io, argumentError, runCli } from "./lib/cli";
import { writeFileAtomic } from "./lib/files";
import {
    PromotionError,
    diff,
    leaves,
    parseDocument,
    readText,
    releaseHistory,
    releasesAt,
    releasesBefore,
    releasesOf,
    renderDiff,
    runPromotionCommand,
    schemaProblems,
    stackFileNameOrError,
    unpinned,
    withReleases,
} from "./lib/promotion";

const USAGE = "usage: npm run rollback -- --stack <stack> [--to <commit>]";

export function rollback(projectDir: string, stack: string, to: string | undefined, log: (line: string) => void): void {
    const file = stackFileNameOrError(stack);
    const original = readText(projectDir, stack);
    const current = releasesOf(parseDocument(original, file), file);
    const target = to ? releasesAt(projectDir, stack, to) : releasesBefore(releaseHistory(projectDir, stack), current);
    if (!target) throw new PromotionError([`${file}: git history has no earlier finbot:releases to roll back to`]);
    const problems = unpinned(target.releases, `${file}@${target.commit.slice(0, 8)}`);
    if (problems.length) throw new PromotionError(problems);
    const text = withReleases(original, target.releases, false);
    const rejected = schemaProblems(projectDir, stack, text);
    if (rejected.length) throw new PromotionError(rejected);
    const changes = diff(current, releasesOf(parseDocument(text, file), file));
    const kept = [...leaves(target.releases).keys()].filter((k) => !leaves(current).has(k));
    log(`rolling ${file} back to the releases of ${target.commit.slice(0, 8)}`);
    log(renderDiff(file, changes));
    if (kept.length) log(`not restored (no longer pinned in ${file}): ${kept.join(", ")}`);
    if (changes.length) writeFileAtomic(path.join(projectDir, file), text);
}

export function main(argv: string[], io: Io): Promise<number> {
    let values: { stack?: string; to?: string };
    try {
        ({ values } = parseArgs({ args: argv, options: { stack: { type: "string" }, to: { type: "string" } } }));
    } catch (error) {
        io.err(`rollback: ${argumentError(error)}`);
        io.err(USAGE);
        return Promise.resolve(2);
    }
    if (!values.stack) {
        io.err("rollback: --stack is required");
        io.err(USAGE);
        return Promise.resolve(2);
    }
    return runPromotionCommand(io, () => rollback(io.cwd, values.stack!, values.to, io.out));
}

if (require.main === module) runCli("rollback", main);
