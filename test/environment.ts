// The environment a test run gives its workers, and through them the scripts, tools and servers
// they start. Mocha runs these global fixtures once, in its main process, before the workers
// start (they inherit the environment).
// - One scratch directory: TMPDIR points at a directory of the run's own (mkdtemp, mktemp and the
//   servers' data directories land there), removed when the run ends, whatever the tests left in
//   it (a PostgreSQL data directory is 54 MB).
// - Go's collector runs less often (GOGC=400) in the Go tools (promtool, prometheus, amtool,
//   alertmanager, redis_exporter): they live seconds, and with the default (100) promtool's SLO
//   scenarios spent a fifth of their CPU collecting garbage. A GOGC of the caller's own is kept.
// - The Go tools run their goroutines on one thread (GOMAXPROCS=1): their work is one evaluation
//   after another, and on a machine the test workers already keep busy, idle threads looking for
//   work only cost CPU (promtool's SLO scenarios: about 7% less). A GOMAXPROCS of the caller's own is kept.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** What a run's environment replaced, to put back. */
export interface TestRun {
    /** The run's scratch directory. */
    dir: string;
    previous: { TMPDIR: string | undefined; GOGC: string | undefined; GOMAXPROCS: string | undefined };
}

const GO_GC_PERCENT = "400";
const GO_THREADS = "1";

/** Makes the run's scratch directory under the current temporary directory and sets the run's environment. */
export function startTestRun(): TestRun {
    const previous = { TMPDIR: process.env.TMPDIR, GOGC: process.env.GOGC, GOMAXPROCS: process.env.GOMAXPROCS };
    const dir = mkdtempSync(path.join(tmpdir(), "finbot-test-run-"));
    // Others may pass through but not list it: the PostgreSQL tests run the server as its own user.
    chmodSync(dir, 0o711);
    process.env.TMPDIR = dir;
    process.env.GOGC ??= GO_GC_PERCENT;
    process.env.GOMAXPROCS ??= GO_THREADS;
    return { dir, previous };
}

/** Removes the run's scratch directory and everything in it, and puts the environment back. */
export function endTestRun(run: TestRun): void {
    for (const [name, value] of Object.entries(run.previous)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
    rmSync(run.dir, { recursive: true, force: true, maxRetries: 3 });
}

let current: TestRun | undefined;

export function mochaGlobalSetup(): void {
    current = startTestRun();
}

export function mochaGlobalTeardown(): void {
    if (current) endTestRun(current);
    current = undefined;
}
