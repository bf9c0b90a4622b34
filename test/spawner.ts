// The tests' synchronous child processes (spawnSync, execFileSync, execSync) are started by a small
// process of each test worker's own, the spawner, not by the worker. Starting a process forks its
// parent: a test worker holds 300-400 MB, whose page tables are copied and whose memory is made
// copy-on-write, which the worker then pays for again on the pages it writes. On this project's CI
// machine a 400 MB Node process spent about 29 ms of CPU per spawnSync of /bin/true, 5 ms through
// a spawner; three of the process-heavy test files used 13% less CPU with it.
//
// The spawner runs exactly what the worker would have: Node's child_process.spawnSync validates
// and normalizes the options in the worker as always (lib/child_process.js), then calls its native
// binding, `spawn_sync`; this replaces that binding's `spawn` with a call to the same binding in
// the spawner (test/spawnerProcess.ts) with the same options, and hands back its result. Stays in
// the worker: a file descriptor or stream of the worker's own (beyond stdin, stdout and stderr,
// which the spawner shares), and an input over 1 MiB (passing it on costs more than a fork).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { SpawnSyncBinding, SpawnSyncOptions, readMessage, spawnSyncBinding, writeMessage } from "./spawnerCommon";

const PRELOAD = path.join(__dirname, "..", "scripts", "preload.cjs");
const SPAWNER_PROGRAM = path.join(__dirname, "spawnerProcess.ts");
/** stdin, stdout and stderr: the spawner inherits the worker's. */
const SHARED_FDS = 2;
const MAX_PASSED_INPUT = 2 ** 20;

/** Whether the spawner can run these options as the worker would. */
function runsInSpawner(options: SpawnSyncOptions): boolean {
    let input = 0;
    for (const stdio of options.stdio) {
        if (stdio.type === "fd" ? (stdio.fd ?? Infinity) > SHARED_FDS : stdio.type !== "pipe" && stdio.type !== "ignore") return false;
        input += stdio.input?.byteLength ?? 0;
    }
    return input <= MAX_PASSED_INPUT;
}

/** The worker's ends of the two FIFOs to its spawner. */
interface Spawner {
    requests: number;
    results: number;
}

function startSpawner(): Spawner {
    const dir = mkdtempSync(path.join(tmpdir(), "finbot-spawner-"));
    const [requestsPath, resultsPath] = ["requests", "results"].map((name) => path.join(dir, name));
    execFileSync("mkfifo", [requestsPath, resultsPath]);
    // Not waited for: it exits when the worker does (its requests FIFO ends).
    spawn(process.execPath, ["--require", PRELOAD, SPAWNER_PROGRAM, requestsPath, resultsPath], { stdio: "inherit" }).unref();
    // In the spawner's order: each open waits for the other end's.
    const requests = openSync(requestsPath, "w");
    const results = openSync(resultsPath, "r");
    rmSync(dir, { recursive: true, force: true });
    return { requests, results };
}

/** One request, one result. */
function callSpawner(spawner: Spawner, options: SpawnSyncOptions): unknown {
    writeMessage(spawner.requests, options);
    const result = readMessage(spawner.results);
    if (result === undefined) throw new Error("the test spawner (test/spawnerProcess.ts) exited");
    return result;
}

let spawner: Spawner | undefined;
/** Set while the worker must spawn itself: starting the spawner, or a test comparing with the worker's own spawn. */
let inWorker = false;

/** Runs `work` with its synchronous child processes started by the worker itself, as without the spawner. */
export function spawningInWorker<T>(work: () => T): T {
    const outer = inWorker;
    inWorker = true;
    try {
        return work();
    } finally {
        inWorker = outer;
    }
}

/** Routes Node's spawnSync binding through the spawner; where this Node has no such binding, the worker spawns as before. */
function installSpawner(): void {
    let binding: SpawnSyncBinding;
    try {
        binding = spawnSyncBinding();
    } catch {
        return;
    }
    if (typeof binding.spawn !== "function") return;
    const spawnInWorker = binding.spawn.bind(binding);
    binding.spawn = (options) => {
        if (inWorker || !runsInSpawner(options)) return spawnInWorker(options);
        spawner ??= spawningInWorker(startSpawner);
        // A child starts where the worker is now, not where the spawner started.
        return callSpawner(spawner, { ...options, cwd: options.cwd ?? process.cwd() });
    };
}

installSpawner();
