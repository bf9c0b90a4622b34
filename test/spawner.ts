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
// the spawner (test/spawnerProcess.cjs) with the same options, and hands back its result. Stays in
// the worker: a file descriptor or stream of the worker's own (beyond stdin, stdout and stderr,
// which the spawner shares), and an input over 1 MiB (passing it on costs more than a fork).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { deserialize, serialize } from "node:v8";

/** The normalized options child_process.spawnSync hands its binding. */
interface SpawnSyncOptions {
    cwd?: string;
    stdio: Array<{ type: string; fd?: number; input?: ArrayBufferView }>;
}
interface SpawnSyncBinding {
    spawn(options: SpawnSyncOptions): unknown;
}

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
    spawn(process.execPath, [path.join(__dirname, "spawnerProcess.cjs"), requestsPath, resultsPath], { stdio: "inherit" }).unref();
    // In the spawner's order: each open waits for the other end's.
    const requests = openSync(requestsPath, "w");
    const results = openSync(resultsPath, "r");
    rmSync(dir, { recursive: true, force: true });
    return { requests, results };
}

function readExactly(fd: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    for (let filled = 0; filled < length;) {
        const read = readSync(fd, buffer, filled, length - filled, null);
        if (read === 0) throw new Error("the test spawner (test/spawnerProcess.cjs) exited");
        filled += read;
    }
    return buffer;
}

/** One request, one result: 4 bytes of length, then a v8 serialization (Buffers, Infinity and undefined survive it). */
function callSpawner(spawner: Spawner, options: SpawnSyncOptions): unknown {
    const payload = serialize(options);
    const frame = Buffer.allocUnsafe(4 + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    payload.copy(frame, 4);
    for (let written = 0; written < frame.length;) written += writeSync(spawner.requests, frame, written);
    return deserialize(readExactly(spawner.results, readExactly(spawner.results, 4).readUInt32LE(0)));
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

/** Routes Node's spawnSync binding through the spawner; false (nothing changed) where this Node has no such binding. */
function installSpawner(): boolean {
    let binding: SpawnSyncBinding;
    try {
        // Deprecated for public use, and the one way to the binding child_process.spawnSync calls.
        binding = (process as unknown as { binding(name: string): SpawnSyncBinding }).binding("spawn_sync");
    } catch {
        return false;
    }
    if (typeof binding.spawn !== "function") return false;
    const spawnInWorker = binding.spawn.bind(binding);
    binding.spawn = (options) => {
        if (inWorker || !runsInSpawner(options)) return spawnInWorker(options);
        spawner ??= spawningInWorker(startSpawner);
        // A child starts where the worker is now, not where the spawner started.
        return callSpawner(spawner, { ...options, cwd: options.cwd ?? process.cwd() });
    };
    return true;
}

installSpawner();
