// npm run rollback -- --stack <stack>
// Restores the releases the stack file had before its last release change (from git history),
// with the same checks and diff as promotion. Infrastructure rollback is `pulumi stack history`
// and `pulumi up` of an older commit (docs/delivery.md).
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { stackFileName } from "../components/config/load";
import {
    PromotionError,
    runPromotionCommand,
    withReleases,
    diff,
    leaves,
    parseDocument,
    readText,
    releaseHistory,
    releasesOf,
    renderDiff,
    schemaProblems,
    unpinned,
} from "./lib/promotion";

const USAGE = "usage: npm run rollback -- --stack <stack>";

export function rollback(projectDir: string, stack: string, log: (line: string) => void): void {
    const file = stackFileName(stack);
    const original = readText(projectDir, stack);
    const doc = parseDocument(original, file);
    const current = releasesOf(doc, file);
    const same = (a: object, b: object) => JSON.stringify([...leaves(a)].sort()) === JSON.stringify([...leaves(b)].sort());
    // The newest committed releases that differ from what is there now are the previous ones.
    const previous = releaseHistory(projectDir, stack).find((h) => !same(h.releases, current));
    if (!previous) throw new PromotionError([`${file}: git history has no earlier ${"finbot:releases"} to roll back to`]);
    const problems = unpinned(previous.releases, `${file}@${previous.commit.slice(0, 8)}`);
    if (problems.length) throw new PromotionError(problems);
    const text = withReleases(original, previous.releases);
    const rejected = schemaProblems(projectDir, stack, text);
    if (rejected.length) throw new PromotionError(rejected);
    log(`rolling ${file} back to the releases of ${previous.commit.slice(0, 8)}`);
    log(renderDiff(file, diff(current, previous.releases)));
    writeFileSync(path.join(projectDir, file), text);
}

function main(): Promise<number> {
    const argv = process.argv.slice(2);
    const stack = argv[0] === "--stack" ? argv[1] : argv[0]?.startsWith("--stack=") ? argv[0].slice(8) : undefined;
    if (!stack || argv.length > (argv[0] === "--stack" ? 2 : 1)) {
        console.error(USAGE);
        return Promise.resolve(2);
    }
    return runPromotionCommand(() => rollback(process.cwd(), stack, (line) => console.log(line)));
}

if (require.main === module) void main().then((code) => process.exit(code));
