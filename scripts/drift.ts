// npm run drift -- <preview.json>
// Reads `pulumi preview --json` and prints GitHub step outputs: `drift=true|false` and a short
// `changes` text. Only steps that change something count; a preview that failed never gets here
// (the workflow step fails first), so "drift" always means the preview ran and found changes.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Io, runCli } from "./lib/cli";

/** What a preview changes, by operation, leaving out `same` (and refresh-only reads). */
export function driftOf(preview: { changeSummary?: Record<string, number> }): { drift: boolean; changes: string } {
    const counts = Object.entries(preview.changeSummary ?? {}).filter(([op, n]) => op !== "same" && op !== "read" && n > 0);
    return { drift: counts.length > 0, changes: counts.map(([op, n]) => `${n} to ${op}`).join(", ") || "no changes" };
}

export function main(argv: string[], io: Io): number {
    if (argv.length !== 1) {
        io.err("usage: npm run drift -- <preview.json>");
        return 2;
    }
    let preview: { changeSummary?: Record<string, number> } | null;
    try {
        preview = JSON.parse(readFileSync(path.resolve(io.cwd, argv[0]), "utf8"));
    } catch (error) {
        io.err(`drift: ${argv[0]}: not a pulumi preview --json output (${(error as Error).message.split("\n")[0]})`);
        return 2;
    }
    if (preview === null || typeof preview !== "object" || Array.isArray(preview)) {
        io.err(`drift: ${argv[0]}: not a pulumi preview --json output (${JSON.stringify(preview)} is not an object)`);
        return 2;
    }
    const counts = preview.changeSummary;
    if (counts === null || typeof counts !== "object" || Object.values(counts).some((n) => typeof n !== "number")) {
        io.err(`drift: ${argv[0]}: has no changeSummary of counts (did the preview run?)`);
        return 2;
    }
    const { drift, changes } = driftOf(preview);
    io.out(`drift=${drift}`);
    io.out(`changes=${changes}`);
    return 0;
}

if (require.main === module) runCli("drift", main);
