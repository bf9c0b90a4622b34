// npm run rollback -- --stack <stack> [--to <commit>] | --stack <stack> --to <commit> --with-code
// Restores earlier releases of a stack file from git history: those of `--to`, or by default the
// ones the current releases replaced. Only the values it restores change (in place); every other
// key and line stays, so no pin is ever dropped, and a second run goes further back instead of
// flipping back. With --with-code it restores the whole tree of `--to` (code and config together,
// files added since removed), an earlier commit of main that the stack ran (`pulumi stack tag get
// finbot:deployed-commit`, the production environment's deployments): committed as a pull request,
// it reaches prod through the same gate as any change.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { Io, argumentError, runCli } from "./lib/cli";
import { writeFileAtomic } from "./lib/files";
import { git, onFirstParentHistory, resolveCommit } from "./lib/git";
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

const USAGE = "usage: npm run rollback -- --stack <stack> [--to <commit>] [--with-code]";

/** The working tree (and index) made the tree of `to`, an earlier commit of main's first-parent history. */
export function rollbackTree(projectDir: string, stack: string, to: string, log: (line: string) => void): void {
    const file = stackFileNameOrError(stack);
    const commit = resolveCommit(projectDir, to);
    if (!commit) throw new PromotionError([`--to ${to}: not a commit of this repository`]);
    const short = commit.slice(0, 8);
    if (git(projectDir, ["status", "--porcelain"]) !== "")
        throw new PromotionError(["the working tree has changes: commit or stash them first (the rollback replaces the whole tree)"]);
    if (commit === git(projectDir, ["rev-parse", "HEAD"])) throw new PromotionError([`--to ${to}: is HEAD already`]);
    if (!onFirstParentHistory(projectDir, commit))
        throw new PromotionError([`--to ${to}: ${short} is not on main's first-parent history, so ${stack} never ran it`]);
    if (!git(projectDir, ["ls-tree", "--name-only", commit, "--", file]))
        throw new PromotionError([`--to ${to}: ${file} does not exist at ${short}`]);
    git(projectDir, ["restore", `--source=${commit}`, "--staged", "--worktree", "--", "."]);
    const changed = git(projectDir, ["diff", "--cached", "--name-only"]).split("\n").filter(Boolean);
    log(`restored the tree of ${short} (code and config): ${changed.length} file(s) changed`);
    log(`commit it ("Roll back ${stack} to ${short}") as a pull request: the deploy applies it through preview, approval and up`);
}

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
    let values: { stack?: string; to?: string; "with-code"?: boolean };
    try {
        ({ values } = parseArgs({
            args: argv,
            options: { stack: { type: "string" }, to: { type: "string" }, "with-code": { type: "boolean" } },
        }));
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
    if (values["with-code"]) {
        if (!values.to) {
            io.err("rollback: --with-code restores an earlier deployed commit: name it with --to");
            io.err(USAGE);
            return Promise.resolve(2);
        }
        return runPromotionCommand(io, () => rollbackTree(io.cwd, values.stack!, values.to!, io.out));
    }
    return runPromotionCommand(io, () => rollback(io.cwd, values.stack!, values.to, io.out));
}

if (require.main === module) runCli("rollback", main);
