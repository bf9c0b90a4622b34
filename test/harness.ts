// The tests' view of the offline run: the committed stacks' runs, computed once per process.
import * as path from "node:path";
import { PROJECT_DIR, PlatformRun, loadStackConfig, loadStackFileConfig, runPlatform } from "../scripts/lib/offline";

export * from "../scripts/lib/offline";

const runs = new Map<string, Promise<PlatformRun>>();

/** The program run for a committed stack file, computed once per test process. */
export function runStack(stack: "dev" | "prod"): Promise<PlatformRun> {
    let run = runs.get(stack);
    if (!run) {
        const { config, key } = loadStackConfig(stack);
        run = runPlatform(config, stack, { key });
        runs.set(stack, run);
    }
    return run;
}

/** The program run for any stack file (a path in the project), computed once per test process. */
export function runStackFile(file: string): Promise<PlatformRun> {
    let run = runs.get(file);
    if (!run) {
        const { config, key } = loadStackFileConfig(file);
        run = runPlatform(config, path.basename(file, ".yaml"), { key });
        runs.set(file, run);
    }
    return run;
}

/** `derive` computed once per run: for a view of a run that a test file reads many times and never changes. */
export function perRun<T>(derive: (run: PlatformRun) => T): (run: PlatformRun) => T {
    const derived = new WeakMap<PlatformRun, T>();
    return (run) => {
        if (!derived.has(run)) derived.set(run, derive(run));
        return derived.get(run)!;
    };
}

/** Runs a script's `main` in-process, as its command line would, capturing what it prints. */
export async function runMain(
    main: (argv: string[], io: { cwd: string; out(line: string): void; err(line: string): void }) => Promise<number> | number,
    argv: string[],
    cwd = PROJECT_DIR,
): Promise<{ status: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const status = await main(argv, { cwd, out: (line) => out.push(line), err: (line) => err.push(line) });
    return { status, stdout: out.map((l) => `${l}\n`).join(""), stderr: err.map((l) => `${l}\n`).join("") };
}
