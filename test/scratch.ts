// One scratch directory per test run. Tests, the scripts they run and the servers they start take
// their temporary files from the OS temporary directory (mkdtemp, mktemp, data directories): this
// points TMPDIR at a directory of the run's own before the workers start (they inherit it) and
// removes it when the run ends, whatever the tests left there (a PostgreSQL data directory is
// 54 MB). Mocha runs these global fixtures once, in its main process.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** What a run's scratch directory replaced, to put back. */
export interface ScratchRun {
    dir: string;
    previousTmpdir: string | undefined;
}

/** Makes the run's scratch directory under the current temporary directory and points TMPDIR at it. */
export function startScratchRun(): ScratchRun {
    const previousTmpdir = process.env.TMPDIR;
    const dir = mkdtempSync(path.join(tmpdir(), "finbot-test-run-"));
    // Others may pass through but not list it: the PostgreSQL tests run the server as its own user.
    chmodSync(dir, 0o711);
    process.env.TMPDIR = dir;
    return { dir, previousTmpdir };
}

/** Removes the run's scratch directory and everything in it, and puts TMPDIR back. */
export function endScratchRun(run: ScratchRun): void {
    if (run.previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = run.previousTmpdir;
    rmSync(run.dir, { recursive: true, force: true, maxRetries: 3 });
}

let current: ScratchRun | undefined;

export function mochaGlobalSetup(): void {
    current = startScratchRun();
}

export function mochaGlobalTeardown(): void {
    if (current) endScratchRun(current);
    current = undefined;
}
